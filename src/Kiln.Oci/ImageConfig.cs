using System.Collections.Immutable;
using System.Text.Json;

namespace Kiln.Oci;

/// <summary>
/// The execution parameters of an image: the <c>config</c> member of the image configuration
/// (https://github.com/opencontainers/image-spec/blob/v1.1.1/config.md#properties).
/// </summary>
public sealed record ContainerConfig
{
    public string? User { get; init; }

    /// <summary>"NAME=value" entries, in the order given.</summary>
    public ImmutableArray<string> Env { get; init; } = [];

    public ImmutableArray<string> Entrypoint { get; init; } = [];

    public ImmutableArray<string> Cmd { get; init; } = [];

    public string? WorkingDir { get; init; }

    /// <summary>"port/protocol" entries such as "8080/tcp".</summary>
    public ImmutableSortedSet<string> ExposedPorts { get; init; } = EmptySet;

    public ImmutableSortedDictionary<string, string> Labels { get; init; } = EmptyMap;

    public ImmutableSortedSet<string> Volumes { get; init; } = EmptySet;

    public string? StopSignal { get; init; }

    internal static readonly ImmutableSortedSet<string> EmptySet = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);
    internal static readonly ImmutableSortedDictionary<string, string> EmptyMap = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);

    public bool Equals(ContainerConfig? other) =>
        other is not null
        && User == other.User
        && WorkingDir == other.WorkingDir
        && StopSignal == other.StopSignal
        && Structural.Equal(Env, other.Env)
        && Structural.Equal(Entrypoint, other.Entrypoint)
        && Structural.Equal(Cmd, other.Cmd)
        && Structural.Equal(ExposedPorts, other.ExposedPorts)
        && Structural.Equal(Labels, other.Labels)
        && Structural.Equal(Volumes, other.Volumes);

    public override int GetHashCode() => HashCode.Combine(User, WorkingDir, Structural.Hash(Env), Structural.Hash(Entrypoint));

    internal void WriteTo(Utf8JsonWriter w)
    {
        // Order of the image-spec Go type ImageConfig (specs-go/v1/config.go).
        w.WriteStartObject("config");
        if (!string.IsNullOrEmpty(User))
        {
            w.WriteString("User", User);
        }

        if (ExposedPorts is { Count: > 0 })
        {
            CanonicalJson.WriteEmptyObjectMap(w, "ExposedPorts", ExposedPorts);
        }

        if (!Env.IsDefaultOrEmpty)
        {
            CanonicalJson.WriteStringArray(w, "Env", Env);
        }

        if (!Entrypoint.IsDefaultOrEmpty)
        {
            CanonicalJson.WriteStringArray(w, "Entrypoint", Entrypoint);
        }

        if (!Cmd.IsDefaultOrEmpty)
        {
            CanonicalJson.WriteStringArray(w, "Cmd", Cmd);
        }

        if (Volumes is { Count: > 0 })
        {
            CanonicalJson.WriteEmptyObjectMap(w, "Volumes", Volumes);
        }

        if (!string.IsNullOrEmpty(WorkingDir))
        {
            w.WriteString("WorkingDir", WorkingDir);
        }

        if (Labels is { Count: > 0 })
        {
            CanonicalJson.WriteStringMap(w, "Labels", Labels);
        }

        if (!string.IsNullOrEmpty(StopSignal))
        {
            w.WriteString("StopSignal", StopSignal);
        }

        w.WriteEndObject();
    }

    internal static ContainerConfig Read(JsonElement e, string where)
    {
        JsonRead.RequireObject(e, where);
        return new ContainerConfig
        {
            User = NullIfEmpty(JsonRead.String(e, "User", where)),
            ExposedPorts = JsonRead.KeySet(e, "ExposedPorts", where),
            Env = JsonRead.StringArray(e, "Env", where),
            Entrypoint = JsonRead.StringArray(e, "Entrypoint", where),
            Cmd = JsonRead.StringArray(e, "Cmd", where),
            Volumes = JsonRead.KeySet(e, "Volumes", where),
            WorkingDir = NullIfEmpty(JsonRead.String(e, "WorkingDir", where)),
            Labels = JsonRead.StringMap(e, "Labels", where) ?? EmptyMap,
            StopSignal = NullIfEmpty(JsonRead.String(e, "StopSignal", where)),
        };
    }

    // Docker writes "" for unset strings; reading them as null keeps one representation of "unset".
    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}

/// <summary>One entry of the image configuration's <c>history</c>.</summary>
public sealed record HistoryEntry
{
    public string? Created { get; init; }

    public string? CreatedBy { get; init; }

    public string? Author { get; init; }

    public string? Comment { get; init; }

    /// <summary>True when the step produced no layer (so it has no diff_id).</summary>
    public bool EmptyLayer { get; init; }

    internal void WriteTo(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        if (Created is not null)
        {
            w.WriteString("created", Created);
        }

        if (CreatedBy is not null)
        {
            w.WriteString("created_by", CreatedBy);
        }

        if (Author is not null)
        {
            w.WriteString("author", Author);
        }

        if (Comment is not null)
        {
            w.WriteString("comment", Comment);
        }

        if (EmptyLayer)
        {
            w.WriteBoolean("empty_layer", true);
        }

        w.WriteEndObject();
    }

    internal static HistoryEntry Read(JsonElement e, string where)
    {
        JsonRead.RequireObject(e, where);
        return new HistoryEntry
        {
            Created = JsonRead.String(e, "created", where),
            CreatedBy = JsonRead.String(e, "created_by", where),
            Author = JsonRead.String(e, "author", where),
            Comment = JsonRead.String(e, "comment", where),
            EmptyLayer = JsonRead.Bool(e, "empty_layer", where),
        };
    }
}

/// <summary>
/// The image configuration, media type <see cref="MediaTypes.ImageConfig"/>
/// (https://github.com/opencontainers/image-spec/blob/v1.1.1/config.md). <c>rootfs.type</c> is always "layers".
/// </summary>
public sealed record ImageConfig
{
    /// <summary>RFC 3339 time, e.g. "1970-01-01T00:00:00Z". Omitted when null.</summary>
    public string? Created { get; init; }

    public string? Author { get; init; }

    public string Architecture { get; init; } = "amd64";

    public string? Variant { get; init; }

    public string Os { get; init; } = "linux";

    public ContainerConfig Config { get; init; } = new();

    /// <summary>The digests of the uncompressed layer tars, base layer first.</summary>
    public ImmutableArray<Digest> DiffIds { get; init; } = [];

    public ImmutableArray<HistoryEntry> History { get; init; } = [];

    /// <summary>Formats a timestamp the way Kiln writes <c>created</c>: RFC 3339, UTC, whole seconds.</summary>
    public static string FormatTimestamp(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public bool Equals(ImageConfig? other) =>
        other is not null
        && Created == other.Created
        && Author == other.Author
        && Architecture == other.Architecture
        && Variant == other.Variant
        && Os == other.Os
        && Config == other.Config
        && Structural.Equal(DiffIds, other.DiffIds)
        && Structural.Equal(History, other.History);

    public override int GetHashCode() => HashCode.Combine(Created, Architecture, Os, Config, Structural.Hash(DiffIds));

    /// <summary>Canonical JSON (compact, fixed member order of the image-spec Go types).</summary>
    public byte[] ToJson() => CanonicalJson.Serialize(w =>
    {
        w.WriteStartObject();
        if (Created is not null)
        {
            w.WriteString("created", Created);
        }

        if (Author is not null)
        {
            w.WriteString("author", Author);
        }

        w.WriteString("architecture", Architecture);
        if (Variant is not null)
        {
            w.WriteString("variant", Variant);
        }

        w.WriteString("os", Os);
        (Config ?? new ContainerConfig()).WriteTo(w);
        w.WriteStartObject("rootfs");
        w.WriteString("type", "layers");
        w.WriteStartArray("diff_ids");
        foreach (var d in DiffIds.OrEmpty())
        {
            w.WriteStringValue(d.ToString());
        }

        w.WriteEndArray();
        w.WriteEndObject();
        if (!History.IsDefaultOrEmpty)
        {
            w.WriteStartArray("history");
            foreach (var h in History)
            {
                h.WriteTo(w);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    });

    /// <summary>Reads an image configuration written by Kiln, Docker or any other tool. Unknown members are
    /// ignored; missing or null collections read as empty.</summary>
    /// <exception cref="OciFormatException">The JSON is invalid or a member has the wrong type.</exception>
    public static ImageConfig Parse(ReadOnlySpan<byte> json)
    {
        const string where = "image config";
        using var document = JsonRead.Parse(json, where);
        var root = document.RootElement;
        var rootfs = JsonRead.TryGet(root, "rootfs", out var r) ? r : default;
        ImmutableArray<Digest> diffIds = [];
        if (rootfs.ValueKind == JsonValueKind.Object)
        {
            string? type = JsonRead.String(rootfs, "type", $"{where}.rootfs");
            if (type is not null && type != "layers")
            {
                throw new OciFormatException($"{where}.rootfs.type: expected \"layers\", got \"{type}\".");
            }

            diffIds = JsonRead.Array(rootfs, "diff_ids", $"{where}.rootfs", static (e, w) =>
                e.ValueKind == JsonValueKind.String
                    ? ParseDigest(e.GetString()!, w)
                    : throw new OciFormatException($"{w}: expected a digest string, got {e.ValueKind}."));
        }

        return new ImageConfig
        {
            Created = JsonRead.String(root, "created", where),
            Author = JsonRead.String(root, "author", where),
            Architecture = JsonRead.String(root, "architecture", where) ?? "amd64",
            Variant = JsonRead.String(root, "variant", where),
            Os = JsonRead.String(root, "os", where) ?? "linux",
            Config = JsonRead.TryGet(root, "config", out var c) ? ContainerConfig.Read(c, $"{where}.config") : new ContainerConfig(),
            DiffIds = diffIds,
            History = JsonRead.Array(root, "history", where, HistoryEntry.Read),
        };
    }

    internal static Digest ParseDigest(string s, string where)
    {
        try
        {
            return Digest.Parse(s);
        }
        catch (OciFormatException e)
        {
            throw new OciFormatException($"{where}: {e.Message}", e);
        }
    }
}
