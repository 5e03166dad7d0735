using System.Diagnostics;
using System.Text;

namespace Kiln.Tests.Shared;

/// <summary>
/// A private containerd for one test, the judge of what containerd accepts: its root, state, sockets and config under a
/// temp directory (<c>containerd --config DIR/config.toml</c>), no CRI plugin and no systemd, stopped by its own process
/// id at dispose. <see cref="Import"/>, <see cref="Images"/> and <see cref="Content"/> are what tests assert on. Needs containerd, ctr and root; without them
/// <see cref="Start"/> skips the test loudly (or fails it under KILN_REQUIRE_TOOLS=1) through <see cref="ToolPolicy"/>.
/// </summary>
internal sealed class ContainerdDaemon : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(300);

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ContainerdDaemon(string directory)
    {
        Directory = directory;
        string config = Path.Combine(directory, "config.toml");
        File.WriteAllText(config, $"""
            version = 2
            root = "{directory}/root"
            state = "{directory}/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "{Address}"
            [ttrpc]
              address = "{Address}.ttrpc"
            [plugins."io.containerd.internal.v1.opt"]
              path = "{directory}/opt"
            """);
        var start = new ProcessStartInfo("containerd", ["--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("containerd did not start.");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The temp directory holding everything of this daemon.</summary>
    public string Directory { get; }

    /// <summary>The daemon's gRPC socket (kept short: a Unix socket path is limited to 108 bytes).</summary>
    public string Address => Path.Combine(Directory, "c.sock");

    /// <summary>What the daemon logged so far, for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts a daemon and waits (bounded) until it answers.</summary>
    public static ContainerdDaemon Start()
    {
        ToolPolicy.Require("containerd", "containerd");
        ToolPolicy.Require("ctr", "containerd");

        if (Environment.UserName != "root")
        {
            ToolPolicy.Unavailable("containerd needs root (its snapshotters mount and chown).");
        }

        string directory = Path.Combine("/tmp", "kiln-ctd-" + Guid.NewGuid().ToString("N")[..10]);
        System.IO.Directory.CreateDirectory(directory);
        var daemon = new ContainerdDaemon(directory);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (daemon._process.HasExited)
            {
                var log = daemon.Log;
                daemon.Dispose();
                throw new Xunit.Sdk.XunitException($"containerd exited with {daemon._process.ExitCode} at start:\n{log}");
            }

            if (File.Exists(daemon.Address) && daemon.TryCtr(["version"]).Code == 0)
            {
                return daemon;
            }

            if (waited.Elapsed > StartTimeout)
            {
                var log = daemon.Log;
                daemon.Dispose();
                throw new Xunit.Sdk.XunitException($"containerd did not answer within {StartTimeout.TotalSeconds} s:\n{log}");
            }

            Thread.Sleep(200);
        }
    }

    /// <summary>Runs <c>ctr --address … --namespace kiln-tests ARGS</c>; fails the test on a non-zero exit.</summary>
    public string Ctr(params string[] args)
    {
        var (code, output) = TryCtr(args);
        if (code != 0)
        {
            throw new Xunit.Sdk.XunitException($"ctr {string.Join(' ', args)} exited {code}:\n{output}\ncontainerd log:\n{Log}");
        }

        return output;
    }

    /// <summary>
    /// Imports an OCI (or docker) archive with every platform's content (<c>ctr image import --all-platforms</c>) under the
    /// name its index gives (Kiln's <c>name:version</c>), or <paramref name="baseName"/>:TAG for an archive whose index
    /// names only a tag (<c>--base-name</c>, which prefixes every name); unpacks the host's platform with the native
    /// snapshotter (overlayfs needs mounts this machine may refuse). Fails the test when ctr refuses the archive.
    /// </summary>
    /// <returns>ctr's output (one line per imported image).</returns>
    public string Import(string archive, string? baseName = null) =>
        Ctr(["images", "import", "--all-platforms", "--snapshotter", "native", .. baseName is null ? Array.Empty<string>() : ["--base-name", baseName], archive]);

    /// <summary>
    /// The images this daemon holds (<c>ctr image ls</c>): name, target digest and the platforms containerd found under
    /// it (its PLATFORMS column, split at commas).
    /// </summary>
    public IReadOnlyList<(string Name, string Digest, IReadOnlyList<string> Platforms)> Images()
    {
        // Columns: REF TYPE DIGEST SIZE PLATFORMS LABELS; SIZE is two words ("1.2 KiB").
        var lines = Ctr("images", "ls").Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1);
        return [.. lines.Select(line => line.Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length >= 6)
            .Select(f => (f[0], f[2], (IReadOnlyList<string>)f[5].Split(',', StringSplitOptions.RemoveEmptyEntries)))];
    }

    /// <summary>The digests of every blob in the daemon's content store (<c>ctr content ls -q</c>).</summary>
    public IReadOnlySet<string> Content() =>
        Ctr("content", "ls", "-q").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);

    /// <summary>Runs ctr against this daemon, bounded by a timeout; returns its exit code and combined output.</summary>
    public (int Code, string Output) TryCtr(params string[] args)
    {
        var start = new ProcessStartInfo("ctr", ["--address", Address, "--namespace", "kiln-tests", .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var ctr = Process.Start(start) ?? throw new InvalidOperationException("ctr did not start.");
        var stderr = ctr.StandardError.ReadToEndAsync();
        var stdout = ctr.StandardOutput.ReadToEndAsync();
        if (!ctr.WaitForExit(CommandTimeout))
        {
            ctr.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"ctr {string.Join(' ', args)} did not finish within {CommandTimeout.TotalSeconds} s.");
        }

        ctr.WaitForExit();
        return (ctr.ExitCode, stdout.Result + stderr.Result);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(30));
        }

        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A snapshot still mounted (a failed test) keeps its directory; the temp directory is left to the OS.
        }
        catch (UnauthorizedAccessException)
        {
            // as above
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
