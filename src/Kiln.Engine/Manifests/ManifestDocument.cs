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
public sealed record ManifestPackage(string Name, string Version, string Architecture);

/// <summary>
/// A Kiln manifest read back from disk (manifests/&lt;name&gt;-&lt;version&gt;.json), for the verbs that operate on
/// artifacts: diff, verify, query, history. Inputs that are not Kiln's are rejected with KILN2070 here, once.
/// </summary>
public sealed class ManifestDocument
{
    private ManifestDocument(string path, JsonElement root)
    {
        Path = path;
        Root = root;
        Content = root.GetProperty("content");
        Name = Content.GetProperty("name").GetString()!;
        Version = Content.GetProperty("version").GetString()!;
        ImageDigest = Content.GetProperty("image").GetProperty("digest").GetString()!;
        ContentDigest = root.TryGetProperty("contentDigest", out var cd) ? cd.GetString() : null;
        Platform = Content.TryGetProperty("platform", out var platform) && platform.ValueKind == JsonValueKind.String ? platform.GetString() : null;
    }

    /// <summary>The image's platform (os/arch) when the manifest is one platform's of a multi-platform server; null for a single-platform server's.</summary>
    public string? Platform { get; }

    /// <summary>How diffs and queries name the image: the server's name, with the platform for one platform of several (<c>multi (linux/arm64)</c>).</summary>
    public string DisplayName => Platform is null ? Name : $"{Name} ({Platform})";

    /// <summary>Where the manifest was read from.</summary>
    public string Path { get; }

    /// <summary>The whole document.</summary>
    public JsonElement Root { get; }

    /// <summary>The reproducible content section.</summary>
    public JsonElement Content { get; }

    public string Name { get; }

    public string Version { get; }

    /// <summary>The image manifest digest.</summary>
    public string ImageDigest { get; }

    public string? ContentDigest { get; }

    /// <summary><c>name:version</c>.</summary>
    public string Reference => $"{Name}:{Version}";

    /// <summary>The resolved settings (user, ports, limits…).</summary>
    public JsonElement Settings => Content.TryGetProperty("settings", out var s) ? s : default;

    /// <summary>The parent version the lock knew when the manifest was written.</summary>
    public string? ParentVersion => Root.TryGetProperty("lineage", out var l) && l.TryGetProperty("parentVersion", out var p) ? p.GetString() : null;

    /// <summary>Paths the spec declares writable: their contents are the instance's own, never drift.</summary>
    public ImmutableArray<string> Volumes =>
        Settings.ValueKind == JsonValueKind.Object && Settings.TryGetProperty("volumes", out var v) && v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Select(e => e.GetString()!).Where(s => s is not null)]
            : [];

    public ImmutableArray<ManifestPackage> Packages =>
        Content.TryGetProperty("packages", out var p) && p.ValueKind == JsonValueKind.Array
            ? [.. p.EnumerateArray().Select(e => new ManifestPackage(e.GetProperty("name").GetString()!, e.GetProperty("version").GetString()!, e.TryGetProperty("architecture", out var a) ? a.GetString() ?? "" : ""))]
            : [];

    /// <summary>Reads a Kiln manifest; anything else is KILN2070.</summary>
    public static ManifestDocument Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new KilnException(DiagnosticCodes.ArtifactNotFound, $"The manifest '{path}' does not exist. Pass a manifests/<name>-<version>.json file from a Kiln build's output (bin/<Configuration>/kiln/).");
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement.Clone();
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("kind", out var kind) || kind.GetString() != KilnManifest.Kind)
            {
                throw new KilnException(DiagnosticCodes.NotAKilnManifest, $"'{path}' is not a Kiln manifest (its \"kind\" is not \"{KilnManifest.Kind}\"). Pass a manifests/<name>-<version>.json file from a Kiln build's output.");
            }

            RequireFields(path, root);
            var manifest = new ManifestDocument(path, root);
            manifest.Validate();
            return manifest;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new KilnException(DiagnosticCodes.NotAKilnManifest, $"'{path}' is not a readable Kiln manifest: {e.Message}. Pass a manifests/<name>-<version>.json file from a Kiln build's output.");
        }
    }

    /// <summary>The fields every verb relies on, each named when it is missing or of the wrong type (KILN2070).</summary>
    private static void RequireFields(string path, JsonElement root)
    {
        void Require(JsonElement parent, string field, string where, JsonValueKind kind)
        {
            var name = where.Length == 0 ? field : $"{where}.{field}";
            if (!parent.TryGetProperty(field, out var value))
            {
                throw new KilnException(DiagnosticCodes.NotAKilnManifest, $"'{path}' is not a valid Kiln manifest: field '{name}' is missing. Pass a manifests/<name>-<version>.json file from a Kiln build's output, unchanged.");
            }

            if (value.ValueKind != kind)
            {
                throw new KilnException(DiagnosticCodes.NotAKilnManifest, $"'{path}' is not a valid Kiln manifest: field '{name}' is not {(kind == JsonValueKind.Object ? "an object" : kind == JsonValueKind.Array ? "an array" : "a string")} (it is {value.ValueKind.ToString().ToLowerInvariant()}). Pass a manifests/<name>-<version>.json file from a Kiln build's output, unchanged.");
            }
        }

        Require(root, "content", "", JsonValueKind.Object);
        var content = root.GetProperty("content");
        Require(content, "name", "content", JsonValueKind.String);
        Require(content, "version", "content", JsonValueKind.String);
        Require(content, "image", "content", JsonValueKind.Object);
        Require(content.GetProperty("image"), "digest", "content.image", JsonValueKind.String);
        Require(content, "inventory", "content", JsonValueKind.Object);
        Require(content.GetProperty("inventory"), "path", "content.inventory", JsonValueKind.String);
        Require(content.GetProperty("inventory"), "digest", "content.inventory", JsonValueKind.String);
        if (content.TryGetProperty("packages", out var packages) && packages.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var package in packages.EnumerateArray())
            {
                if (package.ValueKind != JsonValueKind.Object)
                {
                    throw new KilnException(DiagnosticCodes.NotAKilnManifest, $"'{path}' is not a valid Kiln manifest: field 'content.packages[{i}]' is not an object. Pass a manifests/<name>-<version>.json file from a Kiln build's output, unchanged.");
                }

                Require(package, "name", $"content.packages[{i}]", JsonValueKind.String);
                Require(package, "version", $"content.packages[{i}]", JsonValueKind.String);
                i++;
            }
        }
    }

    /// <summary>
    /// Reads, once, everything the verbs read later (a manifest may have been edited by hand or come from anywhere):
    /// the required strings, the package list, the volumes, the inventory reference, and every string of the document
    /// (JsonDocument accepts invalid UTF-8 and lone surrogate escapes and fails only when such a string is read). A
    /// problem throws KeyNotFoundException or InvalidOperationException, which <see cref="Load"/> reports as KILN2070.
    /// </summary>
    private void Validate()
    {
        Oci.CanonicalJson.DecodeStrings(Root);
        if (Name is null || Version is null || ImageDigest is null)
        {
            throw new InvalidOperationException("content.name, content.version and content.image.digest must be strings");
        }

        _ = (Packages, Volumes, ParentVersion);
        var inventory = Content.GetProperty("inventory");
        if (inventory.GetProperty("path").GetString() is null || inventory.GetProperty("digest").GetString() is null)
        {
            throw new InvalidOperationException("content.inventory.path and content.inventory.digest must be strings");
        }
    }

    /// <summary>The inventory file next to the manifest (../inventory/…), as the manifest names it.</summary>
    public string InventoryPath
    {
        get
        {
            var relative = Content.GetProperty("inventory").GetProperty("path").GetString()!;
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
        if (!File.Exists(path))
        {
            throw new KilnException(DiagnosticCodes.ArtifactNotFound, $"The inventory '{path}' that the manifest '{Path}' names does not exist. Keep the build's inventory/ directory beside manifests/.");
        }

        var bytes = File.ReadAllBytes(path);
        var expected = Content.GetProperty("inventory").GetProperty("digest").GetString();
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
    /// Resolves what a user named: a Kiln manifest, a release.json (every image it lists), or <c>name:version</c> in
    /// a build's artifact directory (bin/&lt;Configuration&gt;/kiln/, or its oci/ layout).
    /// </summary>
    public static ImmutableArray<ManifestDocument> Resolve(string source, string? artifactDirectory)
    {
        if (File.Exists(source))
        {
            string? kind;
            try
            {
                using var document = JsonDocument.Parse(File.ReadAllBytes(source));
                kind = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("kind", out var k) ? k.GetString() : null;
            }
            catch (JsonException e)
            {
                throw new KilnException(DiagnosticCodes.NotAKilnManifest, $"'{source}' is not JSON ({e.Message}). Pass a Kiln manifest, a release.json, or name:version.");
            }

            if (kind == Release.Kind)
            {
                return ReleaseManifests(source);
            }

            return [Load(source)];
        }

        var colon = source.LastIndexOf(':');
        if (colon > 0 && !source.Contains('/', StringComparison.Ordinal) && artifactDirectory is not null)
        {
            var directory = System.IO.Path.GetFullPath(artifactDirectory);
            if (File.Exists(System.IO.Path.Combine(directory, "oci-layout")))
            {
                directory = System.IO.Path.GetDirectoryName(directory.TrimEnd('/'))!;
            }

            // A multi-platform server has one manifest per platform, which its release.json entry lists.
            var release = System.IO.Path.Combine(directory, Release.FileName);
            if (File.Exists(release) && ReleaseDocument.Load(release).Images.FirstOrDefault(i => i.Reference == source) is { IsIndex: true } image)
            {
                return [.. image.Platforms.Select(p => Load(System.IO.Path.Combine(directory, p.Manifest)))];
            }

            return [Load(System.IO.Path.Combine(directory, "manifests", $"{source[..colon]}-{source[(colon + 1)..]}.json"))];
        }

        throw new KilnException(DiagnosticCodes.ArtifactNotFound, $"'{source}' is neither a file nor name:version in '{artifactDirectory ?? "(no artifact directory)"}'. Pass a Kiln manifest, a release.json, or name:version with the build's artifact directory.");
    }

    private static ImmutableArray<ManifestDocument> ReleaseManifests(string releasePath)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(releasePath))!;
        return [.. ReleaseDocument.Load(releasePath).Images.SelectMany(image => image.IsIndex
            ? image.Platforms.Select(p => Load(System.IO.Path.Combine(directory, p.Manifest)))
            : [Load(System.IO.Path.Combine(directory, image.Manifest))])];
    }
}
