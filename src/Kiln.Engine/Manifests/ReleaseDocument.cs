using System.Collections.Immutable;
using System.Text.Json;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.IO;
using Kiln.Engine.Registry;
using Kiln.Oci;

namespace Kiln.Engine.Manifests;

/// <summary>
/// release.json as a model: written by one build (<see cref="Release"/>), read by push, plan, diff, query and the CLI.
/// Parsed and validated once here, every field by name, so that each reader trusts what it gets and a hand-edited or
/// truncated file is refused the same way everywhere (KILN5020, naming the file and the field).
/// </summary>
/// <param name="Layout">The OCI layout directory, relative to the file (oci).</param>
/// <param name="Images">Every image of the build, ordered by reference.</param>
/// <param name="Deployments">The deployments rendered from those images; empty when there are none.</param>
public sealed record ReleaseDocument(string Layout, ImmutableArray<ReleaseImage> Images, ImmutableArray<ReleaseDeployment> Deployments)
{
    /// <summary>The file's schema version.</summary>
    public const int SchemaVersion = 1;

    /// <summary>The JSON schema the written file names in <c>$schema</c> (docs/schemas/kiln-release.schema.json), for editors and validators.</summary>
    public const string SchemaUri = "https://kiln.dev/schemas/kiln-release.schema.json";

    /// <summary>Reads and validates <paramref name="path"/>; I/O failures are the caller's to word (each verb knows what a missing file means).</summary>
    public static ReleaseDocument Load(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Validates every field of a release.json; <paramref name="source"/> names the file in the error.</summary>
    /// <exception cref="KilnException">KILN5020 naming the first bad field.</exception>
    public static ReleaseDocument Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var root = ArtifactJson.Root(document);
            _ = root.OptionalString("$schema");
            root.Expect("kind", Release.Kind);
            root.Expect("schemaVersion", SchemaVersion);
            var release = new ReleaseDocument(
                root.NonEmpty("layout"),
                root.Array("images", ReleaseImage.Read),
                root.Array("deployments", ReleaseDeployment.Read, required: false));
            if (release.Images.GroupBy(i => i.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                throw root.Invalid("images", $"names the server '{twice.Key}' twice");
            }

            return release;
        }
        catch (JsonException e)
        {
            throw Invalid(source, $"is not JSON ({e.Message})");
        }
        catch (ArtifactFieldException e)
        {
            throw Invalid(source, e.Message);
        }
    }

    /// <summary>The coded refusal every reader of release.json shares.</summary>
    internal static KilnException Invalid(string source, string problem) =>
        new(DiagnosticCodes.ReleaseFileInvalid, $"'{source}' is not a valid Kiln release.json: {problem}. Build again to rewrite it (dotnet build), or restore the file the build wrote.");

    /// <summary>The canonical bytes (JsonText's shape, fields in the order the build writes them).</summary>
    public byte[] ToJson() => JsonText.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("$schema", SchemaUri);
        w.WriteString("kind", Release.Kind);
        w.WriteNumber("schemaVersion", SchemaVersion);
        w.WriteString("layout", Layout);
        w.WriteStartArray("images");
        foreach (var image in Images)
        {
            image.Write(w);
        }

        w.WriteEndArray();

        // Absent when there are none, as the build has always written it.
        if (!Deployments.IsDefaultOrEmpty)
        {
            w.WriteStartArray("deployments");
            foreach (var deployment in Deployments)
            {
                deployment.Write(w);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    });

    /// <summary>This release with each image's pushed references recorded (replacing an earlier push to the same repository).</summary>
    public ReleaseDocument WithPushed(IEnumerable<PushedImage> pushed)
    {
        var list = pushed.ToList();
        return this with
        {
            Images = [.. Images.Select(image =>
            {
                var mine = list.Where(p => p.Name == image.Name && p.Version == image.Version).ToList();
                return mine.Count == 0 ? image : image with
                {
                    Pushed = [.. image.Pushed.Where(p => mine.All(m => m.Repository != p.Repository)), .. mine.Select(m => new ReleasePush(m.Repository, m.Reference, m.Digest))],
                };
            })],
        };
    }
}

/// <summary>One image of a release.</summary>
/// <param name="Name">The server's name.</param>
/// <param name="Version">Its version.</param>
/// <param name="Reference">name:version.</param>
/// <param name="Digest">The image manifest's digest.</param>
/// <param name="MediaType">The image manifest's media type.</param>
/// <param name="Size">The image manifest's size in bytes.</param>
/// <param name="ConfigDigest">The image config's digest.</param>
/// <param name="Manifest">The Kiln manifest, relative to release.json (manifests/name-version.json).</param>
/// <param name="ManifestContentDigest">The Kiln manifest's content digest (what the lock records).</param>
/// <param name="Inventory">The file inventory, relative to release.json.</param>
/// <param name="Pushed">Where <c>kiln push</c> put it; empty until pushed.</param>
public sealed record ReleaseImage(
    string Name,
    string Version,
    string Reference,
    Digest Digest,
    string MediaType,
    long Size,
    Digest ConfigDigest,
    string Manifest,
    Digest ManifestContentDigest,
    string Inventory,
    ImmutableArray<ReleasePush> Pushed)
{
    /// <summary>
    /// For a server built for several platforms, each platform's image in the spec's order (the top-level digest is
    /// then the image index's); empty for a single-platform server, whose top-level fields describe its one image.
    /// </summary>
    public ImmutableArray<ReleasePlatform> Platforms { get; init; } = [];

    /// <summary>Whether this release image is an OCI image index over <see cref="Platforms"/> (a multi-platform server).</summary>
    public bool IsIndex => !Platforms.IsDefaultOrEmpty;

    internal static ReleaseImage Read(ArtifactJson item)
    {
        var image = item.Object();
        var name = image.NonEmpty("name");
        var version = image.NonEmpty("version");
        var reference = image.NonEmpty("reference");
        if (reference != $"{name}:{version}")
        {
            throw image.Invalid("reference", $"is '{reference}', not '{name}:{version}' (its name:version)");
        }

        return new ReleaseImage(
            name,
            version,
            reference,
            image.Digest("digest"),
            image.NonEmpty("mediaType"),
            image.Int64("size"),
            image.Digest("configDigest"),
            RelativePath(image, "manifest"),
            image.Digest("manifestContentDigest"),
            RelativePath(image, "inventory"),
            image.Array("pushed", ReleasePush.Read, required: false))
        {
            Platforms = image.Array("platforms", ReleasePlatform.Read, required: false),
        };
    }

    /// <summary>The fields a release image and a platform's image share, in the order release.json holds them.</summary>
    internal static void WriteImageFields(Utf8JsonWriter w, Digest digest, string mediaType, long size, Digest configDigest, string manifest, Digest manifestContentDigest, string inventory)
    {
        w.WriteString("digest", digest.ToString());
        w.WriteString("mediaType", mediaType);
        w.WriteNumber("size", size);
        w.WriteString("configDigest", configDigest.ToString());
        w.WriteString("manifest", manifest);
        w.WriteString("manifestContentDigest", manifestContentDigest.ToString());
        w.WriteString("inventory", inventory);
    }

    // Readers join these to the release's directory: a rooted path or '..' would read a file outside the build.
    internal static string RelativePath(ArtifactJson image, string field)
    {
        var path = image.NonEmpty(field);
        return Path.IsPathRooted(path) || path.Split('/', '\\').Contains("..")
            ? throw image.Invalid(field, $"is '{path}', not a path inside the build's kiln directory")
            : path;
    }

    internal void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("name", Name);
        w.WriteString("version", Version);
        w.WriteString("reference", Reference);
        ReleaseImage.WriteImageFields(w, Digest, MediaType, Size, ConfigDigest, Manifest, ManifestContentDigest, Inventory);
        if (!Platforms.IsDefaultOrEmpty)
        {
            w.WriteStartArray("platforms");
            foreach (var platform in Platforms)
            {
                platform.Write(w);
            }

            w.WriteEndArray();
        }

        if (!Pushed.IsDefaultOrEmpty)
        {
            w.WriteStartArray("pushed");
            foreach (var push in Pushed)
            {
                w.WriteStartObject();
                w.WriteString("repository", push.Repository);
                w.WriteString("reference", push.Reference);
                w.WriteString("digest", push.Digest.ToString());
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }
}

/// <summary>One platform's image of a multi-platform release image.</summary>
/// <param name="Platform">os/arch (<c>linux/arm64</c>).</param>
/// <param name="Digest">The platform's image manifest digest (listed in the server's index).</param>
/// <param name="MediaType">The image manifest's media type.</param>
/// <param name="Size">The image manifest's size in bytes.</param>
/// <param name="ConfigDigest">The image config's digest.</param>
/// <param name="Manifest">The server's one Kiln manifest, relative to release.json (manifests/name-version.json); the platform's section is the one whose platform is <paramref name="Platform"/>.</param>
/// <param name="ManifestContentDigest">That Kiln manifest's content digest.</param>
/// <param name="Inventory">The platform's file inventory, relative to release.json.</param>
/// <param name="Sbom">The platform's CycloneDX SBOM, relative to release.json.</param>
public sealed record ReleasePlatform(
    string Platform,
    Digest Digest,
    string MediaType,
    long Size,
    Digest ConfigDigest,
    string Manifest,
    Digest ManifestContentDigest,
    string Inventory,
    string Sbom)
{
    internal static ReleasePlatform Read(ArtifactJson item)
    {
        var entry = item.Object();
        var platform = entry.NonEmpty("platform");
        if (!Kiln.Spec.Platform.TryParse(platform, out _))
        {
            throw entry.Invalid("platform", $"is '{platform}', not os/architecture");
        }

        return new ReleasePlatform(
            platform,
            entry.Digest("digest"),
            entry.NonEmpty("mediaType"),
            entry.Int64("size"),
            entry.Digest("configDigest"),
            ReleaseImage.RelativePath(entry, "manifest"),
            entry.Digest("manifestContentDigest"),
            ReleaseImage.RelativePath(entry, "inventory"),
            ReleaseImage.RelativePath(entry, "sbom"));
    }

    internal void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("platform", Platform);
        ReleaseImage.WriteImageFields(w, Digest, MediaType, Size, ConfigDigest, Manifest, ManifestContentDigest, Inventory);
        w.WriteString("sbom", Sbom);
        w.WriteEndObject();
    }
}

/// <summary>One push of an image, recorded by <c>kiln push</c>.</summary>
/// <param name="Repository">registry/repository.</param>
/// <param name="Reference">The pushed reference, tag and digest.</param>
/// <param name="Digest">The manifest digest pushed.</param>
public sealed record ReleasePush(string Repository, string Reference, Digest Digest)
{
    internal static ReleasePush Read(ArtifactJson item)
    {
        var push = item.Object();
        return new ReleasePush(push.NonEmpty("repository"), push.NonEmpty("reference"), push.Digest("digest"));
    }
}

/// <summary>One deployment of a release: which images it runs, in rollout order.</summary>
/// <param name="Name">The deployment's name.</param>
/// <param name="Directory">Its rendered files, relative to release.json (deploy/name).</param>
/// <param name="Components">name:version of each component, in the order the deployment declares.</param>
public sealed record ReleaseDeployment(string Name, string Directory, ImmutableArray<string> Components)
{
    internal static ReleaseDeployment Read(ArtifactJson item)
    {
        var deployment = item.Object();
        var name = deployment.NonEmpty("name");
        var directory = deployment.NonEmpty("directory");
        var components = deployment.Array("components", c => c.AsString());
        for (var i = 0; i < components.Length; i++)
        {
            if (components[i].LastIndexOf(':') <= 0)
            {
                throw deployment.Invalid($"components[{i}]", $"is '{components[i]}', not name:version");
            }
        }

        return new ReleaseDeployment(name, directory, components);
    }

    internal void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("name", Name);
        w.WriteString("directory", Directory);
        w.WriteStartArray("components");
        foreach (var component in Components)
        {
            w.WriteStringValue(component);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }
}
