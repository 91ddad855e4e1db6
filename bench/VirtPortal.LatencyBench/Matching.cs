namespace VirtPortal.LatencyBench;

/// <summary>One virsh suspend or resume: when the bench invoked virsh and when virsh returned (Unix ms).</summary>
internal sealed record Change(int Index, string Command, string Expected, string LibvirtEvent, double CalledMs, double ReturnedMs, int ExitCode, string Error);

/// <summary>What arrived for one change, each the first of its kind inside the change's window (null: missed).</summary>
internal sealed record Matched(Change Change, LibvirtEvent? Event, double? Pass, HubArrival? Hub, DomChange? Dom, int HubMessages)
{
    public double? CallToHub => Hub?.AtMs - Change.CalledMs;

    public double? CallToDom => Dom?.AtMs - Change.CalledMs;

    public double? EventToHub => Hub is null || Event is null ? null : Hub.AtMs - Event.AtMs;

    public double? EventToDom => Dom is null || Event is null ? null : Dom.AtMs - Event.AtMs;

    public double? CallToEvent => Event?.AtMs - Change.CalledMs;

    public double? EventToPass => Pass is null || Event is null ? null : Pass - Event.AtMs;

    public double? PassToHub => Pass is null || Hub is null ? null : Hub.AtMs - Pass;

    public double? HubToDom => Hub is null || Dom is null ? null : Dom.AtMs - Hub.AtMs;

    public double? DomToFrame => Dom?.FrameMs - Dom?.AtMs;

    public double VirshCall => Change.ReturnedMs - Change.CalledMs;
}

internal static class Matching
{
    /// <summary>
    /// A change's window runs from its virsh call to the next change's call (the last one: a few seconds on).
    /// The hub message carries no state (it says "re-read"), so the first <c>resourceChanged</c> of the VM in
    /// the window is this change's; the DOM's is the first chip change to the expected state; libvirt's the
    /// first event of the expected kind. virsh prints milliseconds, so an event may read up to 1 ms early.
    /// </summary>
    public static List<Matched> Match(IReadOnlyList<Change> changes, IReadOnlyList<LibvirtEvent> events, IReadOnlyList<HubArrival> hub, IReadOnlyList<DomChange> dom, IReadOnlyList<double> passes, double tailMs)
    {
        var result = new List<Matched>();
        for (var i = 0; i < changes.Count; i++)
        {
            var c = changes[i];
            var from = c.CalledMs;
            var to = i + 1 < changes.Count ? changes[i + 1].CalledMs : c.CalledMs + tailMs;
            var inWindow = hub.Where(h => h.AtMs >= from && h.AtMs < to).ToList();
            result.Add(new Matched(
                c,
                events.FirstOrDefault(e => e.AtMs >= Math.Floor(from) - 1 && e.AtMs < to && e.Event == c.LibvirtEvent),
                passes.Where(p => p >= from && p < to).Select(p => (double?)p).FirstOrDefault(),
                inWindow.FirstOrDefault(),
                dom.FirstOrDefault(d => d.AtMs >= from && d.AtMs < to && d.State == c.Expected),
                inWindow.Count));
        }

        return result;
    }
}
