using System.Globalization;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Run;

/// <summary>
/// The machine's hard resource limits for the process that starts runc (from <c>/proc/self/limits</c>, read by the
/// edge). A container's rlimit above the hard limit makes runc fail with "error setting rlimit type 7: operation not
/// permitted" after the bundle is made, so <see cref="Fit"/> checks the spec's limits first.
/// </summary>
/// <param name="OpenFiles">The hard RLIMIT_NOFILE; null when unlimited or unknown.</param>
/// <param name="Processes">The hard RLIMIT_NPROC; null when unlimited or unknown.</param>
public sealed record HostLimits(long? OpenFiles, long? Processes)
{
    /// <summary>No known limit: nothing is checked (another OS, or /proc not mounted).</summary>
    public static HostLimits Unknown { get; } = new(null, null);

    /// <summary>Parses the text of <c>/proc/self/limits</c> (columns: limit name, soft, hard, units).</summary>
    public static HostLimits Parse(string procSelfLimits)
    {
        long? Hard(string name)
        {
            var line = procSelfLimits.Split('\n').FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal));
            var columns = line?[name.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return columns is { Length: >= 2 } && long.TryParse(columns[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
        }

        return new HostLimits(Hard("Max open files"), Hard("Max processes"));
    }

    /// <summary>
    /// The spec with limits the machine allows: unchanged when they fit; with <paramref name="clamp"/>, each limit
    /// above the hard limit lowered to it and a KILN5032 warning passed to <paramref name="warn"/>; otherwise a
    /// KILN5032 error naming the limit, the spec's value and the machine's.
    /// </summary>
    public RunSpec Fit(RunSpec spec, bool clamp, Action<KilnDiagnostic> warn)
    {
        var openFiles = spec.OpenFiles ?? RuntimeConfig.DefaultOpenFiles;
        var fitted = spec;
        if (OpenFiles is { } hardFiles && openFiles > hardFiles)
        {
            fitted = fitted with { OpenFiles = (int)Math.Min(int.MaxValue, hardFiles) };
            Report(spec.Reference, "open files (RLIMIT_NOFILE, Limits.OpenFiles)", openFiles, hardFiles, "ulimit -Hn", clamp, warn);
        }

        if (Processes is { } hardProcesses && spec.Processes is { } processes && processes > hardProcesses)
        {
            fitted = fitted with { Processes = (int)Math.Min(int.MaxValue, hardProcesses) };
            Report(spec.Reference, "processes (RLIMIT_NPROC, Limits.Processes)", processes, hardProcesses, "ulimit -Hu", clamp, warn);
        }

        return fitted;
    }

    private static void Report(string reference, string limit, long declared, long hard, string shell, bool clamp, Action<KilnDiagnostic> warn)
    {
        if (clamp)
        {
            warn(new KilnDiagnostic(DiagnosticCodes.RlimitAboveHardLimit, $"'{reference}' declares {limit} {declared}, above this machine's hard limit {hard} ({shell}); --clamp-rlimits runs it with {hard}. The image and its spec are unchanged: production still gets {declared}.", IsWarning: true));
            return;
        }

        throw new KilnException(DiagnosticCodes.RlimitAboveHardLimit, $"'{reference}' declares {limit} {declared}, above this machine's hard limit {hard} ({shell}), so runc could not start it (error setting rlimit: operation not permitted). Raise the hard limit for your user (limits.conf, systemd's LimitNOFILE/LimitNPROC, or the container's --ulimit), or run it locally anyway with 'kiln run {reference} --clamp-rlimits', which lowers the limit to {hard} with a warning.");
    }
}
