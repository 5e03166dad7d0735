using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Kiln.Engine.Diagnostics;
using Kiln.Oci;

namespace Kiln.Engine.Run;

/// <summary>One platform's image behind a tag: its manifest, and the index it was chosen from (null for a plain manifest).</summary>
/// <param name="Platform">The image's platform, as its index descriptor (else its config) says.</param>
/// <param name="Descriptor">The image manifest's descriptor.</param>
/// <param name="Manifest">The image manifest.</param>
/// <param name="Index">The index the tag names, when it names one.</param>
public sealed record PlatformImage(Platform Platform, Descriptor Descriptor, ImageManifest Manifest, Descriptor? Index);

/// <summary>
/// A tag names an image manifest (one platform) or an image index (one manifest per platform, each descriptor with its
/// <c>platform</c>). Readers pick one platform out of it: the one asked for, else the machine's own. Platforms are
/// written <c>os/arch</c> (<c>linux/arm64</c>) everywhere.
/// </summary>
public static class ImagePlatforms
{
    /// <summary>Parses <c>os/arch</c> or <c>os/arch/variant</c> (<c>linux/arm64</c>, <c>linux/arm/v7</c>).</summary>
    /// <exception cref="KilnException">KILN5043 when the text is not of that form.</exception>
    public static Platform Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0 || !p.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
        {
            throw new KilnException(DiagnosticCodes.PlatformInvalid, $"'{text}' is not a platform: write it os/arch, for example --platform linux/amd64 or --platform linux/arm64.");
        }

        return new Platform(parts[1], parts[0]) { Variant = parts.Length == 3 ? parts[2] : null };
    }

    /// <summary>The platform a Linux machine of <paramref name="architecture"/> runs natively (linux/amd64 on x64).</summary>
    public static Platform Host(Architecture architecture) => new(architecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.X86 => "386",
        Architecture.Arm => "arm",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        Architecture.RiscV64 => "riscv64",
        Architecture.LoongArch64 => "loong64",
        _ => architecture.ToString().ToLowerInvariant(),
    }, "linux");

    /// <summary>Whether <paramref name="image"/> is <paramref name="wanted"/> (a platform without a variant matches any variant).</summary>
    public static bool Matches(Platform image, Platform wanted) =>
        image.Os == wanted.Os && image.Architecture == wanted.Architecture && (wanted.Variant is null || image.Variant == wanted.Variant);

    /// <summary>Every platform's image of the index <paramref name="index"/>, in the index's order (non-image entries such as attestations left out).</summary>
    /// <exception cref="OciFormatException">The index or a manifest is malformed or missing.</exception>
    public static ImmutableArray<PlatformImage> List(OciLayout layout, Descriptor index)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(index);
        return [.. layout.ReadImageIndex(index.Digest).Manifests
            .Where(m => !MediaTypes.IsIndex(m.MediaType) && m.Platform is not null && m.ArtifactType is null)
            .Select(m => new PlatformImage(m.Platform!, m, layout.ReadManifest(m.Digest), index))];
    }

    /// <summary>
    /// The image of <paramref name="tagged"/> for <paramref name="requested"/>, else for <paramref name="host"/>. A plain
    /// manifest is its own only platform (its config's).
    /// </summary>
    /// <param name="display">How the user named the image, for messages.</param>
    /// <exception cref="KilnException">KILN5042 when the image has no such platform (the message lists those it has).</exception>
    /// <exception cref="OciFormatException">The index or a manifest is malformed or missing.</exception>
    public static PlatformImage Select(OciLayout layout, Descriptor tagged, Platform? requested, Platform host, string display)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(tagged);
        ArgumentNullException.ThrowIfNull(host);
        if (!MediaTypes.IsIndex(tagged.MediaType))
        {
            var manifest = layout.ReadManifest(tagged.Digest);
            var config = layout.ReadConfig(manifest.Config.Digest);
            var platform = new Platform(config.Architecture, config.Os) { Variant = config.Variant };
            if (requested is not null && !Matches(platform, requested))
            {
                throw new KilnException(DiagnosticCodes.PlatformNotInImage, $"'{display}' is a single-platform image for {platform}, not {requested}. Leave --platform out, or build the spec for {requested}.");
            }

            return new PlatformImage(platform, tagged, manifest, null);
        }

        var images = List(layout, tagged);
        var wanted = requested ?? host;
        return images.FirstOrDefault(i => Matches(i.Platform, wanted))
            ?? throw new KilnException(DiagnosticCodes.PlatformNotInImage, requested is not null
                ? $"'{display}' has no image for {requested}; it has {Names(images)}. Pass one of them with --platform."
                : $"'{display}' has no image for this machine's platform ({host}); it has {Names(images)}. Pass one of them with --platform.");
    }

    private static string Names(ImmutableArray<PlatformImage> images) =>
        images.IsEmpty ? "no platform image" : string.Join(", ", images.Select(i => i.Platform.ToString()));
}
