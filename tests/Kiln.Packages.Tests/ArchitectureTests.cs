using System.Formats.Tar;
using System.IO.Compression;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.Lock;
using Kiln.Engine.Packages;
using Kiln.Engine.Planning;
using Kiln.Engine.Planning.Bases;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;
using Platform = Kiln.Oci.Platform;

namespace Kiln.Packages.Tests;

/// <summary>
/// Package bases per Debian architecture against a fixture archive publishing amd64 and arm64 (served on 127.0.0.1):
/// each architecture's index verified and resolved, Architecture: all packages shared, one lock set per architecture.
/// </summary>
public sealed class ArchitectureTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("kiln-arch-").FullName;
    private readonly Lazy<FixtureArchive> _archive = new(() =>
    {
        FixtureArchive.RequireTools();
        return new FixtureArchive(
        [
            new FixturePackage("libc-fixture", "2.36-8") { Files = { ["/lib/x86_64-linux-gnu/libc.so.6"] = "libc amd64 old" } },
            new FixturePackage("libc-fixture", "2.36-9") { Files = { ["/lib/x86_64-linux-gnu/libc.so.6"] = "libc amd64" } },
            new FixturePackage("libc-fixture", "2.36-8", Architecture: "arm64") { Files = { ["/lib/aarch64-linux-gnu/libc.so.6"] = "libc arm64 old" } },
            new FixturePackage("libc-fixture", "2.36-9", Architecture: "arm64") { Files = { ["/lib/aarch64-linux-gnu/libc.so.6"] = "libc arm64" } },
            new FixturePackage("data-fixture", "1.0-1", Architecture: "all") { Files = { ["/usr/share/data-fixture/zones"] = "shared data" } },
            new FixturePackage("data-fixture", "1.0-2", Architecture: "all") { Files = { ["/usr/share/data-fixture/zones"] = "shared data, newer" } },
            new FixturePackage("runtime-fixture", "1.0-1", Depends: "libc-fixture (>= 2.36), data-fixture") { Files = { ["/usr/lib/x86_64-linux-gnu/runtime.so"] = "runtime amd64" } },
            new FixturePackage("runtime-fixture", "1.0-1", Depends: "libc-fixture (>= 2.36), data-fixture", Architecture: "arm64") { Files = { ["/usr/lib/aarch64-linux-gnu/runtime.so"] = "runtime arm64" } },
            new FixturePackage("x86-only-fixture", "1.0-1") { Files = { ["/usr/lib/x86_64-linux-gnu/x86.so"] = "x86" } },
        ],
        ["amd64", "arm64"]);
    });

    private FixtureArchive Archive => _archive.Value;

    [SkippableFact]
    public void Build_Arm64_ResolvesTheArm64IndexAndAssemblesArm64Files()
    {
        var (plan, pinned) = Builder().Build(Server(), Spec("arm64", "runtime-fixture"), locked: null);

        Assert.Equal(("testing", "arm64"), (pinned.Suite, pinned.Architecture));
        Assert.Equal(
            [("data-fixture", "1.0-2", "all"), ("libc-fixture", "2.36-9", "arm64"), ("runtime-fixture", "1.0-1", "arm64")],
            pinned.Packages.Select(p => (p.Name, p.Version, p.Architecture)));
        Assert.Equal("arm64", plan.Config!.Architecture);
        Assert.Equal("testing/arm64: runtime-fixture", PackageBaseBuilder.LockKey(Spec("arm64", "runtime-fixture")));
        var files = ReadLayer(plan, 0);
        Assert.Equal("libc arm64", files["usr/lib/aarch64-linux-gnu/libc.so.6"]);
        Assert.Equal("runtime arm64", files["usr/lib/aarch64-linux-gnu/runtime.so"]);
        Assert.DoesNotContain(files.Keys, k => k.Contains("x86_64", StringComparison.Ordinal));
        Assert.Contains("Architecture: arm64", files["var/lib/dpkg/status.d/libc-fixture"]);
        Assert.Equal(1, Archive.RequestsFor("main/binary-arm64/Packages.xz"));
        Assert.Equal(0, Archive.RequestsFor("main/binary-amd64/Packages.xz"));
    }

    [SkippableFact]
    public void Build_TwoArchitectures_ShareTheArchitectureAllPinAndItsDownload()
    {
        var amd64 = Builder().Build(Server(), Spec("amd64", "runtime-fixture"), locked: null).Pinned;

        var arm64 = Builder().Build(Server(), Spec("arm64", "runtime-fixture"), locked: null, siblings: [amd64]).Pinned;

        Assert.Equal(amd64.Packages.Single(p => p.Name == "data-fixture"), arm64.Packages.Single(p => p.Name == "data-fixture"));
        Assert.NotEqual(amd64.Packages.Single(p => p.Name == "libc-fixture").Sha256, arm64.Packages.Single(p => p.Name == "libc-fixture").Sha256);
        Assert.Equal(1, Archive.RequestsFor("data-fixture_1.0-2_all.deb"));
    }

    [SkippableFact]
    public void Build_SiblingPinsAnOlderArchitectureAllVersion_TheSameVersionIsTaken()
    {
        // amd64 was locked when data-fixture 1.0-1 was the newest; arm64, added later, installs the same file.
        var amd64 = Builder().Build(Server(), Spec("amd64", "runtime-fixture", "data-fixture=1.0-1"), locked: null).Pinned;

        var arm64 = Builder().Build(Server(), Spec("arm64", "runtime-fixture"), locked: null, siblings: [amd64]).Pinned;

        Assert.Equal("1.0-1", arm64.Packages.Single(p => p.Name == "data-fixture").Version);
    }

    [SkippableFact]
    public void Build_SameArm64LockTwice_SameLayerDigests()
    {
        var (first, pinned) = Builder().Build(Server(), Spec("arm64", "runtime-fixture"), locked: null);
        Directory.Delete(Path.Combine(_work, "obj"), recursive: true);

        var (second, _) = Builder(mirror: "http://127.0.0.1:9/").Build(Server(), Spec("arm64", "runtime-fixture"), pinned);

        Assert.Equal(first.Layers.Select(l => l.Digest), second.Layers.Select(l => l.Digest));
        Assert.Equal(first.Manifest!.Digest, second.Manifest!.Digest);
    }

    [SkippableFact]
    public void Build_LockedArm64SetPinsArchitectureAllDifferently_ReportsKILN2153()
    {
        var amd64 = Builder().Build(Server(), Spec("amd64", "runtime-fixture"), locked: null).Pinned;
        var arm64 = Builder().Build(Server(), Spec("arm64", "runtime-fixture"), locked: null).Pinned;
        var edited = arm64 with { Packages = [.. arm64.Packages.Select(p => p.Name == "data-fixture" ? p with { Version = "1.0-1" } : p)] };

        var error = Assert.Throws<KilnException>(() => Builder().Build(Server(), Spec("arm64", "runtime-fixture"), edited, siblings: [amd64]));

        Assert.Equal(DiagnosticCodes.PackageSharedPinMismatch, error.Diagnostics[0].Code);
        Assert.Contains("'data-fixture'", error.Diagnostics[0].Message);
        Assert.Contains("arm64", error.Diagnostics[0].Message);
        Assert.Contains("amd64", error.Diagnostics[0].Message);
    }

    [SkippableFact]
    public void Build_PackageOnlyOnAmd64_OnArm64ReportsKILN2152NamingArchitecturePackageAndSuite()
    {
        var amd64 = Builder().Build(Server(), Spec("amd64", "x86-only-fixture"), locked: null).Pinned;

        var error = Assert.Throws<KilnException>(() => Builder().Build(Server(), Spec("arm64", "x86-only-fixture"), locked: null, siblings: [amd64]));

        Assert.Equal(DiagnosticCodes.PackageMissingForArchitecture, error.Diagnostics[0].Code);
        Assert.Contains("'x86-only-fixture'", error.Diagnostics[0].Message);
        Assert.Contains($"suite '{FixtureArchive.Suite}", error.Diagnostics[0].Message);
        Assert.Contains("for amd64 but not for arm64", error.Diagnostics[0].Message);
    }

    [SkippableFact]
    public void Build_PackageMissingOnArm64WithoutSibling_ReportsKILN2040NamingTheArchitecture()
    {
        var error = Assert.Throws<KilnException>(() => Builder().Build(Server(), Spec("arm64", "x86-only-fixture"), locked: null));

        Assert.Equal(DiagnosticCodes.PackageUnknown, error.Diagnostics[0].Code);
        Assert.Contains("'x86-only-fixture' is not in suite", error.Diagnostics[0].Message);
        Assert.Contains($"{FixtureArchive.Suite}-security' for arm64", error.Diagnostics[0].Message);
    }

    [SkippableFact]
    public void Build_SuitePublishesNoArm64_ReportsKILN2151AndCachesNothing()
    {
        FixtureArchive.RequireTools();
        using var amd64Only = new FixtureArchive([new FixturePackage("libc-fixture", "2.36-9")]);

        var error = Assert.Throws<KilnException>(() => Builder(amd64Only).Build(Server(), Spec("arm64", "libc-fixture"), locked: null));

        Assert.Equal(DiagnosticCodes.PackageArchitectureNotPublished, error.Diagnostics[0].Code);
        Assert.Contains("'arm64'", error.Diagnostics[0].Message);
        Assert.Contains($"Suite '{FixtureArchive.Suite}'", error.Diagnostics[0].Message);
        Assert.Contains("libc-fixture", error.Diagnostics[0].Message);
        Assert.Contains("it has amd64", error.Diagnostics[0].Message);
        Assert.Empty(Directory.Exists(Path.Combine(_work, "cache")) ? Directory.GetFiles(Path.Combine(_work, "cache"), "*", SearchOption.AllDirectories) : []);
    }

    [SkippableFact]
    public void Plan_LockWithAmd64OnlyThenArm64Server_KeepsTheAmd64PinsAndAddsAnArm64Set()
    {
        // An existing lock: amd64 pinned at the older libc (as a lock written months ago would be).
        var amd64Spec = Spec("amd64", "runtime-fixture");
        var oldPins = Builder().Build(Server(), Spec("amd64", "runtime-fixture", "libc-fixture=2.36-8"), locked: null).Pinned;
        var lockFile = KilnLock.Empty with { PackageBases = KilnLock.Empty.PackageBases.Add(PackageBaseBuilder.LockKey(amd64Spec), oldPins) };
        var planner = new Planner(Project(), lockFile) { Packages = Packages() };

        var plans = planner.Plan([
            Server() with { Name = "api", Base = BaseImage.Debian(FixtureArchive.Suite, ["runtime-fixture"]) },
            Server() with { Name = "api-arm", Base = BaseImage.Debian(FixtureArchive.Suite, ["runtime-fixture"]), Platforms = [Kiln.Spec.Platform.LinuxArm64] },
        ]);

        Assert.Equal(["testing/amd64: runtime-fixture", "testing/arm64: runtime-fixture"], planner.Lock.PackageBases.Keys);
        Assert.Equal(oldPins, planner.Lock.PackageBases["testing/amd64: runtime-fixture"]);
        var arm64 = planner.Lock.PackageBases["testing/arm64: runtime-fixture"];
        Assert.All(arm64.Packages.Where(p => p.Name != "data-fixture"), p => Assert.Equal("arm64", p.Architecture));
        Assert.Equal(oldPins.Packages.Single(p => p.Name == "data-fixture"), arm64.Packages.Single(p => p.Name == "data-fixture"));
        Assert.Equal(["amd64", "arm64"], plans.Select(p => p.Base.Config!.Architecture));
        Assert.Equal(["testing/amd64: runtime-fixture", "testing/arm64: runtime-fixture"], plans.Select(p => p.Base.PackageSetKey));
    }

    [SkippableFact]
    public void FindAndApply_SetsForTwoArchitectures_ReportAndUpdateEachArchitecture()
    {
        var amd64 = Builder().Build(Server(), Spec("amd64", "libc-fixture=2.36-8"), locked: null).Pinned;
        var arm64 = Builder().Build(Server(), Spec("arm64", "libc-fixture=2.36-8"), locked: null, siblings: [amd64]).Pinned;
        var lockFile = KilnLock.Empty with
        {
            PackageBases = KilnLock.Empty.PackageBases
                .Add(PackageBaseBuilder.LockKey(Spec("amd64", "libc-fixture")), amd64)
                .Add(PackageBaseBuilder.LockKey(Spec("arm64", "libc-fixture")), arm64),
        };
        using var http = new HttpClient();

        var outdated = PackageUpdates.Find(Packages(), http, lockFile);
        var (updated, changes) = PackageUpdates.Apply(Packages(), http, lockFile, securityOnly: false);

        Assert.Equal([("amd64", "2.36-8", "2.36-9"), ("arm64", "2.36-8", "2.36-9")], outdated.Select(c => (c.Architecture, c.OldVersion!, c.NewVersion!)));
        Assert.Equal(["amd64", "arm64"], changes.Select(c => c.Architecture));
        Assert.EndsWith("(arm64)", changes[1].ToString(), StringComparison.Ordinal);
        Assert.Equal("2.36-9", updated.PackageBases["testing/arm64: libc-fixture"].Packages.Single().Version);
        Assert.Equal("arm64", updated.PackageBases["testing/arm64: libc-fixture"].Packages.Single().Architecture);
    }

    [Fact]
    public void For_PlatformAndSpecArchitecture_TheBaseFollowsThePlatform()
    {
        var server = Server() with { Base = BaseImage.Debian("bookworm", ["libc6"]) };

        Assert.Equal("arm64", DebianBaseSource.For(server, new Platform("arm64", "linux")).Architecture);
        Assert.Equal("amd64", DebianBaseSource.For(server, new Platform("amd64", "linux")).Architecture);
        Assert.Equal("arm64", DebianBaseSource.For(server, new Platform("arm64", "linux") { Variant = "v8" }).Architecture);
    }

    [Fact]
    public void For_SpecNamesAnotherArchitectureThanThePlatform_ReportsKILN2154()
    {
        var server = Server() with { Base = BaseImage.Debian("bookworm", ["libc6"], "arm64") };

        var error = Assert.Throws<KilnException>(() => DebianBaseSource.For(server, new Platform("amd64", "linux")));

        Assert.Equal(DiagnosticCodes.PackageBaseArchitectureMismatch, error.Diagnostics[0].Code);
        Assert.Contains("linux/amd64", error.Diagnostics[0].Message);
    }

    [Fact]
    public void For_PlatformWithoutDebianBases_ReportsKILN2150()
    {
        var server = Server() with { Base = BaseImage.Debian("bookworm", ["libc6"]) };

        var error = Assert.Throws<KilnException>(() => DebianBaseSource.For(server, new Platform("s390x", "linux")));

        Assert.Equal(DiagnosticCodes.PackageArchitectureUnsupported, error.Diagnostics[0].Code);
        Assert.Contains("linux/s390x", error.Diagnostics[0].Message);
    }

    public void Dispose()
    {
        if (_archive.IsValueCreated)
        {
            _archive.Value.Dispose();
        }

        Directory.Delete(_work, recursive: true);
    }

    private PackageBaseBuilder Builder(FixtureArchive? archive = null) => Builder((archive ?? Archive).Mirror, archive);

    private PackageBaseBuilder Builder(string mirror, FixtureArchive? archive = null) => new(
        Packages(mirror, archive),
        new HttpClient(),
        new Kiln.Oci.Http.RetryOptions { Budget = TimeSpan.FromSeconds(30), Time = new Kiln.Tests.Shared.InstantTimeProvider() })
    {
        Project = Project(),
    };

    private ProjectOptions Project() => new()
    {
        ProjectDirectory = _work,
        IntermediateDirectory = Path.Combine(_work, "obj"),
    };

    private PackageOptions Packages(string? mirror = null, FixtureArchive? archive = null) => new()
    {
        CacheDirectory = Path.Combine(_work, "cache"),
        Mirror = mirror ?? (archive ?? Archive).Mirror,
        Keyring = (archive ?? Archive).Keyring,
    };

    private static DebianBase Spec(string architecture, params string[] packages) => new(FixtureArchive.Suite, [.. packages], architecture);

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

    private static Dictionary<string, string?> ReadLayer(BasePlan plan, int index)
    {
        using var blob = plan.Source!.OpenBlob(plan.Layers[index].Digest);
        using var gzip = new GZipStream(blob, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var files = new Dictionary<string, string?>(StringComparer.Ordinal);
        while (reader.GetNextEntry() is { } entry)
        {
            files[entry.Name.TrimEnd('/')] = entry.DataStream is { } data ? new StreamReader(data).ReadToEnd() : null;
        }

        return files;
    }
}
