using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Kiln.Engine;
using Kiln.Engine.Deploy;
using Kiln.Engine.Diff;
using Kiln.Engine.Lock;
using Kiln.Engine.Manifests;
using Kiln.Engine.Query;
using Kiln.Oci;

namespace Kiln.Fuzz;

/// <summary>Kiln's own JSON read back by later verbs: kiln.lock.json, Kiln manifests (diff, query, verify) and
/// release.json (plan, diff). Each is fed through the public verb that reads it.</summary>
internal static class KilnJsonTargets
{
    private static readonly byte[][] JsonTokens =
    [
        .. new[]
        {
            "null", "true", "[]", "{}", "\"\"", "-1", "1e400", "\"kind\":\"KilnManifest\",", "\"kind\":\"KilnRelease\",", "\"kind\":\"KilnLock\",",
            "\"content\":", "\"images\":", "\"settings\":", "\"packages\":[{}],", "\"inventory\":", "\"lineage\":", "\"volumes\":[null],",
            "\"schemaVersion\":2147483648,", "\"deployments\":[", "\"components\":", "\\u0000", "../", "\"servers\":", "\"packageBases\":",
        }.Select(Encoding.UTF8.GetBytes),
    ];

    private const string Inventory = "# kiln inventory v1\n/\td\t755\t0\t0\t0\t-\t-\n/app\td\t755\t0\t0\t0\t-\t-\n/app/server\tf\t755\t0\t0\t5\t" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + "\t-\n/app/current\tl\t777\t0\t0\t0\t-\t/app/server\n";

    public static IEnumerable<FuzzTarget> All() =>
    [
        new()
        {
            Name = "kiln-lock",
            Description = "KilnLock.Load (kiln.lock.json)",
            Seeds = _ => [LockSeed()],
            Run = (input, scratch) => _ = KilnLock.Load(scratch.WriteInput(input, KilnLock.FileName)).Servers.Count,
            Shape = InputShape.Json,
            Tokens = JsonTokens,
        },
        new()
        {
            Name = "kiln-manifest",
            Description = "ManifestDocument.Load via kiln diff and kiln query (a Kiln manifest)",
            Seeds = scratch => [ManifestSeed(scratch, "1.0.0", parent: null), ManifestSeed(scratch, "1.1.0", parent: "1.0.0")],
            Run = RunManifest,
            Shape = InputShape.Json,
            Tokens = JsonTokens,
        },
        new()
        {
            Name = "release-json",
            Description = "release.json via kiln plan and kiln diff",
            Seeds = scratch => [ReleaseSeed(scratch, deployments: true), ReleaseSeed(scratch, deployments: false)],
            Run = RunRelease,
            Shape = InputShape.Json,
            Tokens = JsonTokens,
        },
    ];

    private static byte[] LockSeed()
    {
        var versions = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new[]
        {
            KeyValuePair.Create("1.0.0", new LockedVersion(Digest.Sha256("1"u8).ToString())),
            KeyValuePair.Create("1.1.0", new LockedVersion(Digest.Sha256("2"u8).ToString(), Digest.Sha256("m"u8).ToString(), "1.0.0")),
        });
        var lockFile = new KilnLock
        {
            Servers = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("fuzz", versions)]),
            PackageBases = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("bookworm/amd64/libc6", new LockedPackageSet("bookworm", "amd64", [new LockedPackage("libc6", "2.36-9", "amd64", new string('a', 64), "pool/main/g/glibc/libc6_2.36-9_amd64.deb", 2_000_000)]))]),
        };
        string path = Path.Combine(Path.GetTempPath(), $"kiln-fuzz-lock-{Environment.ProcessId}.json");
        try
        {
            lockFile.Save(path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Directory with manifests/ and inventory/ as a build writes them, holding a valid manifest per version.</summary>
    private static string Artifacts(FuzzScratch scratch)
    {
        string root = Path.Combine(scratch.Root, "kiln");
        Directory.CreateDirectory(Path.Combine(root, "manifests"));
        Directory.CreateDirectory(Path.Combine(root, "inventory"));
        File.WriteAllText(Path.Combine(root, "inventory", "fuzz.txt"), Inventory);
        return root;
    }

    private static byte[] ManifestSeed(FuzzScratch scratch, string version, string? parent)
    {
        string root = Artifacts(scratch);
        string inventoryDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Inventory)));
        string lineage = parent is null ? "{}" : $"{{\"parentVersion\":\"{parent}\"}}";
        string json = $$"""
            {"kind":"KilnManifest","schemaVersion":1,"content":{"name":"fuzz","version":"{{version}}","reference":"fuzz:{{version}}",
            "image":{"digest":"{{Digest.Sha256(Encoding.UTF8.GetBytes(version))}}","mediaType":"application/vnd.oci.image.manifest.v1+json","size":812},
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Digest.Sha256("config"u8)}}","size":300},
            "base":{"name":"debian:bookworm","digest":"{{Digest.Sha256("base"u8)}}"},
            "layers":[{"digest":"{{Digest.Sha256("l"u8)}}","diffId":"{{Digest.Sha256("d"u8)}}","size":100,"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","source":"publish","files":3}],
            "packages":[{"name":"libc6","version":"2.36-9","architecture":"amd64","sha256":"{{new string('a', 64)}}"}],
            "inventory":{"path":"inventory/fuzz.txt","digest":"{{inventoryDigest}}","entries":4},
            "spec":{"type":"Fuzz.Spec","source":"Specs/Fuzz.cs","line":12},
            "settings":{"account":{"name":"app","uid":10001,"gid":10001},"user":"10001:10001","workingDirectory":"/app",
              "entrypoint":["/app/server"],"arguments":[],"environment":["A"],"ports":["8080/tcp"],"limits":{"openFiles":65536},
              "health":{"kind":"http","port":8080,"path":"/healthz","intervalSeconds":10,"timeoutSeconds":2,"startPeriodSeconds":0,"retries":3},
              "labels":{"a":"b"},"volumes":["/data"],"secrets":["db"]} },
            "contentDigest":"{{Digest.Sha256("c"u8)}}","lineage":{{lineage}},
            "build":{"kilnVersion":"0.1.0","sdkVersion":"10.0.401"} }
            """;
        File.WriteAllText(Path.Combine(root, "manifests", $"fuzz-{version}.json"), json);
        return Encoding.UTF8.GetBytes(json);
    }

    private static void RunManifest(byte[] input, FuzzScratch scratch)
    {
        string root = Artifacts(scratch);
        string path = Path.Combine(root, "manifests", "input.json");
        File.WriteAllBytes(path, input);
        var document = ManifestDocument.Load(path);
        _ = (document.Reference, document.ParentVersion, document.Volumes.Length, document.Packages.Length, document.ContentDigest);
        _ = KilnEngine.Diff(new DiffRequest(Path.Combine(root, "manifests", "fuzz-1.0.0.json"), path));
        _ = KilnEngine.Query(new QueryRequest("user", [path]));
        _ = KilnEngine.Query(new QueryRequest("limits.openFiles", [path]));
    }

    private static byte[] ReleaseSeed(FuzzScratch scratch, bool deployments)
    {
        ManifestSeed(scratch, "1.0.0", null);
        ManifestSeed(scratch, "1.1.0", "1.0.0");
        string extra = deployments ? ",\"deployments\":[{\"name\":\"shop\",\"directory\":\"deploy/shop\",\"components\":[\"fuzz:1.1.0\"]}]" : "";
        string json = $$"""
            {"kind":"KilnRelease","schemaVersion":1,"layout":"oci","images":[
            {"name":"fuzz","version":"1.1.0","reference":"fuzz:1.1.0","digest":"{{Digest.Sha256("1.1.0"u8)}}","mediaType":"application/vnd.oci.image.manifest.v1+json","size":812,
             "configDigest":"{{Digest.Sha256("cfg"u8)}}","manifest":"manifests/fuzz-1.1.0.json","manifestContentDigest":"{{Digest.Sha256("c"u8)}}","inventory":"inventory/fuzz.txt"}]
            {{extra}} }
            """;
        return Encoding.UTF8.GetBytes(json);
    }

    private static void RunRelease(byte[] input, FuzzScratch scratch)
    {
        string root = Artifacts(scratch);
        string before = Path.Combine(root, "before.json");
        if (!File.Exists(before))
        {
            File.WriteAllText(before, Encoding.UTF8.GetString(ReleaseSeed(scratch, deployments: true)).Replace("1.1.0", "1.0.0", StringComparison.Ordinal));
        }

        string path = Path.Combine(root, "release.json");
        File.WriteAllBytes(path, input);
        _ = KilnEngine.Plan(new PlanRequest(before, path)).Components.Length;
        _ = KilnEngine.Diff(new DiffRequest(path, before)).Settings.Length;
    }
}
