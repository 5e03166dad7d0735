using System.Diagnostics;
using System.Globalization;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Run;

/// <summary>
/// One instance of an image under runc: started from a bundle, watched until its health check passes, and stopped
/// cleanly (SIGTERM, then SIGKILL after the grace period, then <c>runc delete</c>). Time comes from the injected
/// <see cref="TimeProvider"/>; nothing here reads the clock directly.
/// </summary>
public sealed class InstanceRunner : IDisposable
{
    private readonly string _runc;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private Process? _process;
    private bool _deleted;

    /// <summary>Prepares to run the bundle at <paramref name="bundleDirectory"/> as container <paramref name="containerId"/>.</summary>
    public InstanceRunner(string runc, string bundleDirectory, string containerId, RunSpec spec, TimeProvider time, Action<string> log)
    {
        _runc = runc;
        BundleDirectory = bundleDirectory;
        ContainerId = containerId;
        Spec = spec;
        _time = time;
        _log = log;
    }

    /// <summary>The bundle directory.</summary>
    public string BundleDirectory { get; }

    /// <summary>runc's container id.</summary>
    public string ContainerId { get; }

    /// <summary>What runs.</summary>
    public RunSpec Spec { get; }

    /// <summary>Whether the server's process has exited.</summary>
    public bool HasExited => _process is { HasExited: true };

    /// <summary>The exit code once it has exited.</summary>
    public int ExitCode => _process?.ExitCode ?? -1;

    /// <summary>Starts <c>runc run</c>; the server's output goes to <paramref name="output"/> line by line.</summary>
    public void Start(Action<string> output)
    {
        var start = new ProcessStartInfo(_runc) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[] { "run", "--bundle", BundleDirectory, ContainerId })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Tool.Start(start);
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { output(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.StandardInput.Close();
    }

    /// <summary>
    /// Waits until the health check passes. Without a health check, waits until the process is running. Throws
    /// KILN3023 when the server exits first and KILN3024 when <paramref name="deadline"/> (default: the check's
    /// start period plus every allowed failure) passes first.
    /// </summary>
    public async Task WaitHealthyAsync(TimeSpan? deadline, CancellationToken cancellation)
    {
        var health = Spec.Health;
        var limit = deadline ?? (health?.Deadline ?? TimeSpan.FromSeconds(5)) + TimeSpan.FromSeconds(5);
        var started = _time.GetTimestamp();
        var interval = health is null ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromMilliseconds(Math.Clamp(health.Interval.TotalMilliseconds, 100, 1000));
        string? lastFailure = null;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            if (HasExited)
            {
                await _process!.WaitForExitAsync(CancellationToken.None);
                throw new KilnException(DiagnosticCodes.InstanceExited, $"'{Spec.Reference}' exited with code {ExitCode} before it was healthy. Its output is shown above.");
            }

            if (health is null ? IsRunning() : (lastFailure = await CheckAsync(health, cancellation)) is null)
            {
                return;
            }

            if (_time.GetElapsedTime(started) > limit)
            {
                throw new KilnException(DiagnosticCodes.HealthCheckTimedOut, $"'{Spec.Reference}' did not become healthy within {limit.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s (last check: {lastFailure ?? "not running"}).");
            }

            await Task.Delay(interval, _time, cancellation);
        }
    }

    /// <summary>Runs the health check once: <see langword="null"/> when it passes, else why not.</summary>
    public async Task<string?> CheckAsync(RunHealthCheck health, CancellationToken cancellation)
    {
        var timeout = health.Timeout > TimeSpan.Zero ? health.Timeout : TimeSpan.FromSeconds(3);
        if (!health.Command.IsDefaultOrEmpty)
        {
            var (exitCode, output) = Tool.Run(_runc, ["exec", "--user", $"{Spec.Uid}:{Spec.Gid}", ContainerId, .. health.Command], timeout + TimeSpan.FromSeconds(5));
            return exitCode == 0 ? null : $"'{string.Join(' ', health.Command)}' exited {exitCode} {output.Trim()}";
        }

        // The instance shares the host's network namespace, so its loopback is ours.
        using var client = new HttpClient { Timeout = timeout };
        try
        {
            using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{health.Port}{health.Path}"), cancellation);
            var status = (int)response.StatusCode;
            return status is >= 200 and < 400 ? null : $"HTTP {status}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellation.IsCancellationRequested)
        {
            return e.Message;
        }
    }

    /// <summary>Runs a command inside the instance (as the spec's user) and returns its exit code and output.</summary>
    public (int ExitCode, string Output) Exec(params string[] command) =>
        Tool.Run(_runc, ["exec", "--user", $"{Spec.Uid}:{Spec.Gid}", ContainerId, .. command], TimeSpan.FromSeconds(30));

    private bool IsRunning()
    {
        var (exitCode, output) = Tool.Run(_runc, ["state", ContainerId], TimeSpan.FromSeconds(10));
        return exitCode == 0 && output.Contains("\"running\"", StringComparison.Ordinal);
    }

    /// <summary>Stops the instance: SIGTERM, up to <paramref name="grace"/> to exit, then SIGKILL; then deletes it.</summary>
    /// <returns>Whether it exited within the grace period.</returns>
    public async Task<bool> StopAsync(TimeSpan grace)
    {
        var clean = true;
        if (_process is { HasExited: false })
        {
            Tool.Run(_runc, ["kill", ContainerId, "TERM"], TimeSpan.FromSeconds(10));
            using var wait = new CancellationTokenSource(grace, _time);
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                clean = false;
                _log($"'{Spec.Reference}' did not stop within {grace.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s of SIGTERM; killing it");
                Tool.Run(_runc, ["kill", ContainerId, "KILL"], TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(CancellationToken.None);
            }
        }

        Delete();
        return clean;
    }

    private void Delete()
    {
        if (!_deleted)
        {
            _deleted = true;
            Tool.Run(_runc, ["delete", "--force", ContainerId], TimeSpan.FromSeconds(30));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Never leave a container behind, whatever happened above.
        if (_process is { HasExited: false })
        {
            Tool.Run(_runc, ["kill", ContainerId, "KILL"], TimeSpan.FromSeconds(10));
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        Delete();
        _process?.Dispose();
    }
}
