using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Manifests;

/// <summary>One line of an inventory file, as read back.</summary>
/// <param name="Type">f (file), d (directory), l (symlink) or s (device or FIFO).</param>
/// <param name="Mode">The permission bits (0..07777).</param>
/// <param name="Sha256">Lowercase hex of a file's content, else null.</param>
/// <param name="Link">A symlink's target, else null.</param>
public sealed record InventoryEntry(string Path, char Type, int Mode, long Uid, long Gid, long Size, string? Sha256, string? Link);

/// <summary>One OS package a manifest lists.</summary>
public sealed record ManifestPackage(string Name, string Version, string Architecture)
{
    /// <summary>Lowercase hex SHA-256 of the .deb the package was unpacked from.</summary>
    public string Sha256 { get; init; } = "";
}

/// <summary>
/// One platform image's view of a Kiln manifest file (<see cref="KilnManifestFile"/>), for the verbs that operate on
/// artifacts: diff, verify, query, history, outdated. A single-platform server's file is one such view; a
/// multi-platform server's is one per platform section.
/// </summary>
public sealed class ManifestDocument
{
    private JsonElement? _settingsTree;
    private JsonElement? _contentTree;

    private ManifestDocument(string path, KilnManifestFile file, ManifestPlatformSection section)
    {
        Path = path;
        File = file;
        Section = section;
    }

    /// <summary>The image's platform (os/arch) when it is one platform's of a multi-platform server; null for a single-platform server's.</summary>
    public string? Platform => Section.Platform;

    /// <summary>How diffs and queries name the image: the server's name, with the platform for one platform of several (<c>multi (linux/arm64)</c>).</summary>
    public string DisplayName => Platform is null ? Name : $"{Name} ({Platform})";

    /// <summary>Where the manifest was read from.</summary>
    public string Path { get; }

    /// <summary>The whole file this view is a section of.</summary>
    public KilnManifestFile File { get; }

    /// <summary>This image's section of the file.</summary>
    public ManifestPlatformSection Section { get; }

    /// <summary>The reproducible content section.</summary>
    public ManifestContent Content => Section.Content;

    public string Name => Content.Name;

    public string Version => Content.Version;

    /// <summary>The image manifest digest.</summary>
    public string ImageDigest => Content.Image.Digest.ToString();

    /// <summary>The digest the lock records for the server: its index's for a multi-platform server, else its image's.</summary>
    public string ServerDigest => (File.Index?.Digest ?? Content.Image.Digest).ToString();

    public string? ContentDigest => Section.ContentDigest.ToString();

    /// <summary><c>name:version</c>.</summary>
    public string Reference => $"{Name}:{Version}";

    /// <summary>The resolved settings (user, ports, limits…).</summary>
    public ManifestSettings Settings => Content.Settings;

    /// <summary>The settings as a JSON tree (canonical, from the model), for the verbs that walk every setting generically (diff, query).</summary>
    public JsonElement SettingsTree => _settingsTree ??= Tree(Settings.ToJson());

    /// <summary>The content section as a JSON tree (canonical, from the model), for query paths outside the settings (base.digest).</summary>
    public JsonElement ContentTree => _contentTree ??= Tree(Content.ToJson());

    /// <summary>The parent version the lock knew when the manifest was written.</summary>
    public string? ParentVersion => File.Lineage.ParentVersion;

    /// <summary>Paths the spec declares writable: their contents are the instance's own, never drift.</summary>
    public ImmutableArray<string> Volumes => Settings.Volumes;

    public ImmutableArray<ManifestPackage> Packages => Content.Packages;

    private static JsonElement Tree(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>Reads a Kiln manifest's first (for a single-platform server, only) platform section; see <see cref="LoadPlatforms"/>.</summary>
    public static ManifestDocument Load(string path) => LoadPlatforms(path)[0];

    /// <summary>Reads a Kiln manifest, one view per platform section in the file's order (KILN2070 when it is not a Kiln manifest, KILN5022 naming a bad field).</summary>
    public static ImmutableArray<ManifestDocument> LoadPlatforms(string path)
    {
        if (!System.IO.File.Exists(path))
        {
            throw new KilnException(DiagnosticCodes.ArtifactNotFound, $"The manifest '{path}' does not exist. Pass a manifests/<name>-<version>.json file from a Kiln build's output (bin/<Configuration>/kiln/).");
        }

        var file = KilnManifestFile.Load(path);
        return [.. file.Platforms.Select(section => new ManifestDocument(path, file, section))];
    }

    /// <summary>The inventory file next to the manifest (../inventory/…), as the manifest names it.</summary>
    public string InventoryPath
    {
        get
        {
            var relative = Content.Inventory.Path;
            var artifacts = System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path)))!;
            return System.IO.Path.Combine(artifacts, relative);
        }
    }

    /// <summary>
    /// Reads the inventory and checks it against the digest the manifest records (KILN2071 when they disagree): a
    /// baseline that was edited would make every verdict meaningless.
    /// </summary>
    public IReadOnlyDictionary<string, InventoryEntry> LoadInventory(string? inventoryPath = null)
    {
        var path = inventoryPath ?? InventoryPath;
        if (!System.IO.File.Exists(path))
        {
            throw new KilnException(DiagnosticCodes.ArtifactNotFound, $"The inventory '{path}' that the manifest '{Path}' names does not exist. Keep the build's inventory/ directory beside manifests/.");
        }

        var bytes = System.IO.File.ReadAllBytes(path);
        var expected = Content.Inventory.Digest.ToString();
        var actual = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
        {
            throw new KilnException(DiagnosticCodes.InventoryDigestMismatch, $"The inventory '{path}' has digest {actual}, but the manifest '{Path}' records {expected}: the baseline was changed or belongs to another build. Use the inventory from the same build as the manifest.");
        }

        return ParseInventory(Encoding.UTF8.GetString(bytes));
    }

    internal static Dictionary<string, InventoryEntry> ParseInventory(string text)
    {
        var result = new Dictionary<string, InventoryEntry>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var f = line.Split('\t');
            if (f.Length < 8)
            {
                continue;
            }

            var path = Unescape(f[0]);
            result[path] = new InventoryEntry(
                path,
                f[1][0],
                Convert.ToInt32(f[2], 8),
                long.Parse(f[3], CultureInfo.InvariantCulture),
                long.Parse(f[4], CultureInfo.InvariantCulture),
                long.Parse(f[5], CultureInfo.InvariantCulture),
                f[6] == "-" ? null : f[6],
                f[7] == "-" ? null : Unescape(f[7]));
        }

        return result;
    }

    private static string Unescape(string value)
    {
        if (!value.Contains('\\', StringComparison.Ordinal))
        {
            return value;
        }

        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                i++;
                text.Append(value[i] switch { 't' => '\t', 'n' => '\n', _ => value[i] });
            }
            else
            {
                text.Append(value[i]);
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// Resolves what a user named: a Kiln manifest (each of its platform sections), a release.json (every image it
    /// lists, platform by platform), or <c>name:version</c> in a build's artifact directory (bin/&lt;Configuration&gt;/kiln/,
    /// or its oci/ layout).
    /// </summary>
    public static ImmutableArray<ManifestDocument> Resolve(string source, string? artifactDirectory)
    {
        if (System.IO.File.Exists(source))
        {
            string? kind;
            try
            {
                using var document = JsonDocument.Parse(System.IO.File.ReadAllBytes(source));
                kind = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
            }
            catch (JsonException e)
            {
                throw new KilnException(DiagnosticCodes.NotAKilnManifest, $"'{source}' is not JSON ({e.Message}). Pass a Kiln manifest, a release.json, or name:version.");
            }

            return kind == Release.Kind ? ReleaseManifests(source) : LoadPlatforms(source);
        }

        var colon = source.LastIndexOf(':');
        if (colon > 0 && !source.Contains('/', StringComparison.Ordinal) && artifactDirectory is not null)
        {
            var directory = System.IO.Path.GetFullPath(artifactDirectory);
            if (System.IO.File.Exists(System.IO.Path.Combine(directory, "oci-layout")))
            {
                directory = System.IO.Path.GetDirectoryName(directory.TrimEnd('/'))!;
            }

            // One file per server, a multi-platform server's with a section per platform.
            return LoadPlatforms(System.IO.Path.Combine(directory, "manifests", $"{source[..colon]}-{source[(colon + 1)..]}.json"));
        }

        throw new KilnException(DiagnosticCodes.ArtifactNotFound, $"'{source}' is neither a file nor name:version in '{artifactDirectory ?? "(no artifact directory)"}'. Pass a Kiln manifest, a release.json, or name:version with the build's artifact directory.");
    }

    /// <summary>
    /// Every image a release.json lists: a multi-platform image's platforms by the section of its manifest file that
    /// each release platform names (every platform names the server's one file; a release written when each platform
    /// had a file of its own names those).
    /// </summary>
    private static ImmutableArray<ManifestDocument> ReleaseManifests(string releasePath)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(releasePath))!;
        var files = new Dictionary<string, ImmutableArray<ManifestDocument>>(StringComparer.Ordinal);
        ImmutableArray<ManifestDocument> Sections(string relative) =>
            files.TryGetValue(relative, out var loaded) ? loaded : files[relative] = LoadPlatforms(System.IO.Path.Combine(directory, relative));

        return [.. ReleaseDocument.Load(releasePath).Images.SelectMany(image => image.IsIndex
            ? image.Platforms.Select(p => Sections(p.Manifest) is var sections && sections.FirstOrDefault(s => s.Platform == p.Platform) is { } section
                ? section
                : throw KilnManifestFile.Invalid(System.IO.Path.Combine(directory, p.Manifest), $"it has no section for the platform {p.Platform} that '{releasePath}' lists"))
            : Sections(image.Manifest))];
    }
}
