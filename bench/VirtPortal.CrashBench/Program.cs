using System.Diagnostics;
using System.Globalization;
using VirtPortal.Recovery.Harness;

// Random kill/recover rounds against the real portal process on qemu:///system, with the crash harness
// of tests/VirtPortal.Recovery.Tests. Each round: a fresh portal, VMS tiny VMs submitted, SIGKILL at a
// random moment after the last submit, a restart that is SIGKILLed again at a random moment of its
// recovery (after it listens) in half of the rounds, then a restart left to recover, judged by virsh.
// Usage: dotnet run -c Release --project bench/VirtPortal.CrashBench [-- kills [vms [seed]]]
// Needs root (or libvirt access), a running libvirtd and the guest from scripts/build-test-guest.sh.
var kills = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
var vms = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var seed = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : Random.Shared.Next();
var random = new Random(seed);
var ct = CancellationToken.None;
var logDirectory = Path.Combine(AppContext.BaseDirectory, "recovery-logs");
Console.Error.WriteLine($"seed {seed}; logs in {logDirectory}");

var rounds = new List<Round>();
var clock = Stopwatch.StartNew();
while (rounds.Sum(r => r.Kills) < kills)
{
    var number = rounds.Count + 1;
    await using var scenario = await CrashScenario.CreateAsync($"bench-{number}", logDirectory, null, ct);
    scenario.Log.Say($"bench seed {seed}, round {number}");
    Round round;
    try
    {
        await scenario.StartAsync(null, ct);
        await scenario.SubmitAsync(vms, ct);
        await Task.Delay(random.Next(0, 2000), ct);
        await scenario.KillAsync("at random after the last submit", ct);
        if (random.Next(2) == 0 && rounds.Sum(r => r.Kills) + 1 < kills)
        {
            var restarted = scenario.Launch(null);
            await restarted.Listening.WaitAsync(CrashScenario.ReadyBound, ct);
            await Task.Delay(random.Next(0, 2000), ct);
            await scenario.KillAsync("at random while recovering", ct);
        }

        await scenario.StartAsync(null, ct);
        var recovery = await scenario.WaitForRecoveryAsync(ct);
        var problems = await scenario.VerifyAsync(ct);
        round = new Round(number, scenario.Kills.Count, recovery, problems, scenario.Log.Path);
    }
    catch (Exception e) when (e is TimeoutException or InvalidOperationException)
    {
        // A portal that never came back, or died while recovering: the round failed, the bench goes on.
        scenario.Log.Say($"round failed: {e.Message}");
        round = new Round(number, scenario.Kills.Count, null, [e.Message], scenario.Log.Path);
    }

    rounds.Add(round);
    Console.Error.WriteLine(round.Problems.Count == 0
        ? $"round {number}: {round.Kills} kills, recovered clean in {round.Recovery!.Value.TotalSeconds:0.0} s"
        : $"round {number}: {round.Kills} kills, NOT clean: {string.Join("; ", round.Problems)} (log {round.Log})");
}

var clean = rounds.Where(r => r.Problems.Count == 0).ToList();
var times = clean.Select(r => r.Recovery!.Value.TotalSeconds).Order().ToList();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{rounds.Sum(r => r.Kills)} kills in {rounds.Count} rounds of {vms} VMs (seed {seed}, {clock.Elapsed.TotalMinutes:0.0} min): "
    + $"{clean.Count} rounds recovered clean, {rounds.Count - clean.Count} not"));
if (times.Count > 0)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"recovery (last restart launched → every request closed): min {times[0]:0.0} s, median {times[times.Count / 2]:0.0} s, max {times[^1]:0.0} s"));
}

return clean.Count == rounds.Count ? 0 : 1;

internal sealed record Round(int Number, int Kills, TimeSpan? Recovery, IReadOnlyList<string> Problems, string Log);
