using System.Collections.Immutable;
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
    /// <param name="platform">
    /// Which platform's image to run when the tag names an index, and how a foreign one may run; null: linux/amd64,
    /// natively only.
    /// </param>
    /// <exception cref="KilnException">KILN3021 when the image or its manifest is missing, KILN3022 when unpacking fails,
    /// KILN5040–5042 when the platform cannot be chosen or run (<see cref="ImagePlatforms"/>, <see cref="RunEmulation"/>).</exception>
    public static RunSpec Create(string layoutDirectory, string reference, string bundleDirectory, string umoci, bool rootless, Func<RunSpec, RunSpec>? fit = null, RunPlatformOptions? platform = null)
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

        platform ??= new RunPlatformOptions(new Platform("amd64", "linux"));
        var tagged = RunSpec.Find(layout, reference);
        PlatformImage image;
        ImmutableArray<Platform> available;
        try
        {
            image = ImagePlatforms.Select(layout, tagged, platform.Requested, platform.Host, reference);
            available = image.Index is null ? [image.Platform] : [.. ImagePlatforms.List(layout, tagged).Select(i => i.Platform)];
        }
        catch (OciFormatException e)
        {
            throw new KilnException(DiagnosticCodes.ImageNotInLayout, $"'{reference}' in '{layoutDirectory}' cannot be read: {e.Message}");
        }

        var emulation = RunEmulation.Decide(image.Platform, platform.Host, reference, available, platform.Emulate, platform.Qemu, platform.Binfmt);
        if (image.Index is not null || emulation.Kind != EmulationKind.Native)
        {
            platform.Status?.Invoke($"{emulation.Describe(image.Platform)} ({image.Descriptor.Digest})");
        }

        var spec = emulation.Apply(RunSpec.Load(layout, reference, image.Manifest));
        spec = fit?.Invoke(spec) ?? spec;
        var rootfs = Path.Combine(bundleDirectory, "rootfs");
        if (Directory.Exists(rootfs))
        {
            Directory.Delete(rootfs, recursive: true);
        }

        Directory.CreateDirectory(bundleDirectory);
        Unpack(layoutDirectory, reference, image, rootfs, bundleDirectory, umoci, rootless);

        // Mount points for the declared volumes must exist in the read-only root: runc cannot create them there.
        foreach (var volume in spec.Volumes)
        {
            Directory.CreateDirectory(Path.Combine(rootfs, volume.TrimStart('/')));
        }

        if (spec.Emulator is not null)
        {
            // The same for the emulator's bind mount, which needs a file to mount over.
            var target = Path.Combine(rootfs, RunEmulation.ContainerPath.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, []);
        }

        AtomicFile.Write(Path.Combine(bundleDirectory, "config.json"), RuntimeConfig.Create(spec));
        return spec;
    }

    /// <summary>
    /// umoci unpacks a tag that names one image manifest (it refuses an index with several, as ambiguous). An image of an
    /// index is given to it through a view of the layout made for this run: the same blobs (a symbolic link, nothing
    /// copied, the build's layout untouched) and an index.json that tags only the chosen manifest.
    /// </summary>
    private static void Unpack(string layoutDirectory, string reference, PlatformImage image, string rootfs, string bundleDirectory, string umoci, bool rootless)
    {
        var source = $"{Path.GetFullPath(layoutDirectory)}:{reference}";
        var view = Path.Combine(bundleDirectory, "layout");
        if (image.Index is not null)
        {
            if (Directory.Exists(view))
            {
                Directory.Delete(view, recursive: true);
            }

            Directory.CreateDirectory(view);
            File.Copy(Path.Combine(layoutDirectory, OciLayout.LayoutFileName), Path.Combine(view, OciLayout.LayoutFileName));
            Directory.CreateSymbolicLink(Path.Combine(view, "blobs"), Path.Combine(Path.GetFullPath(layoutDirectory), "blobs"));
            var tagged = (image.Descriptor with { Platform = null, Annotations = null }).WithAnnotation(AnnotationKeys.RefName, "run");
            File.WriteAllBytes(Path.Combine(view, OciLayout.IndexFileName), new ImageIndex { Manifests = [tagged] }.ToJson());
            source = $"{view}:run";
        }

        try
        {
            string[] arguments = ["raw", "unpack", .. rootless ? new[] { "--rootless" } : [], "--image", source, rootfs];
            var (exitCode, output) = Tool.Run(umoci, arguments, TimeSpan.FromMinutes(5));
            if (exitCode != 0)
            {
                throw new KilnException(DiagnosticCodes.BundleFailed, $"umoci could not unpack '{reference}' ({image.Platform}) into '{rootfs}' (exit {exitCode}): {output.Trim()}");
            }
        }
        finally
        {
            if (image.Index is not null)
            {
                Directory.Delete(view, recursive: true);
            }
        }
    }
}

/// <summary>Which platform of a multi-platform image <c>kiln run</c> picks, and whether it may emulate another architecture.</summary>
/// <param name="Host">This machine's platform (the default choice; linux/amd64 on x64).</param>
public sealed record RunPlatformOptions(Platform Host)
{
    /// <summary>The platform asked for (--platform), or null for <see cref="Host"/>.</summary>
    public Platform? Requested { get; init; }

    /// <summary>Whether an image the machine cannot run natively may run under emulation (--emulate).</summary>
    public bool Emulate { get; init; }

    /// <summary>The host path of qemu-aarch64-static, or null when it is not installed.</summary>
    public string? Qemu { get; init; }

    /// <summary>The machine's aarch64 binfmt_misc handler (<see cref="BinfmtHandler.FindArm64"/>), or null.</summary>
    public BinfmtHandler? Binfmt { get; init; }

    /// <summary>Where a line on the chosen platform and emulation goes.</summary>
    public Action<string>? Status { get; init; }
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
