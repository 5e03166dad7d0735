using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Kiln.Tests.Shared;

/// <summary>
/// The judge of a linux/arm64 image on an x64 machine: unpacks the image's root file system with umoci (never Kiln's own
/// reader) and runs one of its programs under qemu-user, <c>qemu-aarch64-static -L ROOTFS PROGRAM ARGS</c>, so that the
/// program's loader and libraries come from the image. No binfmt_misc is needed. A run is bounded by a timeout and
/// killed by its process id. Needs qemu-aarch64-static (qemu-user-static) and umoci: without them <see cref="Require"/>
/// skips the test loudly (or fails it under KILN_REQUIRE_TOOLS=1) through <see cref="ToolPolicy"/>.
/// </summary>
internal sealed class QemuArm64
{
    private QemuArm64(string qemu, string umoci)
    {
        Qemu = qemu;
        Umoci = umoci;
    }

    /// <summary>The qemu-aarch64-static executable.</summary>
    public string Qemu { get; }

    /// <summary>The umoci executable.</summary>
    public string Umoci { get; }

    /// <summary>The judge, or a loud skip (a failure under KILN_REQUIRE_TOOLS=1) when qemu-aarch64-static or umoci is missing.</summary>
    public static QemuArm64 Require()
    {
        if (ToolPolicy.SkipReason("qemu-aarch64-static", "umoci") is { } reason)
        {
            ToolPolicy.Unavailable(reason.Replace("SKIPPED LOUDLY: ", "", StringComparison.Ordinal) + " (apt-get install qemu-user-static umoci)");
        }

        if (ToolPolicy.Find("qemu-aarch64-static") is not { } qemu || ToolPolicy.Find("umoci") is not { } umoci)
        {
            ToolPolicy.Unavailable("qemu-aarch64-static or umoci not installed (apt-get install qemu-user-static umoci).");
            throw new UnreachableException();
        }

        return new QemuArm64(qemu, umoci);
    }

    /// <summary>
    /// Unpacks the linux/arm64 image of <paramref name="reference"/> (a tag in the layout's index.json naming an image
    /// manifest, or an image index whose linux/arm64 entry is taken) into <paramref name="directory"/>/rootfs.
    /// </summary>
    /// <returns>The root file system's path.</returns>
    public string UnpackRootfs(string layoutDirectory, string reference, string directory)
    {
        var image = LayoutView.Of(layoutDirectory, reference, "arm64", Path.Combine(directory, "layout"));
        var rootfs = Path.Combine(directory, "rootfs");
        string[] rootless = Environment.UserName == "root" ? [] : ["--rootless"];
        var (code, output) = Run(Umoci, ["raw", "unpack", .. rootless, "--image", image, rootfs], TimeSpan.FromMinutes(5));
        if (code != 0)
        {
            throw new Xunit.Sdk.XunitException($"umoci raw unpack of {reference}'s linux/arm64 image exited {code}:\n{output}");
        }

        return rootfs;
    }

    /// <summary>
    /// Runs <paramref name="program"/> (a path inside <paramref name="rootfs"/>) under qemu-aarch64-static with the
    /// rootfs as its prefix, killing it (by process id) after <paramref name="timeout"/>.
    /// </summary>
    /// <returns>Its exit code (-1 when killed at the timeout) and its standard output and standard error together.</returns>
    public (int ExitCode, string Output) Run(string rootfs, string program, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var hostPath = Path.Combine(rootfs, program.TrimStart('/'));
        if (!File.Exists(hostPath))
        {
            throw new Xunit.Sdk.XunitException($"{program} is not in the unpacked image ({hostPath}).");
        }

        return Run(Qemu, ["-L", rootfs, hostPath, .. arguments], timeout, environment);
    }

    private static (int ExitCode, string Output) Run(string fileName, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, $"{Path.GetFileName(fileName)} killed after {timeout.TotalSeconds:0} s\n{stdout.Result}{stderr.Result}");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
