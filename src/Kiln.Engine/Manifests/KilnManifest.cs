using System.Security.Cryptography;
using Kiln.Engine.Building;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Manifests;

/// <summary>
/// Builds the Kiln manifest of a server (<see cref="KilnManifestFile"/>) from its built images: a reproducible
/// <c>content</c> section per platform image (what the image is and every resolved setting), its digest, and a
/// <c>build</c> section (where and how it was built) that no digest includes.
/// </summary>
internal static class KilnManifest
{
    public const string Kind = "KilnManifest";

    /// <summary>The JSON schema the written file names in <c>$schema</c> (docs/schemas/kiln-manifest.schema.json), for editors and validators.</summary>
    public const string SchemaUri = "https://kiln.dev/schemas/kiln-manifest.schema.json";
    public const int SchemaVersion = 1;

    /// <summary>The server's one Kiln manifest file, <c>name-version.json</c>: a multi-platform server's holds a section per platform.</summary>
    public static string FileName(BuiltImage image) => $"{image.Plan.Server.Name}-{image.Plan.Server.Version}.json";

    public static string InventoryFileName(BuiltImage image) => $"{Stem(image)}.txt";

    /// <summary>
    /// The name every per-image artifact (inventory, SBOM, provenance) starts with: <c>name-version</c>, and for a
    /// server built for several platforms <c>name-version.os-arch</c> (<c>shop-api-1.4.0.linux-arm64</c>), one file per
    /// platform image. A single-platform server keeps the plain name, so its artifacts are where they have always been.
    /// </summary>
    public static string Stem(BuiltImage image) =>
        image.Plan.Server.IsMultiPlatform
            ? $"{image.Plan.Server.Name}-{image.Plan.Server.Version}.{image.Plan.Platform.Os}-{image.Plan.Platform.Architecture}{(image.Plan.Platform.Variant is { } v ? "-" + v : "")}"
            : $"{image.Plan.Server.Name}-{image.Plan.Server.Version}";

    public static string SbomFileName(BuiltImage image) => $"{Stem(image)}.cdx.json";

    /// <summary>The content section alone, canonical; its SHA-256 is the image's content digest.</summary>
    public static byte[] Content(BuiltImage image, Digest inventoryDigest, ProjectOptions project) =>
        ContentOf(image, inventoryDigest, project).ToJson();

    /// <summary>
    /// The manifest of one server: <paramref name="images"/> are its platform images in the spec's order (one for a
    /// single-platform server), <paramref name="index"/> its image index when it has several. <paramref name="lineage"/>
    /// (from the lock) sits beside the content sections, not in them: a content digest must not depend on which
    /// versions a lock happened to know.
    /// </summary>
    public static KilnManifestFile Document(IReadOnlyList<(BuiltImage Image, Digest InventoryDigest)> images, Descriptor? index, ProjectOptions project, BuildProvenance provenance, Lock.Lineage? lineage = null)
    {
        var server = images[0].Image.Plan.Server;
        var sections = images.Select(i =>
        {
            var content = ContentOf(i.Image, i.InventoryDigest, project);
            return new ManifestPlatformSection(content.Platform, content, Digest.Sha256(content.ToJson()));
        });
        return new KilnManifestFile(
            server.Name,
            server.Version,
            server.IsMultiPlatform ? index : null,
            [.. sections],
            new ManifestLineage(lineage?.ParentVersion, lineage?.ParentVersion is null ? null : lineage.ParentDigest),
            new ManifestBuild(provenance.KilnVersion, provenance.SdkVersion, provenance.SourceRevision, provenance.SourceTreeDirty, provenance.ContinuousIntegrationRun));
    }

    /// <summary>The bytes of a single-platform server's manifest (one image); <paramref name="contentDigest"/> is its content digest.</summary>
    public static byte[] Write(BuiltImage image, Digest inventoryDigest, ProjectOptions project, BuildProvenance provenance, out Digest contentDigest, Lock.Lineage? lineage = null)
    {
        var document = Document([(image, inventoryDigest)], index: null, project, provenance, lineage);
        contentDigest = document.Platforms[0].ContentDigest;
        return document.ToJson();
    }

    private static ManifestContent ContentOf(BuiltImage image, Digest inventoryDigest, ProjectOptions project)
    {
        var server = image.Plan.Server;
        return new ManifestContent(
            server.Name,
            server.Version,
            server.Reference,
            server.IsMultiPlatform ? image.Plan.Platform.ToString() : null,
            image.Manifest,
            image.Config,
            new ManifestBase(image.Plan.Base.Name, image.Plan.Base.Manifest?.Digest),
            [.. image.BaseLayers.Concat(image.Layers).Select(layer => new ManifestLayer(
                layer.Descriptor.Digest,
                layer.DiffId,
                layer.Descriptor.Size,
                layer.Descriptor.MediaType,
                layer.Source,
                layer.Files.Count(f => f.Kind != EntryKind.Directory),
                layer.Source.StartsWith("base:", StringComparison.Ordinal) ? null : LayerBuilder.CompressorOf(layer.Descriptor.MediaType)))],
            [.. image.Plan.Base.Packages.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => new ManifestPackage(p.Name, p.Version, p.Architecture) { Sha256 = p.Sha256 })],
            SettingsOf(server),
            new ManifestInventoryReference($"inventory/{InventoryFileName(image)}", inventoryDigest, image.Inventory.Files.Count),
            new ManifestSpecReference(server.SpecType, server.Location is { } location ? Path.GetRelativePath(project.ProjectDirectory, location.File).Replace('\\', '/') : null));
    }

    private static ManifestSettings SettingsOf(Evaluation.ResolvedServer server) => new(
        new ManifestAccount(server.Account.Name, server.Account.Uid, server.Account.Gid),
        $"{server.Account.Uid}:{server.Account.Gid}",
        server.WorkingDirectory,
        [.. server.Entrypoint?.ToArgv() ?? []],
        [.. server.Arguments],
        [.. server.Environment.Select(e => e.Name)],
        [.. server.Ports.Select(p => p.ToString())],
        new ManifestLimits(server.Limits.OpenFiles, server.Limits.Processes),
        server.Health switch
        {
            HttpHealthCheck http => new ManifestHealth("http", http.Port, http.Path, [], http.Interval.TotalSeconds, http.Timeout.TotalSeconds, http.StartPeriod.TotalSeconds, http.Retries),
            CommandHealthCheck command => new ManifestHealth("command", null, null, [.. command.Argv], command.Interval.TotalSeconds, command.Timeout.TotalSeconds, command.StartPeriod.TotalSeconds, command.Retries),
            _ => null,
        },
        Labels(server),
        [.. server.Volumes],
        [.. server.Secrets.Select(s => s.Name)]);

    private static System.Collections.Immutable.ImmutableSortedDictionary<string, string> Labels(Evaluation.ResolvedServer server)
    {
        var labels = System.Collections.Immutable.ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var label in server.Labels)
        {
            labels[label.Key] = label.Value;
        }

        return labels.ToImmutable();
    }

    internal static Digest Sha256(byte[] bytes) => Digest.FromSha256Hash(SHA256.HashData(bytes));
}
