using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;
using Kiln.Oci;

namespace Kiln.Engine.Run;

/// <summary>A health check as the Kiln manifest records it.</summary>
/// <param name="Command">The program and arguments of a command check, or empty for an HTTP check.</param>
/// <param name="Port">The port of an HTTP check.</param>
/// <param name="Path">The path of an HTTP check.</param>
public sealed record RunHealthCheck(ImmutableArray<string> Command, int Port, string? Path, TimeSpan Interval, TimeSpan Timeout, TimeSpan StartPeriod, int Retries)
{
    /// <summary>How long the instance has to become healthy: the start period plus every allowed failure.</summary>
    public TimeSpan Deadline => StartPeriod + (Interval + Timeout) * Retries;
}

/// <summary>
/// What running one image needs, from its image config (program, environment, working directory) and its Kiln manifest
/// (account, limits, writable volumes, health check): exactly what the spec declared, nothing from the host.
/// </summary>
public sealed record RunSpec
{
    /// <summary>name:version.</summary>
    public required string Reference { get; init; }
    /// <summary>The image name.</summary>
    public required string Name { get; init; }
    /// <summary>The spec's account uid.</summary>
    public required int Uid { get; init; }
    /// <summary>The spec's account gid.</summary>
    public required int Gid { get; init; }
    /// <summary>Entrypoint followed by the default arguments (the image config's Entrypoint + Cmd).</summary>
    public required ImmutableArray<string> Args { get; init; }
    /// <summary>The image's environment, NAME=value.</summary>
    public required ImmutableArray<string> Environment { get; init; }
    /// <summary>The working directory.</summary>
    public required string WorkingDirectory { get; init; }
    /// <summary>RLIMIT_NOFILE, when declared.</summary>
    public int? OpenFiles { get; init; }
    /// <summary>RLIMIT_NPROC, when declared.</summary>
    public int? Processes { get; init; }
    /// <summary>The only writable paths.</summary>
    public required ImmutableArray<string> Volumes { get; init; }
    /// <summary>The health check, if declared.</summary>
    public RunHealthCheck? Health { get; init; }
    /// <summary>The host path of the emulator bind-mounted into the container (<see cref="RunEmulation"/>), or null to run natively.</summary>
    public string? Emulator { get; init; }

    /// <summary>Reads the image config from <paramref name="layout"/> and the Kiln manifest beside it (<c>../manifests/</c>).</summary>
    public static RunSpec Load(OciLayout layout, string reference, out Descriptor manifestDescriptor)
    {
        manifestDescriptor = Find(layout, reference);
        return Load(layout, reference, layout.ResolveManifest(manifestDescriptor).Manifest);
    }

    /// <summary>The index entry tagged <paramref name="reference"/> (an image manifest or an image index).</summary>
    /// <exception cref="KilnException">KILN3021 when the layout has no such tag.</exception>
    public static Descriptor Find(OciLayout layout, string reference) =>
        layout.FindManifest(reference)
            ?? throw new KilnException(DiagnosticCodes.ImageNotInLayout, $"'{reference}' is not in the layout '{layout.Root}'. Build it first, or pass --layout pointing at the build's kiln/oci directory.");

    /// <summary>
    /// Reads the image config of <paramref name="manifest"/> (one platform's image of <paramref name="reference"/>) and the
    /// Kiln manifest of <paramref name="reference"/> beside the layout.
    /// </summary>
    public static RunSpec Load(OciLayout layout, string reference, ImageManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(manifest);
        var config = layout.ReadConfig(manifest.Config.Digest).Config;
        var separator = reference.LastIndexOf(':');
        var name = reference[..separator];
        var kilnManifest = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(layout.Root).TrimEnd('/'))!, "manifests", $"{name}-{reference[(separator + 1)..]}.json");
        if (!File.Exists(kilnManifest))
        {
            throw new KilnException(DiagnosticCodes.ImageNotInLayout, $"The Kiln manifest of '{reference}' ({kilnManifest}) is missing: kiln run applies what the spec declared (account, limits, volumes, health check), which only the manifest records. Run it from a Kiln build's kiln/oci directory.");
        }

        // A multi-platform server's manifest has a section per platform: the one whose image config this is.
        var file = Manifests.KilnManifestFile.Load(kilnManifest);
        var section = file.Platforms.Length == 1
            ? file.Platforms[0]
            : file.Platforms.FirstOrDefault(p => p.Content.Config.Digest == manifest.Config.Digest)
                ?? throw Manifests.KilnManifestFile.Invalid(kilnManifest, $"it has no platform section for the image config {manifest.Config.Digest} of '{reference}' (it has {string.Join(", ", file.Platforms.Select(p => p.Platform))})");
        var settings = section.Content.Settings;
        return new RunSpec
        {
            Reference = reference,
            Name = name,
            Uid = checked((int)settings.Account.Uid),
            Gid = checked((int)settings.Account.Gid),
            Args = [.. config.Entrypoint, .. config.Cmd],
            Environment = config.Env.IsDefaultOrEmpty ? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] : config.Env,
            WorkingDirectory = string.IsNullOrEmpty(config.WorkingDir) ? "/" : config.WorkingDir,
            OpenFiles = settings.Limits.OpenFiles is { } openFiles ? checked((int)openFiles) : null,
            Processes = settings.Limits.Processes is { } processes ? checked((int)processes) : null,
            Volumes = settings.Volumes,
            Health = settings.Health is { } h ? ReadHealth(h) : null,
        };
    }

    private static RunHealthCheck ReadHealth(Manifests.ManifestHealth h)
    {
        var http = h.Kind == "http";
        return new RunHealthCheck(
            http ? [] : h.Command,
            http ? checked((int)(h.Port ?? 0)) : 0,
            http ? h.Path : null,
            TimeSpan.FromSeconds(h.IntervalSeconds),
            TimeSpan.FromSeconds(h.TimeoutSeconds),
            TimeSpan.FromSeconds(h.StartPeriodSeconds),
            checked((int)h.Retries));
    }
}
