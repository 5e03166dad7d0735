using Microsoft.Extensions.Time.Testing;

namespace Kiln.Tests.Shared;

/// <summary>
/// Fake time in which every wait ends at once: a timer (a retry's Task.Delay) moves the clock forward by its due time
/// as soon as it is created, and fires. Retry tests then take no real seconds, and still see exactly how long the
/// code under test asked to wait (<see cref="Waits"/>, and the clock's elapsed time that its budget is measured on).
/// </summary>
internal sealed class InstantTimeProvider : FakeTimeProvider
{
    private readonly List<TimeSpan> _waits = [];

    public InstantTimeProvider()
        : base(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    /// <summary>Every wait asked for, in order.</summary>
    public IReadOnlyList<TimeSpan> Waits
    {
        get
        {
            lock (_waits)
            {
                return [.. _waits];
            }
        }
    }

    /// <summary>The sum of the waits.</summary>
    public TimeSpan Waited => Waits.Aggregate(TimeSpan.Zero, (a, b) => a + b);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (_waits)
            {
                _waits.Add(dueTime);
            }

            // After CreateTimer returned: the caller (Task.Delay) must hold its timer before it fires.
            ThreadPool.QueueUserWorkItem(_ => Advance(dueTime));
        }

        return timer;
    }
}
