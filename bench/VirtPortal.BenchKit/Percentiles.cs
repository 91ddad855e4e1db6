namespace VirtPortal.BenchKit;

/// <summary>Nearest-rank percentiles of a sample (the value at rank ⌈p·n⌉), so every figure is one that was measured.</summary>
public sealed class Percentiles
{
    private readonly double[] sorted;

    public Percentiles(IEnumerable<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        sorted = [.. samples.Order()];
    }

    public int Count => sorted.Length;

    /// <summary>The p-th percentile (0 &lt; p ≤ 100); NaN for an empty sample.</summary>
    public double At(double p)
    {
        if (sorted.Length == 0)
            return double.NaN;
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    public double Min => sorted.Length == 0 ? double.NaN : sorted[0];

    public double Max => sorted.Length == 0 ? double.NaN : sorted[^1];
}
