using System.Diagnostics;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.IO;
using Kiln.Oci;

namespace Kiln.Engine.Run;

/// <summary>
/// An OCI runtime bundle made from one image of a Kiln build: <c>rootfs/</c> unpacked by umoci (which applies
/// whiteouts, owners and modes exactly as the layers say) and a <c>config.json</c> generated from the spec by
/// <see cref="RuntimeConfig"/>, never umoci's generic one.
/// </summary>
public static class RuntimeBundle
{
    /// <summary>Unpacks <paramref name="reference"/> from <paramref name="layoutDirectory"/> into <paramref name="bundleDirectory"/>.</summary>
    /// <param name="umoci">The umoci executable.</param>
    /// <param name="rootless">Unpack without root (umoci --rootless): files are owned by the caller.</param>
    /// <param name="fit">
    /// Adjusts the spec read from the image before anything is unpacked (the machine's limits: <see cref="HostLimits.Fit"/>),
    /// so that a spec this machine cannot run fails at once; null runs it as declared.
    /// </param>
    /// <exception cref="KilnException">KILN3021 when the image or its manifest is missing, KILN3022 when unpacking fails.</exception>
    public static RunSpec Create(string layoutDirectory, string reference, string bundleDirectory, string umoci, bool rootless, Func<RunSpec, RunSpec>? fit = null)
    {
        OciLayout layout;
        try
        {
            layout = OciLayout.Open(layoutDirectory);
        }
        catch (Exception e) when (e is IOException or OciFormatException or UnauthorizedAccessException)
        {
            throw new KilnException(DiagnosticCodes.ImageNotInLayout, $"'{layoutDirectory}' is not an OCI layout ({e.Message}). Build the project, or pass --layout pointing at its bin/<Configuration>/kiln/oci directory.");
        }

        var spec = RunSpec.Load(layout, reference, out _);
        spec = fit?.Invoke(spec) ?? spec;
        var rootfs = Path.Combine(bundleDirectory, "rootfs");
        if (Directory.Exists(rootfs))
        {
            Directory.Delete(rootfs, recursive: true);
        }

        Directory.CreateDirectory(bundleDirectory);
        string[] arguments = ["raw", "unpack", .. rootless ? new[] { "--rootless" } : [], "--image", $"{Path.GetFullPath(layoutDirectory)}:{reference}", rootfs];
        var (exitCode, output) = Tool.Run(umoci, arguments, TimeSpan.FromMinutes(5));
        if (exitCode != 0)
        {
            throw new KilnException(DiagnosticCodes.BundleFailed, $"umoci could not unpack '{reference}' into '{rootfs}' (exit {exitCode}): {output.Trim()}");
        }

        // Mount points for the declared volumes must exist in the read-only root: runc cannot create them there.
        foreach (var volume in spec.Volumes)
        {
            Directory.CreateDirectory(Path.Combine(rootfs, volume.TrimStart('/')));
        }

        AtomicFile.Write(Path.Combine(bundleDirectory, "config.json"), RuntimeConfig.Create(spec));
        return spec;
    }
}

/// <summary>Runs a local tool to completion, capturing its output.</summary>
internal static class Tool
{
    public static (int ExitCode, string Output) Run(string fileName, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Start(start);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, $"{Path.GetFileName(fileName)} did not finish within {timeout.TotalSeconds:0} s");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public static Process Start(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start) ?? throw new KilnException(DiagnosticCodes.RuncNotFound, $"'{start.FileName}' could not be started.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new KilnException(DiagnosticCodes.RuncNotFound, $"'{start.FileName}' could not be started ({e.Message}). Install it (apt-get install runc umoci) or pass its path (--runc, --umoci).");
        }
    }
}
