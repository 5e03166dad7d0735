using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.IO;

namespace Kiln.Engine.Lock;

/// <summary>
/// kiln.lock.json, committed next to the spec project: per server and version, the image digest it was built as
/// (a released version can never mean two things), and the pinned inputs of package bases. Written canonically
/// (sorted keys, two-space indentation, '\n') so that diffs in review are small and stable.
/// </summary>
public sealed partial record KilnLock
{
    public const string FileName = "kiln.lock.json";
    public const string Kind = "KilnLock";

    /// <summary>The JSON schema the written file names in <c>$schema</c> (docs/schemas/kiln-lock.schema.json), for editors and validators.</summary>
    public const string SchemaUri = "https://kiln.dev/schemas/kiln-lock.schema.json";

    /// <summary>Server name → version → what that version is.</summary>
    public ImmutableSortedDictionary<string, ImmutableSortedDictionary<string, LockedVersion>> Servers { get; init; } =
        ImmutableSortedDictionary.Create<string, ImmutableSortedDictionary<string, LockedVersion>>(StringComparer.Ordinal);

    /// <summary>Package base key (suite/architecture/requested packages) → the resolved, pinned package set.</summary>
    public ImmutableSortedDictionary<string, LockedPackageSet> PackageBases { get; init; } =
        ImmutableSortedDictionary.Create<string, LockedPackageSet>(StringComparer.Ordinal);

    public static KilnLock Empty { get; } = new();


    /// <summary>Reads the lock; a missing file is an empty lock.</summary>
    public static KilnLock Load(string path)
    {
        if (!File.Exists(path))
        {
            return Empty;
        }

        try
        {
            var document = JsonSerializer.Deserialize(File.ReadAllBytes(path), LockJson.Default.LockDocument)
                ?? throw new JsonException("empty document");
            if (document.Kind != Kind || document.SchemaVersion != 1)
            {
                throw new JsonException($"kind '{document.Kind}' version {document.SchemaVersion} is not a Kiln lock v1");
            }

            return new KilnLock
            {
                Servers = (document.Servers ?? []).ToImmutableSortedDictionary(
                    kv => kv.Key,
                    kv => kv.Value.ToImmutableSortedDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal),
                    StringComparer.Ordinal),
                PackageBases = (document.PackageBases ?? []).ToImmutableSortedDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
            };
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException)
        {
            var field = e is JsonException { Path: { Length: > 1 } at } ? $" (at {at})" : "";
            throw new KilnException(DiagnosticCodes.LockUnreadable, $"The lock file '{path}' could not be read{field}: {e.Message}. Restore it from version control, or delete it to start a new lock (every version is then recorded afresh).");
        }
    }

    /// <summary>Whether there is anything to write: an empty lock is not written for a project that never had one.</summary>
    public bool IsEmpty => Servers.IsEmpty && PackageBases.IsEmpty;

    /// <summary>Writes the lock atomically and canonically; an unchanged lock leaves the file (and its time stamp) alone.</summary>
    public void Save(string path)
    {
        if (IsEmpty && !File.Exists(path))
        {
            return;
        }

        var document = new LockDocument
        {
            Schema = SchemaUri,
            Kind = Kind,
            SchemaVersion = 1,
            Servers = Servers.ToDictionary(kv => kv.Key, kv => (IDictionary<string, LockedVersion>)kv.Value.ToDictionary(v => v.Key, v => v.Value)),
            PackageBases = PackageBases.ToDictionary(kv => kv.Key, kv => kv.Value),
        };
        var element = JsonSerializer.SerializeToElement(document, LockJson.Default.LockDocument);
        var bytes = JsonText.Write(w => WriteSorted(w, element));
        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
        {
            return;
        }

        AtomicFile.Write(path, bytes);
    }

    /// <summary>Writes a JSON element with object keys in ordinal order, so the file is canonical.</summary>
    private static void WriteSorted(Utf8JsonWriter w, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                w.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    w.WritePropertyName(property.Name);
                    WriteSorted(w, property.Value);
                }

                w.WriteEndObject();
                break;
            case JsonValueKind.Array:
                w.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteSorted(w, item);
                }

                w.WriteEndArray();
                break;
            default:
                element.WriteTo(w);
                break;
        }
    }

    /// <summary>
    /// The lock's serialization contract, generated at compile time: the engine process reads the lock on every build,
    /// and reflection-based metadata cost more start-up (JIT) than the read itself.
    /// </summary>
    /// <remarks>
    /// The options are the web defaults (camelCase, case-insensitive reading) without nulls. A field the records
    /// require (a version's digest, a package's sha256) that is missing or null is refused by name while reading,
    /// instead of becoming a null that a later step trips over.
    /// </remarks>
    [JsonSourceGenerationOptions(
        JsonSerializerDefaults.Web,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true)]
    [JsonSerializable(typeof(LockDocument))]
    internal sealed partial class LockJson : JsonSerializerContext;

    internal sealed class LockDocument
    {
        [JsonPropertyName("$schema")]
        public string? Schema { get; set; }

        public string? Kind { get; set; }
        public int SchemaVersion { get; set; }
        public Dictionary<string, IDictionary<string, LockedVersion>>? Servers { get; set; }
        public Dictionary<string, LockedPackageSet>? PackageBases { get; set; }
    }
}

/// <summary>What one released version of a server is.</summary>
/// <param name="Digest">The image manifest digest; for a multi-platform server, its image index's digest.</param>
/// <param name="ManifestContentDigest">The Kiln manifest's content digest.</param>
/// <param name="Parent">The version this one succeeded, when the lock knew one.</param>
public sealed record LockedVersion(string Digest, string? ManifestContentDigest = null, string? Parent = null)
{
    /// <summary>Why this version exists: the package update it is the first version to carry (null when none).</summary>
    public PackageSetUpdate? Reason { get; init; }

    /// <summary>
    /// For a multi-platform server, each platform's image manifest digest (<c>linux/arm64</c> → digest), which a build
    /// narrowed to some platforms (KilnPlatforms) is checked against; null for a single-platform server.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Platforms { get; init; }
}

/// <summary>
/// A package update taken into a locked package set (<c>kiln lock --update --security-only</c>): what changed and why.
/// The first new version of each server on that base records it as the reason it exists.
/// </summary>
/// <param name="Changes">Every package whose pinned version changed.</param>
/// <param name="Message">The team's note (--message), for example an advisory id.</param>
public sealed record PackageSetUpdate(ImmutableArray<LockedPackageChange> Changes, string? Message = null)
{
    /// <summary>Structural equality: the same update recorded twice is one update.</summary>
    public bool Equals(PackageSetUpdate? other) =>
        other is not null && Message == other.Message && Changes.SequenceEqual(other.Changes);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Message, Changes.Length);

    /// <summary>One line per change, then the message.</summary>
    public string Describe() =>
        string.Join("; ", Changes.Select(c => c.ToString())) + (Message is null ? "" : $" ({Message})");
}

/// <summary>One package's change in a package update.</summary>
/// <param name="Name">The package.</param>
/// <param name="From">The version pinned before (null when added).</param>
/// <param name="To">The version pinned after (null when removed).</param>
/// <param name="Suite">The suite the new version comes from.</param>
/// <param name="Security">Whether it comes from the security suite.</param>
public sealed record LockedPackageChange(string Name, string? From = null, string? To = null, string? Suite = null, bool Security = false)
{
    /// <inheritdoc />
    public override string ToString() => $"{Name} {From ?? "(new)"} -> {To ?? "(removed)"}{(Security ? " [security]" : "")}";
}

/// <summary>A resolved package set for a package base, pinned.</summary>
/// <param name="Suite">The distribution suite (bookworm).</param>
/// <param name="Architecture">The Debian architecture.</param>
/// <param name="Packages">Every package installed, dependencies included, sorted by name.</param>
public sealed record LockedPackageSet(string Suite, string Architecture, ImmutableArray<LockedPackage> Packages)
{
    /// <summary>The last package update taken into this set (null when none); kept so that every server on the base records it once.</summary>
    public PackageSetUpdate? Update { get; init; }
}

/// <summary>One pinned package.</summary>
/// <param name="Origin">
/// The suite the package came from (<c>bookworm</c>, <c>bookworm-updates</c>, <c>bookworm-security</c>); null in locks
/// written before Kiln resolved across suites, meaning the base's own suite.
/// </param>
public sealed record LockedPackage(string Name, string Version, string Architecture, string Sha256, string Filename, long Size, string? Origin = null)
{
    /// <summary>Whether the package came from a security suite.</summary>
    [JsonIgnore]
    public bool IsSecurity => Origin?.EndsWith("-security", StringComparison.Ordinal) == true;
}
