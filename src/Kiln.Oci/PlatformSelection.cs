using System.Diagnostics.CodeAnalysis;

namespace Kiln.Oci;

/// <summary>
/// Picks the image of one platform out of an image index, the way container runtimes do
/// (https://github.com/opencontainers/image-spec/blob/v1.1.1/image-index.md#platform-variants), and reads the
/// <c>os/architecture[/variant]</c> text Kiln's options take.
/// </summary>
/// <remarks>
/// Matching: <c>os</c> and <c>architecture</c> must be equal. A wanted variant must be equal too, except that arm64's
/// only variant, <c>v8</c>, is the same as none (indexes write <c>linux/arm64/v8</c> and <c>linux/arm64</c> alike). With
/// no wanted variant, an entry without a variant (or arm64's <c>v8</c>) is preferred, then the first entry of the
/// architecture, so that <c>linux/arm</c> still finds an index that lists only <c>linux/arm/v7</c>.
/// </remarks>
public static class PlatformSelection
{
    /// <summary>linux/amd64, the platform Kiln builds and reads when none is named.</summary>
    public static Platform LinuxAmd64 { get; } = new("amd64", "linux");

    /// <summary>Whether an index entry's <paramref name="candidate"/> platform serves <paramref name="wanted"/>.</summary>
    public static bool Matches(Platform candidate, Platform wanted)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(wanted);
        if (candidate.Os != wanted.Os || candidate.Architecture != wanted.Architecture)
        {
            return false;
        }

        return wanted.Variant is null || NormalVariant(candidate) == NormalVariant(wanted);
    }

    /// <summary>The entry of <paramref name="index"/> for <paramref name="wanted"/>, or null when it has none.</summary>
    public static Descriptor? Select(ImageIndex index, Platform wanted)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(wanted);
        var matching = index.Manifests.OrEmpty().Where(m => m.Platform is { } p && Matches(p, wanted)).ToList();
        return matching.FirstOrDefault(m => NormalVariant(m.Platform!) is null) ?? matching.FirstOrDefault();
    }

    /// <summary>The platforms an index offers, for a message: <c>linux/amd64, linux/arm64/v8</c>.</summary>
    public static string Available(ImageIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        var names = index.Manifests.OrEmpty().Select(m => m.Platform?.ToString() ?? "(an entry without a platform)").Distinct().ToList();
        return names.Count == 0 ? "no image at all" : string.Join(", ", names);
    }

    /// <summary>Whether an image config's <c>os</c> and <c>architecture</c> are those of <paramref name="wanted"/>.</summary>
    public static bool ConfigMatches(ImageConfig config, Platform wanted)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(wanted);
        return config.Os == wanted.Os && config.Architecture == wanted.Architecture;
    }

    /// <summary>Reads <c>os/architecture[/variant]</c> (for example <c>linux/arm64</c>); lower case, as OCI writes it.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Platform? platform, [NotNullWhen(false)] out string? error)
    {
        platform = null;
        var parts = (text ?? "").Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0 || !p.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '.' or '-')))
        {
            error = $"'{text}' is not a platform: write os/architecture[/variant] in lower case, for example linux/amd64 or linux/arm64.";
            return false;
        }

        platform = new Platform(parts[1], parts[0]) { Variant = parts.Length == 3 ? parts[2] : null };
        error = null;
        return true;
    }

    private static string? NormalVariant(Platform platform) =>
        platform.Architecture == "arm64" && platform.Variant == "v8" ? null : platform.Variant;
}
