using System.Security.Cryptography;
using System.Text.Json;
using Kiln.Engine.Building;
using Kiln.Engine.IO;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Manifests;

/// <summary>
/// The Kiln manifest of one image: a reproducible <c>content</c> section (what the image is and every resolved
/// setting), its digest, and a <c>build</c> section (where and how it was built) that no digest includes.
/// </summary>
internal static class KilnManifest
{
    public const string Kind = "KilnManifest";

    /// <summary>The JSON schema the written file names in <c>$schema</c> (docs/schemas/kiln-manifest.schema.json), for editors and validators.</summary>
    public const string SchemaUri = "https://kiln.dev/schemas/kiln-manifest.schema.json";
    public const int SchemaVersion = 1;

    public static string FileName(BuiltImage image) => $"{Stem(image)}.json";

    public static string InventoryFileName(BuiltImage image) => $"{Stem(image)}.txt";

    /// <summary>
    /// The name every per-image artifact starts with: <c>name-version</c>, and for a server built for several
    /// platforms <c>name-version.os-arch</c> (<c>shop-api-1.4.0.linux-arm64</c>), one file per platform image. A
    /// single-platform server keeps the plain name, so its artifacts are where they have always been.
    /// </summary>
    public static string Stem(BuiltImage image) =>
        image.Plan.Server.IsMultiPlatform
            ? $"{image.Plan.Server.Name}-{image.Plan.Server.Version}.{image.Plan.Platform.Os}-{image.Plan.Platform.Architecture}{(image.Plan.Platform.Variant is { } v ? "-" + v : "")}"
            : $"{image.Plan.Server.Name}-{image.Plan.Server.Version}";

    /// <summary>The content section alone, canonical; its SHA-256 is the manifest's content digest.</summary>
    public static byte[] Content(BuiltImage image, Digest inventoryDigest, ProjectOptions project) =>
        JsonText.Write(w => WriteContent(w, image, inventoryDigest, project));

    public static string SbomFileName(BuiltImage image) => $"{Stem(image)}.cdx.json";

    /// <summary>
    /// The whole manifest. <paramref name="lineage"/> (from the lock) sits beside the content section, not in it: the
    /// content digest must not depend on which versions a lock happened to know.
    /// </summary>
    public static byte[] Write(BuiltImage image, Digest inventoryDigest, ProjectOptions project, BuildProvenance provenance, out Digest contentDigest, Lock.Lineage? lineage = null)
    {
        var content = Content(image, inventoryDigest, project);
        var digest = Digest.Sha256(content);
        contentDigest = digest;
        return JsonText.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("$schema", SchemaUri);
            w.WriteString("kind", Kind);
            w.WriteNumber("schemaVersion", SchemaVersion);
            w.WritePropertyName("content");
            WriteContent(w, image, inventoryDigest, project);
            w.WriteString("contentDigest", digest.ToString());
            w.WriteStartObject("lineage");
            if (lineage?.ParentVersion is { } parent)
            {
                w.WriteString("parentVersion", parent);
                WriteOptional(w, "parentDigest", lineage.ParentDigest);
            }

            w.WriteEndObject();
            w.WritePropertyName("build");
            WriteBuild(w, provenance);
            w.WriteEndObject();
        });
    }

    private static void WriteContent(Utf8JsonWriter w, BuiltImage image, Digest inventoryDigest, ProjectOptions project)
    {
        var server = image.Plan.Server;
        w.WriteStartObject();
        w.WriteString("name", server.Name);
        w.WriteString("version", server.Version);
        w.WriteString("reference", server.Reference);
        // Only a multi-platform server's manifests name their platform: a single-platform manifest (and so its
        // content digest, which the lock records) stays byte for byte what it was.
        if (server.IsMultiPlatform)
        {
            w.WriteString("platform", image.Plan.Platform.ToString());
        }

        w.WritePropertyName("image");
        WriteDescriptor(w, image.Manifest);
        w.WritePropertyName("config");
        WriteDescriptor(w, image.Config);

        w.WriteStartObject("base");
        w.WriteString("name", image.Plan.Base.Name);
        if (image.Plan.Base.Manifest is { } baseManifest)
        {
            w.WriteString("digest", baseManifest.Digest.ToString());
        }

        w.WriteEndObject();

        w.WriteStartArray("layers");
        foreach (var layer in image.BaseLayers.Concat(image.Layers))
        {
            w.WriteStartObject();
            w.WriteString("digest", layer.Descriptor.Digest.ToString());
            w.WriteString("diffId", layer.DiffId.ToString());
            w.WriteNumber("size", layer.Descriptor.Size);
            w.WriteString("mediaType", layer.Descriptor.MediaType);
            w.WriteString("source", layer.Source);
            w.WriteNumber("files", layer.Files.Count(f => f.Kind != EntryKind.Directory));
            if (!layer.Source.StartsWith("base:", StringComparison.Ordinal))
            {
                w.WriteString("compression", LayerBuilder.CompressorOf(layer.Descriptor.MediaType));
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("packages");
        foreach (var package in image.Plan.Base.Packages.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            w.WriteStartObject();
            w.WriteString("name", package.Name);
            w.WriteString("version", package.Version);
            w.WriteString("architecture", package.Architecture);
            w.WriteString("sha256", package.Sha256);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        WriteSettings(w, image);

        w.WriteStartObject("inventory");
        w.WriteString("path", $"inventory/{InventoryFileName(image)}");
        w.WriteString("digest", inventoryDigest.ToString());
        w.WriteNumber("entries", image.Inventory.Files.Count);
        w.WriteEndObject();

        w.WriteStartObject("spec");
        w.WriteString("type", server.SpecType);
        if (server.Location is { } location)
        {
            w.WriteString("source", Path.GetRelativePath(project.ProjectDirectory, location.File).Replace('\\', '/'));
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteSettings(Utf8JsonWriter w, BuiltImage image)
    {
        var server = image.Plan.Server;
        w.WriteStartObject("settings");
        w.WriteStartObject("account");
        w.WriteString("name", server.Account.Name);
        w.WriteNumber("uid", server.Account.Uid);
        w.WriteNumber("gid", server.Account.Gid);
        w.WriteEndObject();
        w.WriteString("user", $"{server.Account.Uid}:{server.Account.Gid}");
        w.WriteString("workingDirectory", server.WorkingDirectory);
        WriteStrings(w, "entrypoint", server.Entrypoint?.ToArgv() ?? []);
        WriteStrings(w, "arguments", server.Arguments);
        WriteStrings(w, "environment", server.Environment.Select(e => e.Name));
        WriteStrings(w, "ports", server.Ports.Select(p => p.ToString()));
        w.WriteStartObject("limits");
        if (server.Limits.OpenFiles is { } openFiles)
        {
            w.WriteNumber("openFiles", openFiles);
        }

        if (server.Limits.Processes is { } processes)
        {
            w.WriteNumber("processes", processes);
        }

        w.WriteEndObject();
        if (server.Health is { } health)
        {
            w.WriteStartObject("health");
            switch (health)
            {
                case HttpHealthCheck http:
                    w.WriteString("kind", "http");
                    w.WriteNumber("port", http.Port);
                    w.WriteString("path", http.Path);
                    break;
                case CommandHealthCheck command:
                    w.WriteString("kind", "command");
                    WriteStrings(w, "command", command.Argv);
                    break;
            }

            w.WriteNumber("intervalSeconds", health.Interval.TotalSeconds);
            w.WriteNumber("timeoutSeconds", health.Timeout.TotalSeconds);
            w.WriteNumber("startPeriodSeconds", health.StartPeriod.TotalSeconds);
            w.WriteNumber("retries", health.Retries);
            w.WriteEndObject();
        }

        w.WriteStartObject("labels");
        foreach (var label in server.Labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            w.WriteString(label.Key, label.Value);
        }

        w.WriteEndObject();
        WriteStrings(w, "volumes", server.Volumes);
        WriteStrings(w, "secrets", server.Secrets.Select(s => s.Name));
        w.WriteEndObject();
    }

    private static void WriteBuild(Utf8JsonWriter w, BuildProvenance p)
    {
        w.WriteStartObject();
        WriteOptional(w, "kilnVersion", p.KilnVersion);
        WriteOptional(w, "sdkVersion", p.SdkVersion);
        WriteOptional(w, "sourceRevision", p.SourceRevision);
        if (p.SourceTreeDirty is { } dirty)
        {
            w.WriteBoolean("sourceTreeDirty", dirty);
        }

        WriteOptional(w, "ciRun", p.ContinuousIntegrationRun);
        w.WriteEndObject();
    }

    internal static void WriteDescriptor(Utf8JsonWriter w, Descriptor d)
    {
        w.WriteStartObject();
        w.WriteString("mediaType", d.MediaType);
        w.WriteString("digest", d.Digest.ToString());
        w.WriteNumber("size", d.Size);
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            w.WriteString(name, value);
        }
    }

    internal static Digest Sha256(byte[] bytes) => Digest.FromSha256Hash(SHA256.HashData(bytes));
}
