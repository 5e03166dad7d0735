using System.Collections.Immutable;
using System.Text.Json;
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

        using var document = JsonDocument.Parse(File.ReadAllBytes(kilnManifest));
        var settings = document.RootElement.GetProperty("content").GetProperty("settings");
        var account = settings.GetProperty("account");
        var limits = settings.TryGetProperty("limits", out var l) ? l : default;
        return new RunSpec
        {
            Reference = reference,
            Name = name,
            Uid = account.GetProperty("uid").GetInt32(),
            Gid = account.GetProperty("gid").GetInt32(),
            Args = [.. config.Entrypoint, .. config.Cmd],
            Environment = config.Env.IsDefaultOrEmpty ? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] : config.Env,
            WorkingDirectory = string.IsNullOrEmpty(config.WorkingDir) ? "/" : config.WorkingDir,
            OpenFiles = limits.ValueKind == JsonValueKind.Object && limits.TryGetProperty("openFiles", out var o) ? o.GetInt32() : null,
            Processes = limits.ValueKind == JsonValueKind.Object && limits.TryGetProperty("processes", out var p) ? p.GetInt32() : null,
            Volumes = settings.TryGetProperty("volumes", out var v) ? [.. v.EnumerateArray().Select(x => x.GetString()!)] : [],
            Health = settings.TryGetProperty("health", out var h) && h.ValueKind == JsonValueKind.Object ? ReadHealth(h) : null,
        };
    }

    private static RunHealthCheck ReadHealth(JsonElement h)
    {
        static TimeSpan Seconds(JsonElement e, string name) => TimeSpan.FromSeconds(e.TryGetProperty(name, out var v) ? v.GetDouble() : 0);
        var http = h.GetProperty("kind").GetString() == "http";
        return new RunHealthCheck(
            http ? [] : [.. h.GetProperty("command").EnumerateArray().Select(x => x.GetString()!)],
            http ? h.GetProperty("port").GetInt32() : 0,
            http ? h.GetProperty("path").GetString() : null,
            Seconds(h, "intervalSeconds"),
            Seconds(h, "timeoutSeconds"),
            Seconds(h, "startPeriodSeconds"),
            h.TryGetProperty("retries", out var r) ? r.GetInt32() : 3);
    }
}
