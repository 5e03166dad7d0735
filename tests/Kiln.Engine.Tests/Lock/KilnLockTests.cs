using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Lock;
using Kiln.Oci;

namespace Kiln.Engine.Tests.Lock;

/// <summary>
/// kiln.lock.json's parse and serialise shape: what Save writes loads back to the same bytes and satisfies
/// docs/schemas/kiln-lock.schema.json (as does the sample's committed lock); a required field that is missing or null
/// is refused as KILN5001 naming it, rather than read as a null.
/// </summary>
public sealed class KilnLockTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kiln-lock-").FullName;

    private static readonly Lazy<string> RepositoryRoot = new(() => Repo.Root);

    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(RepositoryRoot.Value, "docs", "schemas", "kiln-lock.schema.json")), new BuildOptions { SchemaRegistry = new SchemaRegistry() }));

    private static KilnLock Sample() => new()
    {
        Servers = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
        [
            KeyValuePair.Create("orders-api", ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [
                KeyValuePair.Create("1.0.0", new LockedVersion(Digest.Sha256("1"u8).ToString())),
                KeyValuePair.Create("1.1.0", new LockedVersion(Digest.Sha256("2"u8).ToString(), Digest.Sha256("m"u8).ToString(), "1.0.0")),
                // A multi-platform version: the index digest, and each platform's manifest digest.
                KeyValuePair.Create("1.2.0", new LockedVersion(Digest.Sha256("3"u8).ToString(), Digest.Sha256("n"u8).ToString(), "1.1.0")
                {
                    Platforms = new Dictionary<string, string> { ["linux/arm64"] = Digest.Sha256("arm"u8).ToString(), ["linux/amd64"] = Digest.Sha256("amd"u8).ToString() },
                }),
            ])),
        ]),
        PackageBases = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
        [
            KeyValuePair.Create("bookworm/amd64: libc6", new LockedPackageSet("bookworm", "amd64", [new LockedPackage("libc6", "2.36-9", "amd64", new string('a', 64), "pool/main/g/glibc/libc6_2.36-9_amd64.deb", 2_000_000)])),
        ]),
    };

    private string Saved()
    {
        var path = Path.Combine(_directory, KilnLock.FileName);
        Sample().Save(path);
        return path;
    }

    private static void AssertValid(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var result = Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, string.Join('\n', (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    [Fact]
    public void Save_Lock_LoadsBackToTheSameBytesAndSatisfiesSchema()
    {
        var path = Saved();
        var bytes = File.ReadAllBytes(path);
        var again = Path.Combine(_directory, "again.json");

        KilnLock.Load(path).Save(again);

        Assert.Equal(bytes, File.ReadAllBytes(again));
        AssertValid(path);
    }

    [Fact]
    public void Load_CommittedSampleLock_LoadsAndSatisfiesSchema()
    {
        var path = Path.Combine(RepositoryRoot.Value, "samples", "Shop", KilnLock.FileName);

        var lockFile = KilnLock.Load(path);

        Assert.False(lockFile.IsEmpty);
        AssertValid(path);
    }

    [Fact]
    public void Save_CommittedSampleLock_WritesTheSameBytes()
    {
        var committed = Path.Combine(RepositoryRoot.Value, "samples", "Shop", KilnLock.FileName);
        var again = Path.Combine(_directory, KilnLock.FileName);

        KilnLock.Load(committed).Save(again);

        Assert.Equal(File.ReadAllBytes(committed), File.ReadAllBytes(again));
    }

    [Fact]
    public void LockJson_EveryField_SerializesAndReadsAsTheReflectionOptionsDid()
    {
        // The options the lock was written with before its contract was generated at compile time.
        var reflection = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
        };
        var change = new LockedPackageChange("libc6", "2.36-9", "2.36-9+deb12u1", "bookworm-security", Security: true);
        var update = new PackageSetUpdate([change, new LockedPackageChange("zlib1g", "1:1.2.13", "1:1.2.13+deb12u1", "bookworm-updates", false)], "DSA-0000-1");
        var document = new KilnLock.LockDocument
        {
            Schema = KilnLock.SchemaUri,
            Kind = KilnLock.Kind,
            SchemaVersion = 1,
            Servers = new()
            {
                ["orders-api"] = new Dictionary<string, LockedVersion>
                {
                    ["1.0.0"] = new(Digest.Sha256("1"u8).ToString()),
                    ["1.1.0"] = new(Digest.Sha256("2"u8).ToString(), Digest.Sha256("m"u8).ToString(), "1.0.0")
                    {
                        Reason = update,
                        Platforms = new Dictionary<string, string> { ["linux/amd64"] = Digest.Sha256("amd"u8).ToString(), ["linux/arm64"] = Digest.Sha256("arm"u8).ToString() },
                    },
                },
            },
            PackageBases = new()
            {
                ["bookworm/amd64: libc6"] = new("bookworm", "amd64", [new LockedPackage("libc6", "2.36-9+deb12u1", "amd64", new string('a', 64), "pool/updates/main/g/glibc/libc6_2.36-9+deb12u1_amd64.deb", 2_000_000, "bookworm-security"), new LockedPackage("zlib1g", "1:1.2.13", "amd64", new string('b', 64), "pool/main/z/zlib/zlib1g_1.2.13_amd64.deb", 90_000)]) { Update = update },
            },
        };

        var generated = JsonSerializer.SerializeToUtf8Bytes(document, KilnLock.LockJson.Default.LockDocument);
        var expected = JsonSerializer.SerializeToUtf8Bytes(document, reflection);
        var readBack = JsonSerializer.Deserialize(expected, KilnLock.LockJson.Default.LockDocument)!;

        Assert.Equal(expected, generated);
        Assert.Equal(expected, JsonSerializer.SerializeToUtf8Bytes(readBack, reflection));
    }

    [Fact]
    public void Save_UpdateThatAddsAndRemovesPackages_LoadsBack()
    {
        // An added package has no version before, a removed one none after: both are left out of the file.
        var update = new PackageSetUpdate([new LockedPackageChange("libzstd1", From: null, To: "1.5.4+dfsg2-5", Suite: "bookworm", Security: false), new LockedPackageChange("liblz4-1", "1.9.4-1", To: null, Suite: null, Security: false)]);
        var set = new LockedPackageSet("bookworm", "amd64", [new LockedPackage("libzstd1", "1.5.4+dfsg2-5", "amd64", new string('c', 64), "pool/main/libz/libzstd/libzstd1_1.5.4+dfsg2-5_amd64.deb", 300_000)]) { Update = update };
        var path = Path.Combine(_directory, "kiln.lock.json");
        (KilnLock.Empty with { PackageBases = KilnLock.Empty.PackageBases.SetItem("bookworm/amd64: libzstd1", set) }).Save(path);

        var loaded = KilnLock.Load(path);

        var changes = loaded.PackageBases["bookworm/amd64: libzstd1"].Update!.Changes;
        Assert.Equal(update.Changes.Select(c => (c.Name, c.From, c.To, c.Suite, c.Security)), changes.Select(c => (c.Name, c.From, c.To, c.Suite, c.Security)));
        Assert.DoesNotContain("null", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("servers.orders-api.1.1.0", "digest")]
    [InlineData("packageBases.bookworm/amd64: libc6", "suite")]
    [InlineData("packageBases.bookworm/amd64: libc6", "packages")]
    [InlineData("packageBases.bookworm/amd64: libc6.packages.0", "sha256")]
    [InlineData("packageBases.bookworm/amd64: libc6.packages.0", "size")]
    public void Load_RequiredFieldMissing_ThrowsKiln5001NamingTheField(string parent, string field)
    {
        var path = Saved();
        var root = JsonNode.Parse(File.ReadAllBytes(path))!;
        Navigate(root, parent).AsObject().Remove(field);
        File.WriteAllText(path, root.ToJsonString());

        var e = Assert.Throws<KilnException>(() => KilnLock.Load(path));

        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal(DiagnosticCodes.LockUnreadable, diagnostic.Code);
        Assert.Contains(path, diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains($"'{field}'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DigestNull_ThrowsKiln5001()
    {
        var path = Saved();
        var root = JsonNode.Parse(File.ReadAllBytes(path))!;
        root["servers"]!["orders-api"]!["1.0.0"]!["digest"] = null;
        File.WriteAllText(path, root.ToJsonString());

        var e = Assert.Throws<KilnException>(() => KilnLock.Load(path));

        Assert.Equal(DiagnosticCodes.LockUnreadable, Assert.Single(e.Diagnostics).Code);
        Assert.Contains("digest", e.Diagnostics[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Truncated_ThrowsKiln5001()
    {
        var path = Saved();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<KilnException>(() => KilnLock.Load(path));

        Assert.Equal(DiagnosticCodes.LockUnreadable, Assert.Single(e.Diagnostics).Code);
    }

    private static JsonNode Navigate(JsonNode root, string path)
    {
        var node = root;
        var rest = path;
        while (rest.Length > 0)
        {
            // Keys contain dots (versions) and spaces (package base keys): take the longest key that exists.
            var key = ((JsonObject?)(node as JsonObject) is { } o
                ? o.Select(p => p.Key).Where(k => rest == k || rest.StartsWith(k + ".", StringComparison.Ordinal)).MaxBy(k => k.Length)
                : rest.Split('.')[0])!;
            node = node is JsonArray array ? array[int.Parse(key, System.Globalization.CultureInfo.InvariantCulture)]! : node[key]!;
            rest = rest.Length == key.Length ? "" : rest[(key.Length + 1)..];
        }

        return node;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
