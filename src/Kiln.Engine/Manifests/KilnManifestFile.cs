using System.Collections.Immutable;
using System.Text.Json;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.IO;
using Kiln.Oci;

namespace Kiln.Engine.Manifests;

/// <summary>
/// A Kiln manifest file (manifests/&lt;name&gt;-&lt;version&gt;.json) as a model: written by the build
/// (<see cref="KilnManifest"/>), read by diff, verify, query, history, outdated and run. Parsed and validated once here,
/// every field by name (KILN5022 naming the file and the field), so that readers trust what they get.
/// </summary>
/// <remarks>
/// A single-platform server's file has one content section at the top level (the shape Kiln has always written); a
/// multi-platform server's has its index descriptor and a <c>platforms</c> array with one section per platform image,
/// in the spec's order. Either way readers see <see cref="Platforms"/>, a list of sections.
/// </remarks>
/// <param name="Name">The server's name.</param>
/// <param name="Version">The server's version.</param>
/// <param name="Index">The image index of a multi-platform server; null for a single-platform server.</param>
/// <param name="Platforms">One section per platform image (exactly one, with no platform, for a single-platform server).</param>
/// <param name="Lineage">The parent version the lock knew when the file was written.</param>
/// <param name="Build">Where and how the images were built; in no digest.</param>
public sealed record KilnManifestFile(
    string Name,
    string Version,
    Descriptor? Index,
    ImmutableArray<ManifestPlatformSection> Platforms,
    ManifestLineage Lineage,
    ManifestBuild Build)
{
    /// <summary>Whether the file is a multi-platform server's (an index and a <c>platforms</c> array).</summary>
    public bool IsMultiPlatform => Index is not null;

    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    public static KilnManifestFile Load(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Validates every field of a Kiln manifest; <paramref name="source"/> names the file in the error.</summary>
    /// <exception cref="KilnException">KILN2070 when the file is not a Kiln manifest at all; KILN5022 naming the first bad field.</exception>
    public static KilnManifestFile Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("kind", out var kind) || kind.ValueKind != JsonValueKind.String || kind.GetString() != KilnManifest.Kind)
            {
                throw new KilnException(DiagnosticCodes.NotAKilnManifest, $"'{source}' is not a Kiln manifest (its \"kind\" is not \"{KilnManifest.Kind}\"). Pass a manifests/<name>-<version>.json file from a Kiln build's output.");
            }

            var root = ArtifactJson.Root(document);
            _ = root.OptionalString("$schema");
            root.Expect("schemaVersion", KilnManifest.SchemaVersion);
            var lineage = root.Child("lineage", required: false) is { } l ? new ManifestLineage(l.OptionalString("parentVersion"), l.OptionalString("parentDigest")) : new ManifestLineage(null, null);
            var build = ManifestBuild.Read(root.Child("build", required: false));
            if (root.Element.TryGetProperty("platforms", out _))
            {
                var file = new KilnManifestFile(
                    root.NonEmpty("name"),
                    root.NonEmpty("version"),
                    ReadDescriptor(root.Child("index", required: true)!.Value),
                    root.Array("platforms", item => ManifestPlatformSection.Read(item.Object(), multi: true)),
                    lineage,
                    build);
                if (file.Platforms.IsEmpty)
                {
                    throw root.Invalid("platforms", "is empty");
                }

                for (var i = 0; i < file.Platforms.Length; i++)
                {
                    var content = file.Platforms[i].Content;
                    if (content.Name != file.Name || content.Version != file.Version)
                    {
                        throw root.Invalid($"platforms[{i}].content.name", $"names {content.Name}:{content.Version}, not the file's {file.Name}:{file.Version}");
                    }
                }

                if (file.Platforms.GroupBy(p => p.Platform, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                {
                    throw root.Invalid("platforms", $"lists the platform {twice.Key} twice");
                }

                return file;
            }

            var single = ManifestPlatformSection.Read(root, multi: false);
            return new KilnManifestFile(single.Content.Name, single.Content.Version, null, [single], lineage, build);
        }
        catch (JsonException e)
        {
            throw new KilnException(DiagnosticCodes.NotAKilnManifest, $"'{source}' is not a readable Kiln manifest: {e.Message}. Pass a manifests/<name>-<version>.json file from a Kiln build's output.");
        }
        catch (ArtifactFieldException e)
        {
            throw Invalid(source, e.Message);
        }
    }

    /// <summary>The coded refusal every reader of a Kiln manifest shares.</summary>
    internal static KilnException Invalid(string source, string problem) =>
        new(DiagnosticCodes.KilnManifestInvalid, $"'{source}' is not a valid Kiln manifest: {problem}. Build again to rewrite it (dotnet build), or restore the file the build wrote.");

    /// <summary>The canonical bytes, fields in the order the build writes them (a single-platform file exactly as Kiln always wrote it).</summary>
    public byte[] ToJson() => JsonText.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("$schema", KilnManifest.SchemaUri);
        w.WriteString("kind", KilnManifest.Kind);
        w.WriteNumber("schemaVersion", KilnManifest.SchemaVersion);
        if (Index is { } index)
        {
            w.WriteString("name", Name);
            w.WriteString("version", Version);
            w.WritePropertyName("index");
            WriteDescriptor(w, index);
            w.WriteStartArray("platforms");
            foreach (var section in Platforms)
            {
                w.WriteStartObject();
                w.WriteString("platform", section.Platform);
                w.WritePropertyName("content");
                section.Content.Write(w);
                w.WriteString("contentDigest", section.ContentDigest.ToString());
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }
        else
        {
            w.WritePropertyName("content");
            Platforms[0].Content.Write(w);
            w.WriteString("contentDigest", Platforms[0].ContentDigest.ToString());
        }

        w.WriteStartObject("lineage");
        if (Lineage.ParentVersion is { } parent)
        {
            w.WriteString("parentVersion", parent);
            WriteOptional(w, "parentDigest", Lineage.ParentDigest);
        }

        w.WriteEndObject();
        w.WritePropertyName("build");
        Build.Write(w);
        w.WriteEndObject();
    });

    internal static Descriptor ReadDescriptor(ArtifactJson d) => new(d.NonEmpty("mediaType"), d.Digest("digest"), d.Int64("size"));

    internal static void WriteDescriptor(Utf8JsonWriter w, Descriptor d)
    {
        w.WriteStartObject();
        w.WriteString("mediaType", d.MediaType);
        w.WriteString("digest", d.Digest.ToString());
        w.WriteNumber("size", d.Size);
        w.WriteEndObject();
    }

    internal static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            w.WriteString(name, value);
        }
    }

    internal static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }
}

/// <summary>One platform image's part of a Kiln manifest: its reproducible content and that content's digest.</summary>
/// <param name="Platform">os/arch of a multi-platform server's image; null for a single-platform server.</param>
/// <param name="Content">What the image is and every resolved setting.</param>
/// <param name="ContentDigest">SHA-256 of the content's canonical bytes (what the lock records).</param>
public sealed record ManifestPlatformSection(string? Platform, ManifestContent Content, Digest ContentDigest)
{
    internal static ManifestPlatformSection Read(ArtifactJson section, bool multi)
    {
        var platform = multi ? section.NonEmpty("platform") : null;
        var content = ManifestContent.Read(section.Child("content", required: true)!.Value);
        if (multi && content.Platform != platform)
        {
            throw section.Invalid("content.platform", $"is '{content.Platform ?? "(missing)"}', not the section's '{platform}'");
        }

        return new ManifestPlatformSection(content.Platform, content, section.Digest("contentDigest"));
    }
}

/// <summary>The reproducible content section of one image (every field the build writes, in its order).</summary>
public sealed record ManifestContent(
    string Name,
    string Version,
    string Reference,
    string? Platform,
    Descriptor Image,
    Descriptor Config,
    ManifestBase Base,
    ImmutableArray<ManifestLayer> Layers,
    ImmutableArray<ManifestPackage> Packages,
    ManifestSettings Settings,
    ManifestInventoryReference Inventory,
    ManifestSpecReference Spec)
{
    /// <summary>The canonical bytes of the section alone; their SHA-256 is the content digest.</summary>
    public byte[] ToJson() => JsonText.Write(Write);

    internal void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("name", Name);
        w.WriteString("version", Version);
        w.WriteString("reference", Reference);
        // Only a multi-platform server's images name their platform: a single-platform content section (and so its
        // digest, which the lock records) stays byte for byte what it was.
        if (Platform is not null)
        {
            w.WriteString("platform", Platform);
        }

        w.WritePropertyName("image");
        KilnManifestFile.WriteDescriptor(w, Image);
        w.WritePropertyName("config");
        KilnManifestFile.WriteDescriptor(w, Config);
        w.WriteStartObject("base");
        w.WriteString("name", Base.Name);
        if (Base.Digest is { } baseDigest)
        {
            w.WriteString("digest", baseDigest.ToString());
        }

        w.WriteEndObject();
        w.WriteStartArray("layers");
        foreach (var layer in Layers)
        {
            w.WriteStartObject();
            w.WriteString("digest", layer.Digest.ToString());
            w.WriteString("diffId", layer.DiffId.ToString());
            w.WriteNumber("size", layer.Size);
            w.WriteString("mediaType", layer.MediaType);
            w.WriteString("source", layer.Source);
            w.WriteNumber("files", layer.Files);
            if (layer.Compression is not null)
            {
                w.WriteString("compression", layer.Compression);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("packages");
        foreach (var package in Packages)
        {
            w.WriteStartObject();
            w.WriteString("name", package.Name);
            w.WriteString("version", package.Version);
            w.WriteString("architecture", package.Architecture);
            w.WriteString("sha256", package.Sha256);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        Settings.Write(w);
        w.WriteStartObject("inventory");
        w.WriteString("path", Inventory.Path);
        w.WriteString("digest", Inventory.Digest.ToString());
        w.WriteNumber("entries", Inventory.Entries);
        w.WriteEndObject();
        w.WriteStartObject("spec");
        w.WriteString("type", Spec.Type);
        if (Spec.Source is not null)
        {
            w.WriteString("source", Spec.Source);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    internal static ManifestContent Read(ArtifactJson c)
    {
        var baseImage = c.Child("base", required: true)!.Value;
        var inventory = c.Child("inventory", required: true)!.Value;
        var spec = c.Child("spec", required: true)!.Value;
        return new ManifestContent(
            c.NonEmpty("name"),
            c.NonEmpty("version"),
            c.NonEmpty("reference"),
            c.OptionalString("platform"),
            KilnManifestFile.ReadDescriptor(c.Child("image", required: true)!.Value),
            KilnManifestFile.ReadDescriptor(c.Child("config", required: true)!.Value),
            new ManifestBase(baseImage.String("name"), baseImage.OptionalString("digest") is null ? null : baseImage.Digest("digest")),
            c.Array("layers", item =>
            {
                var l = item.Object();
                return new ManifestLayer(l.Digest("digest"), l.Digest("diffId"), l.Int64("size"), l.NonEmpty("mediaType"), l.String("source"), l.Int64("files"), l.OptionalString("compression"));
            }),
            c.Array("packages", item =>
            {
                var p = item.Object();
                return new ManifestPackage(p.NonEmpty("name"), p.NonEmpty("version"), p.String("architecture")) { Sha256 = p.String("sha256") };
            }),
            ManifestSettings.Read(c.Child("settings", required: true)!.Value),
            new ManifestInventoryReference(inventory.NonEmpty("path"), inventory.Digest("digest"), inventory.Int64("entries")),
            new ManifestSpecReference(spec.String("type"), spec.OptionalString("source")));
    }
}

/// <summary>The base an image was built on: its name and, unless it is scratch or built from packages, its manifest digest.</summary>
public sealed record ManifestBase(string Name, Digest? Digest);

/// <summary>One layer of the image, base layers first.</summary>
/// <param name="Source">Where it came from (<c>base:…</c> for a base layer).</param>
/// <param name="Files">How many non-directory entries it holds.</param>
/// <param name="Compression">The compressor of a layer Kiln built; null for a base layer.</param>
public sealed record ManifestLayer(Digest Digest, Digest DiffId, long Size, string MediaType, string Source, long Files, string? Compression);

/// <summary>Where the file inventory of the image is (relative to the build's kiln/ directory) and its digest.</summary>
public sealed record ManifestInventoryReference(string Path, Digest Digest, long Entries);

/// <summary>The spec type the image was built from and its source file (relative to the project), when known.</summary>
public sealed record ManifestSpecReference(string Type, string? Source);

/// <summary>The parent version (and its digest) the lock knew when the manifest was written.</summary>
public sealed record ManifestLineage(string? ParentVersion, string? ParentDigest);

/// <summary>The build section: tool versions, source revision and CI run, in no digest.</summary>
public sealed record ManifestBuild(string? KilnVersion, string? SdkVersion, string? SourceRevision, bool? SourceTreeDirty, string? ContinuousIntegrationRun)
{
    internal static ManifestBuild Read(ArtifactJson? b) => b is { } x
        ? new ManifestBuild(x.OptionalString("kilnVersion"), x.OptionalString("sdkVersion"), x.OptionalString("sourceRevision"), x.OptionalBoolean("sourceTreeDirty"), x.OptionalString("ciRun"))
        : new ManifestBuild(null, null, null, null, null);

    internal void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        KilnManifestFile.WriteOptional(w, "kilnVersion", KilnVersion);
        KilnManifestFile.WriteOptional(w, "sdkVersion", SdkVersion);
        KilnManifestFile.WriteOptional(w, "sourceRevision", SourceRevision);
        if (SourceTreeDirty is { } dirty)
        {
            w.WriteBoolean("sourceTreeDirty", dirty);
        }

        KilnManifestFile.WriteOptional(w, "ciRun", ContinuousIntegrationRun);
        w.WriteEndObject();
    }
}

/// <summary>The account the image runs as.</summary>
public sealed record ManifestAccount(string Name, long Uid, long Gid);

/// <summary>The resource limits the spec declares (null: not declared).</summary>
public sealed record ManifestLimits(long? OpenFiles, long? Processes);

/// <summary>The health check: <c>http</c> (port, path) or <c>command</c> (argv), with its timing in seconds.</summary>
public sealed record ManifestHealth(string Kind, long? Port, string? Path, ImmutableArray<string> Command, double IntervalSeconds, double TimeoutSeconds, double StartPeriodSeconds, long Retries);

/// <summary>The resolved settings of an image, as the spec declared them.</summary>
public sealed record ManifestSettings(
    ManifestAccount Account,
    string User,
    string WorkingDirectory,
    ImmutableArray<string> Entrypoint,
    ImmutableArray<string> Arguments,
    ImmutableArray<string> Environment,
    ImmutableArray<string> Ports,
    ManifestLimits Limits,
    ManifestHealth? Health,
    ImmutableSortedDictionary<string, string> Labels,
    ImmutableArray<string> Volumes,
    ImmutableArray<string> Secrets)
{
    /// <summary>The canonical bytes of the settings alone (what diff and query walk, setting by setting).</summary>
    public byte[] ToJson() => JsonText.Write(w =>
    {
        w.WriteStartObject();
        WriteFields(w);
        w.WriteEndObject();
    });

    internal void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject("settings");
        WriteFields(w);
        w.WriteEndObject();
    }

    private void WriteFields(Utf8JsonWriter w)
    {
        w.WriteStartObject("account");
        w.WriteString("name", Account.Name);
        w.WriteNumber("uid", Account.Uid);
        w.WriteNumber("gid", Account.Gid);
        w.WriteEndObject();
        w.WriteString("user", User);
        w.WriteString("workingDirectory", WorkingDirectory);
        KilnManifestFile.WriteStrings(w, "entrypoint", Entrypoint);
        KilnManifestFile.WriteStrings(w, "arguments", Arguments);
        KilnManifestFile.WriteStrings(w, "environment", Environment);
        KilnManifestFile.WriteStrings(w, "ports", Ports);
        w.WriteStartObject("limits");
        if (Limits.OpenFiles is { } openFiles)
        {
            w.WriteNumber("openFiles", openFiles);
        }

        if (Limits.Processes is { } processes)
        {
            w.WriteNumber("processes", processes);
        }

        w.WriteEndObject();
        if (Health is { } health)
        {
            w.WriteStartObject("health");
            w.WriteString("kind", health.Kind);
            if (health.Kind == "http")
            {
                w.WriteNumber("port", health.Port ?? 0);
                w.WriteString("path", health.Path);
            }
            else
            {
                KilnManifestFile.WriteStrings(w, "command", health.Command);
            }

            w.WriteNumber("intervalSeconds", health.IntervalSeconds);
            w.WriteNumber("timeoutSeconds", health.TimeoutSeconds);
            w.WriteNumber("startPeriodSeconds", health.StartPeriodSeconds);
            w.WriteNumber("retries", health.Retries);
            w.WriteEndObject();
        }

        w.WriteStartObject("labels");
        foreach (var label in Labels)
        {
            w.WriteString(label.Key, label.Value);
        }

        w.WriteEndObject();
        KilnManifestFile.WriteStrings(w, "volumes", Volumes);
        KilnManifestFile.WriteStrings(w, "secrets", Secrets);
    }

    internal static ManifestSettings Read(ArtifactJson s)
    {
        var account = s.Child("account", required: true)!.Value;
        var limits = s.Child("limits", required: true)!.Value;
        ManifestHealth? health = null;
        if (s.Child("health", required: false) is { } h)
        {
            var kind = h.String("kind");
            var http = kind switch
            {
                "http" => true,
                "command" => false,
                _ => throw h.Invalid("kind", $"is '{kind}', not 'http' or 'command'"),
            };
            health = new ManifestHealth(
                kind,
                http ? h.Int64("port") : null,
                http ? h.String("path") : null,
                http ? [] : h.Array("command", item => item.AsString()),
                h.Number("intervalSeconds"),
                h.Number("timeoutSeconds"),
                h.Number("startPeriodSeconds"),
                h.Int64("retries"));
        }

        return new ManifestSettings(
            new ManifestAccount(account.String("name"), account.Int64("uid"), account.Int64("gid")),
            s.String("user"),
            s.String("workingDirectory"),
            s.Array("entrypoint", item => item.AsString()),
            s.Array("arguments", item => item.AsString()),
            s.Array("environment", item => item.AsString()),
            s.Array("ports", item => item.AsString()),
            new ManifestLimits(limits.OptionalInt64("openFiles"), limits.OptionalInt64("processes")),
            health,
            s.StringMap("labels"),
            s.Array("volumes", item => item.AsString()),
            s.Array("secrets", item => item.AsString()));
    }
}
