using System.Collections.Immutable;
using System.Formats.Tar;
using System.IO.Compression;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.Lock;
using Kiln.Engine.Packages;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Packages.Tests;

/// <summary>The whole package-base path against a fixture archive served on 127.0.0.1: trust, cache, layers, lock.</summary>
public sealed class PackageBaseBuilderTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("kiln-packages-").FullName;
    private readonly Lazy<FixtureArchive> _archive = new(() =>
    {
        FixtureArchive.RequireTools();
        return new FixtureArchive(
    [
        new FixturePackage("libc-fixture", "2.36-9") { Files = { ["/lib/x86_64-linux-gnu/libc.so.6"] = "libc" }, Symlinks = { ["/lib64/ld-linux-x86-64.so.2"] = "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" } },
        new FixturePackage("runtime-fixture", "1.0-1", Depends: "libc-fixture (>= 2.36), mail-transport-agent") { Files = { ["/usr/lib/runtime/runtime.so"] = "runtime", ["/usr/share/doc/runtime-fixture/copyright"] = "MIT", ["/usr/share/man/man1/runtime.1"] = "man" } },
        new FixturePackage("mta-fixture", "3.0-1", Provides: "mail-transport-agent") { Files = { ["/usr/sbin/mta"] = "mta" } },
    ]);
    });

    private FixtureArchive Archive => _archive.Value;

    [SkippableFact]
    public void Build_FixtureArchive_WritesVerifiedBaseAndPinsPackages()
    {
        var (plan, pinned) = Builder().Build(Server(), Spec("runtime-fixture"), locked: null);

        Assert.Equal(["libc-fixture", "mta-fixture", "runtime-fixture"], pinned.Packages.Select(p => p.Name));
        Assert.Equal(pinned.Packages, plan.Packages);
        var files = ReadLayer(plan, 0);
        Assert.Equal(["libc-fixture", "mta-fixture", "runtime-fixture"], files.Keys.Where(k => k.StartsWith("var/lib/dpkg/status.d/", StringComparison.Ordinal)).Select(k => k["var/lib/dpkg/status.d/".Length..]).Order());
        Assert.Contains("Status: install ok installed", files["var/lib/dpkg/status.d/runtime-fixture"].Text);
        // merged-/usr: /lib is a link into /usr, the package's /lib files moved there, the loader path resolves.
        Assert.Equal("usr/lib", files["lib"].Link);
        Assert.Equal("libc", files["usr/lib/x86_64-linux-gnu/libc.so.6"].Text);
        Assert.Equal("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", files["usr/lib64/ld-linux-x86-64.so.2"].Link);
        Assert.False(files.ContainsKey("usr/share/man/man1/runtime.1"));
        Assert.True(files.ContainsKey("usr/share/doc/runtime-fixture/copyright"));
        var account = ReadLayer(plan, 1);
        Assert.Contains("app:x:10001:10001:", account["etc/passwd"].Text);
        Assert.False(files.ContainsKey("bin/sh") || files.ContainsKey("usr/bin/sh"));
        Assert.Single(Directory.GetFiles(Path.Combine(_work, "cache", "sha256")), f => Path.GetFileName(f) == pinned.Packages[0].Sha256);
    }

    [SkippableFact]
    public void Build_SameLockTwice_SameLayerDigests()
    {
        var (first, pinned) = Builder().Build(Server(), Spec("runtime-fixture"), locked: null);
        Directory.Delete(Path.Combine(_work, "obj"), recursive: true);
        var (second, _) = Builder().Build(Server(), Spec("runtime-fixture"), pinned);

        Assert.Equal(first.Layers.Select(l => l.Digest), second.Layers.Select(l => l.Digest));
        Assert.Equal(first.Manifest!.Digest, second.Manifest!.Digest);
    }

    [SkippableFact]
    public void Build_LockedAndCached_NeedsNoNetwork()
    {
        var (_, pinned) = Builder().Build(Server(), Spec("runtime-fixture"), locked: null);

        var (plan, again) = Builder(mirror: "http://127.0.0.1:9/").Build(Server(), Spec("runtime-fixture"), pinned);

        Assert.Equal(pinned, again);
        Assert.Equal(3, plan.Packages.Length);
    }

    [SkippableFact]
    public void Build_TwoBuildsShareOneCacheAtOnce_BothSucceedWithOneCopyOfEachFile()
    {
        var archive = Archive;

        var results = Enumerable.Range(0, 2).AsParallel().WithDegreeOfParallelism(2)
            .Select(i => Builder(intermediate: Path.Combine(_work, $"obj{i}")).Build(Server(), Spec("runtime-fixture"), locked: null))
            .ToList();

        Assert.Equal(results[0].Plan.Layers.Select(l => l.Digest), results[1].Plan.Layers.Select(l => l.Digest));
        var cached = Directory.GetFiles(Path.Combine(_work, "cache", "sha256")).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(results[0].Pinned.Packages.Select(p => p.Sha256).Append(IndexSha256(archive)).Order(), cached);
        Assert.Empty(Directory.GetFiles(Path.Combine(_work, "cache", "tmp")));
    }

    [SkippableFact]
    public void Plan_DebianBase_PinsTheSetInTheLockAndDropsSetsNoSpecUses()
    {
        var stale = new LockedPackageSet(FixtureArchive.Suite, "amd64", []);
        var planner = new Kiln.Engine.Planning.Planner(Project(), KilnLock.Empty with { PackageBases = KilnLock.Empty.PackageBases.Add("gone/amd64: x", stale) }) { Packages = Packages() };

        var plans = planner.Plan([Server() with { Base = Spec("runtime-fixture") }]);

        Assert.Equal(["libc-fixture", "mta-fixture", "runtime-fixture"], plans.Single().Base.Packages.Select(p => p.Name));
        Assert.Equal([PackageBaseBuilder.LockKey(Spec("runtime-fixture"))], planner.Lock.PackageBases.Keys);
    }

    [SkippableFact]
    public void Build_ForeignSignature_ReportsKILN2043AndCachesNothing()
    {
        Archive.SignReleaseWithForeignKey();

        var error = Assert.Throws<KilnException>(() => Builder().Build(Server(), Spec("runtime-fixture"), locked: null));

        Assert.Equal(DiagnosticCodes.ReleaseSignatureInvalid, error.Diagnostics[0].Code);
        AssertNothingWritten();
    }

    [SkippableFact]
    public void Build_ExpiredValidUntil_ReportsKILN2051AndCachesNothing()
    {
        Archive.SignRelease(validUntil: "Sat, 01 Jan 2000 00:00:00 UTC");

        var error = Assert.Throws<KilnException>(() => Builder().Build(Server(), Spec("runtime-fixture"), locked: null));

        Assert.Equal(DiagnosticCodes.ReleaseExpired, error.Diagnostics[0].Code);
        Assert.Contains("2000-01-01 00:00:00 UTC", error.Diagnostics[0].Message);
        AssertNothingWritten();
    }

    [SkippableFact]
    public void Build_UnreadableValidUntil_ReportsKILN2052AndCachesNothing()
    {
        // Signed, so the date is the archive's word: a field Kiln cannot read must not pass as "no expiry".
        Archive.SignRelease(validUntil: "sometime next week");

        var error = Assert.Throws<KilnException>(() => Builder().Build(Server(), Spec("runtime-fixture"), locked: null));

        Assert.Equal(DiagnosticCodes.ReleaseDateUnreadable, error.Diagnostics[0].Code);
        Assert.Contains("sometime next week", error.Diagnostics[0].Message);
        AssertNothingWritten();
    }

    [SkippableFact]
    public void Build_LockedAndCachedAfterReleaseExpired_BuildsFromTheLock()
    {
        Archive.SignRelease(validUntil: "Fri, 01 Jan 2100 00:00:00 UTC");
        var first = Builder().Build(Server(), Spec("runtime-fixture"), locked: null);
        Archive.SignRelease(validUntil: "Sat, 01 Jan 2000 00:00:00 UTC");

        var second = Builder().Build(Server(), Spec("runtime-fixture"), first.Pinned);

        Assert.Equal(first.Plan.Layers.Select(l => l.Digest), second.Plan.Layers.Select(l => l.Digest));
        var error = Assert.Throws<KilnException>(() => Builder(updateLock: true).Build(Server(), Spec("runtime-fixture"), first.Pinned));
        Assert.Equal(DiagnosticCodes.ReleaseExpired, error.Diagnostics[0].Code);
    }

    [SkippableFact]
    public void Build_SuiteWithoutUpdatesOrSecurity_ResolvesFromTheSuiteAndRecordsIt()
    {
        var pinned = Builder().Build(Server(), Spec("runtime-fixture"), locked: null).Pinned;

        Assert.All(pinned.Packages, p => Assert.Equal(FixtureArchive.Suite, p.Origin));
        Assert.Equal(1, Archive.RequestsFor($"dists/{FixtureArchive.Suite}-security/InRelease"));
    }

    [SkippableFact]
    public void Build_TamperedSignedText_ReportsKILN2043()
    {
        var inRelease = Archive.PathOf($"dists/{FixtureArchive.Suite}/InRelease");
        File.WriteAllText(inRelease, File.ReadAllText(inRelease).Replace("Origin: Kiln", "Origin: Evil"));

        var error = Assert.Throws<KilnException>(() => Builder().Build(Server(), Spec("runtime-fixture"), locked: null));

        Assert.Equal(DiagnosticCodes.ReleaseSignatureInvalid, error.Diagnostics[0].Code);
        AssertNothingWritten();
    }

    [SkippableFact]
    public void Build_IndexNotMatchingRelease_ReportsKILN2044AndCachesNothing()
    {
        var index = Archive.PathOf($"dists/{FixtureArchive.Suite}/main/binary-amd64/Packages.xz");
        var bytes = File.ReadAllBytes(index);
        bytes[^20] ^= 0xFF;
        File.WriteAllBytes(index, bytes);

        var error = Assert.Throws<KilnException>(() => Builder().Build(Server(), Spec("runtime-fixture"), locked: null));

        Assert.Equal(DiagnosticCodes.PackageIndexHashMismatch, error.Diagnostics[0].Code);
        AssertNothingWritten();
    }

    [SkippableFact]
    public void Build_DebNotMatchingIndex_ReportsKILN2045AndCachesNothing()
    {
        var deb = Directory.GetFiles(Archive.PathOf("pool"), "mta-fixture_*.deb", SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(deb);
        bytes[^10] ^= 0xFF;
        File.WriteAllBytes(deb, bytes);

        var error = Assert.Throws<KilnException>(() => Builder().Build(Server(), Spec("runtime-fixture"), locked: null));

        Assert.Equal(DiagnosticCodes.PackageHashMismatch, error.Diagnostics[0].Code);
        Assert.Contains("mta-fixture", error.Diagnostics[0].Message);
        AssertNothingWritten();
    }

    [SkippableFact]
    public void Build_TruncatedDownload_RetriesThenReportsKILN1041()
    {
        Archive.TruncateSuffix = ".deb";

        var error = Assert.Throws<KilnException>(() => Builder().Build(Server(), Spec("libc-fixture"), locked: null));

        Assert.Equal(DiagnosticCodes.PackageDownloadIncomplete, error.Diagnostics[0].Code);
        Assert.True(Archive.RequestsFor(".deb") > 1, "a short transfer is retried");
        AssertNothingWritten();
    }

    [SkippableFact]
    public void Build_UnknownPackage_ReportsKILN2040WithSuggestion()
    {
        var error = Assert.Throws<KilnException>(() => Builder().Build(Server(), Spec("runtime-fixtur"), locked: null));

        Assert.Equal(DiagnosticCodes.PackageUnknown, error.Diagnostics[0].Code);
        Assert.Contains("Did you mean: runtime-fixture", error.Diagnostics[0].Message);
        AssertNothingWritten();
    }

    [SkippableFact]
    public void Build_LockedVersionNoLongerServed_ReportsKILN2042NamingTheFix()
    {
        var (_, pinned) = Builder().Build(Server(), Spec("libc-fixture"), locked: null);
        Directory.Delete(Path.Combine(_work, "cache"), recursive: true);
        var stale = pinned with { Packages = [pinned.Packages[0] with { Version = "2.36-8" }] };

        var error = Assert.Throws<KilnException>(() => Builder().Build(Server(), Spec("libc-fixture"), stale));

        Assert.Equal(DiagnosticCodes.PackageLockedVersionGone, error.Diagnostics[0].Code);
        Assert.Contains("KilnUpdateLock=true", error.Diagnostics[0].Message);
    }

    [SkippableFact]
    public void Build_UpdateLock_ReResolvesInsteadOfUsingThePins()
    {
        var (_, pinned) = Builder().Build(Server(), Spec("libc-fixture"), locked: null);
        var stale = pinned with { Packages = [pinned.Packages[0] with { Version = "2.36-8" }] };

        var (_, updated) = Builder(updateLock: true).Build(Server(), Spec("libc-fixture"), stale);

        Assert.Equal("2.36-9", updated.Packages.Single().Version);
    }

    public void Dispose()
    {
        if (_archive.IsValueCreated)
        {
            _archive.Value.Dispose();
        }

        Directory.Delete(_work, recursive: true);
    }

    private void AssertNothingWritten()
    {
        var cache = Path.Combine(_work, "cache");
        Assert.Empty(Directory.Exists(cache) ? Directory.GetFiles(cache, "*", SearchOption.AllDirectories) : []);
        Assert.False(Directory.Exists(Path.Combine(_work, "obj", "package-bases")));
    }

    private static string IndexSha256(FixtureArchive archive) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(archive.PathOf($"dists/{FixtureArchive.Suite}/main/binary-amd64/Packages.xz"))));

    private PackageBaseBuilder Builder(string? mirror = null, bool updateLock = false, string? intermediate = null) => new(
        Packages(mirror),
        new HttpClient(),
        new Kiln.Oci.Http.RetryOptions { Budget = TimeSpan.FromSeconds(30), Time = new Kiln.Tests.Shared.InstantTimeProvider() })
    {
        Project = Project(intermediate),
        UpdatePins = updateLock,
    };

    private ProjectOptions Project(string? intermediate = null) => new()
    {
        ProjectDirectory = _work,
        IntermediateDirectory = intermediate ?? Path.Combine(_work, "obj"),
    };

    private PackageOptions Packages(string? mirror = null) => new()
    {
        CacheDirectory = Path.Combine(_work, "cache"),
        Mirror = mirror ?? Archive.Mirror,
        Keyring = Archive.Keyring,
    };

    private static DebianBase Spec(params string[] packages) => new(FixtureArchive.Suite, [.. packages], "amd64");

    private static ResolvedServer Server() => new()
    {
        SpecType = "Fixture.Server",
        Name = "fixture",
        Version = "1.0.0",
        Base = BaseImage.Scratch,
        Layers = [],
        Account = Account.Default,
        WorkingDirectory = "/",
        Arguments = [],
        Environment = [],
        Ports = [],
        Limits = new Limits(),
        Labels = [],
        Volumes = [],
        Secrets = [],
    };

    private static Dictionary<string, (string? Text, string? Link)> ReadLayer(Kiln.Engine.Planning.BasePlan plan, int index)
    {
        using var blob = plan.Source!.OpenBlob(plan.Layers[index].Digest);
        using var gzip = new GZipStream(blob, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var files = new Dictionary<string, (string?, string?)>(StringComparer.Ordinal);
        while (reader.GetNextEntry() is { } entry)
        {
            string? text = null;
            if (entry.DataStream is { } data)
            {
                text = new StreamReader(data).ReadToEnd();
            }

            files[entry.Name.TrimEnd('/')] = (text, entry.EntryType == TarEntryType.SymbolicLink ? entry.LinkName : null);
        }

        return files;
    }
}
