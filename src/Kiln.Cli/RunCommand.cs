using System.CommandLine;
using System.Runtime.InteropServices;
using Kiln.Engine;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Run;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln run name:version [--layout DIR]</c>: unpacks the image into an OCI runtime bundle whose config applies what
/// the spec declared, runs it with runc, waits for its health check, and stops it cleanly on Ctrl-C or SIGTERM.
/// When the tag names a multi-platform index, runs this machine's platform (or --platform's); a linux/arm64 image on a
/// linux/amd64 machine runs only with --emulate (<see cref="RunEmulation"/>).
/// Exit code 0 after a clean stop, 16 when the instance cannot start or fails (KILN3020–3024, KILN5032, KILN5040–5043).
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var reference = new Argument<string>("image") { Description = "The image to run, name:version." };
        var layout = new Option<string>("--layout") { Description = "The OCI layout of the build.", DefaultValueFactory = _ => KilnDefaults.LayoutPath() };
        var bundle = new Option<string?>("--bundle") { Description = "Where to create the runtime bundle (default: a new temporary directory, removed afterwards)." };
        var name = new Option<string?>("--name") { Description = "runc's container id (default: kiln-<name>-<random>)." };
        var timeout = new Option<int?>("--timeout") { Description = "Seconds to wait for the health check (default: start period + retries × (interval + timeout) + 5)." };
        var grace = new Option<int>("--stop-timeout") { Description = "Seconds between SIGTERM and SIGKILL when stopping.", DefaultValueFactory = _ => 10 };
        var runc = new Option<string>("--runc") { Description = "The runc executable.", DefaultValueFactory = _ => "runc" };
        var umoci = new Option<string>("--umoci") { Description = "The umoci executable.", DefaultValueFactory = _ => "umoci" };
        var clamp = new Option<bool>("--clamp-rlimits") { Description = "Run with the machine's hard limit where the spec declares more open files or processes than it allows (a KILN5032 warning); for local runs only." };
        var platform = new Option<string?>("--platform") { Description = "The platform to run when the image has several, os/arch (default: this machine's, linux/amd64 on x64)." };
        var emulate = new Option<bool>("--emulate") { Description = "Run a linux/arm64 image on a linux/amd64 machine under qemu-aarch64-static (slow; for local checks only)." };
        var command = new Command("run", "Run one image locally under runc with what its spec declares, until Ctrl-C.")
        {
            reference, layout, bundle, name, timeout, grace, runc, umoci, clamp, platform, emulate,
        };
        // A synchronous action: System.CommandLine then installs no Ctrl-C handler of its own (which would end the process
        // after its termination timeout); the signal handlers below stop the instance instead.
        command.SetAction(result => Edge.Run(() => Run(
            result.GetValue(reference)!,
            Path.GetFullPath(result.GetValue(layout)!), // the engine is given absolute paths, never the current directory
            result.GetValue(bundle),
            result.GetValue(name),
            result.GetValue(timeout),
            TimeSpan.FromSeconds(result.GetValue(grace)),
            Resolve(result.GetValue(runc)!),
            Resolve(result.GetValue(umoci)!),
            result.GetValue(clamp),
            result.GetValue(platform),
            result.GetValue(emulate))));
        return command;
    }

    private static int Run(string reference, string layout, string? bundle, string? name, int? timeout, TimeSpan grace, string runc, string umoci, bool clampLimits, string? platform, bool emulate)
    {
        var platforms = new RunPlatformOptions(ImagePlatforms.Host(RuntimeInformation.OSArchitecture))
        {
            Requested = platform is null ? null : ImagePlatforms.Parse(platform),
            Emulate = emulate,
            Qemu = Find(RunEmulation.QemuArm64),
            Binfmt = BinfmtHandler.FindArm64(BinfmtDirectory),
            Status = line => Console.Error.WriteLine("kiln: " + line),
        };
        if (!reference.Contains(':', StringComparison.Ordinal))
        {
            throw new KilnException(DiagnosticCodes.ImageNotInLayout, $"'{reference}' is not name:version. Run for example 'kiln run shop-api:1.4.0'.");
        }

        var temporary = bundle is null;
        var bundleDirectory = Path.GetFullPath(bundle ?? Path.Combine(Path.GetTempPath(), "kiln-run-" + Guid.NewGuid().ToString("N")[..12]));
        var id = name ?? $"kiln-{reference[..reference.LastIndexOf(':')]}-{Guid.NewGuid().ToString("N")[..8]}";
        try
        {
            var host = MachineLimits();
            var spec = RuntimeBundle.Create(layout, reference, bundleDirectory, umoci, rootless: !Environment.IsPrivilegedProcess, fit: s => host.Fit(s, clampLimits, Edge.Print), platforms);
            Console.Error.WriteLine($"kiln: bundle {bundleDirectory} (user {spec.Uid}:{spec.Gid}, read-only root, {spec.Volumes.Length} writable volume(s), open files {spec.OpenFiles?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default"})");

            using var stop = new CancellationTokenSource();
            // Ctrl-C and SIGTERM both mean "stop the instance cleanly", not "kill kiln and leave the container running".
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
            void Cancel(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }

            using var instance = new InstanceRunner(runc, bundleDirectory, id, spec, TimeProvider.System, Edge.Status);
            instance.Start(line => Console.Out.WriteLine(line));
            try
            {
                instance.WaitHealthyAsync(timeout is { } seconds ? TimeSpan.FromSeconds(seconds) : null, stop.Token).GetAwaiter().GetResult();
                Console.Error.WriteLine($"kiln: {reference} is healthy as container {id}; Ctrl-C stops it");
                WaitHandle.WaitAny([stop.Token.WaitHandle, new ProcessExit(instance)]);
                if (!stop.IsCancellationRequested && instance.HasExited)
                {
                    throw new KilnException(DiagnosticCodes.InstanceExited, $"'{reference}' exited with code {instance.ExitCode} while running.");
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped before it was healthy: still a clean stop.
            }

            Console.Error.WriteLine($"kiln: stopping {id}");
            var clean = instance.StopAsync(grace).GetAwaiter().GetResult();
            Console.Error.WriteLine(clean ? $"kiln: {id} stopped" : $"kiln: {id} killed after {grace.TotalSeconds:0} s");
            return Edge.Ok;
        }
        finally
        {
            if (temporary && Directory.Exists(bundleDirectory))
            {
                Directory.Delete(bundleDirectory, recursive: true);
            }
        }
    }

    /// <summary>The hard limits runc inherits from this process (Linux's /proc/self/limits; elsewhere nothing is checked).</summary>
    private static HostLimits MachineLimits()
    {
        try
        {
            return File.Exists("/proc/self/limits") ? HostLimits.Parse(File.ReadAllText("/proc/self/limits")) : HostLimits.Unknown;
        }
        catch (IOException)
        {
            return HostLimits.Unknown;
        }
    }

    /// <summary>Where the kernel lists its binfmt_misc handlers (when binfmt_misc is mounted).</summary>
    private const string BinfmtDirectory = "/proc/sys/fs/binfmt_misc";

    /// <summary>A tool on PATH or in the sbin directories, where Debian installs runc; null when it is not installed.</summary>
    private static string? Find(string tool)
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/sbin", "/usr/bin"]);
        return directories.Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
    }

    /// <summary>A tool named without a path is looked up on PATH and in the sbin directories, where Debian installs runc.</summary>
    private static string Resolve(string tool)
    {
        if (tool.Contains('/', StringComparison.Ordinal))
        {
            return tool;
        }

        return Find(tool)
            ?? throw new KilnException(DiagnosticCodes.RuncNotFound, $"'{tool}' is not installed. Install it (apt-get install {tool}) or pass its path with --{tool}.");
    }

    /// <summary>A wait handle that is set when the instance's process exits.</summary>
    private sealed class ProcessExit : EventWaitHandle
    {
        public ProcessExit(InstanceRunner instance)
            : base(false, EventResetMode.ManualReset)
        {
            _ = Task.Run(async () =>
            {
                while (!instance.HasExited)
                {
                    await Task.Delay(200);
                }

                Set();
            });
        }
    }
}
