using System.Text.RegularExpressions;
using Kiln.Engine;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Packages;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Kiln.Packages.Tests;

/// <summary>
/// Debian bases on a machine without Debian's apt or keyring: the archive keys shipped in the engine, and the
/// official mirror when no apt source serves Debian.
/// </summary>
public sealed partial class DebianDefaultsTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("kiln-debian-defaults-").FullName;

    [GeneratedRegex(@"^\| `([0-9A-F]{40})` \| (.+) \|$", RegexOptions.Multiline)]
    private static partial Regex FingerprintRow();

    [Fact]
    public void LoadKeyring_BuiltIn_HoldsExactlyTheKeysDocsListByFingerprint()
    {
        var keyring = ReleaseFile.LoadKeyring(KilnDefaults.BuiltInDebianKeyring);

        var shipped = keyring.GetKeyRings().Cast<PgpPublicKeyRing>()
            .Select(ring => Convert.ToHexString(ring.GetPublicKey().GetFingerprint()))
            .Order(StringComparer.Ordinal).ToList();
        var documented = FingerprintRow().Matches(File.ReadAllText(Path.Combine(RepoRoot(), "docs", "msbuild.md")))
            .Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(9, shipped.Count);
        Assert.Equal(documented, shipped);
    }

    [Fact]
    public void LoadKeyring_BuiltIn_CoversTheArchiveAndSecurityKeysOfBullseyeBookwormAndTrixie()
    {
        var keyring = ReleaseFile.LoadKeyring(KilnDefaults.BuiltInDebianKeyring);

        var names = keyring.GetKeyRings().Cast<PgpPublicKeyRing>()
            .SelectMany(ring => ring.GetPublicKey().GetUserIds().Cast<object>().Select(u => u.ToString()!)).ToList();

        foreach (var release in new[] { "11/bullseye", "12/bookworm", "13/trixie" })
        {
            Assert.Contains(names, n => n.StartsWith($"Debian Archive Automatic Signing Key ({release})", StringComparison.Ordinal));
            Assert.Contains(names, n => n.StartsWith($"Debian Security Archive Automatic Signing Key ({release})", StringComparison.Ordinal));
        }
    }

    /// <summary>Real InRelease files of the Debian archive, as apt last downloaded them on this machine.</summary>
    [SkippableFact]
    public void Verify_RealDebianInRelease_TrustedByTheBuiltInKeys()
    {
        var lists = "/var/lib/apt/lists";
        var inReleases = Directory.Exists(lists)
            ? Directory.GetFiles(lists, "deb.debian.org_debian*_InRelease").Order(StringComparer.Ordinal).ToList()
            : [];
        Skip.If(inReleases.Count == 0, "no InRelease of deb.debian.org under /var/lib/apt/lists (run apt-get update on a Debian machine): the built-in keys are checked against real archive signatures only there");
        var keyring = ReleaseFile.LoadKeyring(KilnDefaults.BuiltInDebianKeyring);

        foreach (var inRelease in inReleases)
        {
            var release = ReleaseFile.Verify(File.ReadAllBytes(inRelease), keyring, inRelease);

            Assert.NotEmpty(release.Entries);
        }
    }

    [SkippableFact]
    public void Verify_InReleaseSignedByAnotherKey_NotTrustedByTheBuiltInKeys()
    {
        FixtureArchive.RequireTools();
        using var archive = new FixtureArchive([new FixturePackage("hello-fixture", "1.0-1") { Files = { ["/usr/bin/hello"] = "hello" } }]);
        var keyring = ReleaseFile.LoadKeyring(KilnDefaults.BuiltInDebianKeyring);
        var inRelease = File.ReadAllBytes(archive.PathOf($"dists/{FixtureArchive.Suite}/InRelease"));

        var error = Assert.Throws<KilnException>(() => ReleaseFile.Verify(inRelease, keyring, "fixture/InRelease"));

        Assert.Equal(DiagnosticCodes.ReleaseSignatureInvalid, error.Diagnostics.Single().Code);
    }

    [Fact]
    public void LoadKeyring_MissingFile_IsKILN2050NamingIt()
    {
        var missing = Path.Combine(_work, "no-such-keyring.gpg");

        var error = Assert.Throws<KilnException>(() => ReleaseFile.LoadKeyring(missing));

        Assert.Equal(DiagnosticCodes.DebianKeyringUnreadable, error.Diagnostics.Single().Code);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mirror_OnlyAnotherDistributionsSources_IsNoneSoTheOfficialMirrorIsUsed()
    {
        var ubuntu = Path.Combine(_work, "ubuntu.sources");
        File.WriteAllText(ubuntu, """
            Types: deb
            URIs: http://archive.ubuntu.com/ubuntu/
            Suites: noble noble-updates
            Components: main universe
            """);

        Assert.Null(AptSources.Mirror([ubuntu], "bookworm"));
    }

    [Fact]
    public void Mirror_DebianMirrorListingAnotherSuite_IsStillThatMirror()
    {
        var list = Path.Combine(_work, "sources.list");
        File.WriteAllText(list, "deb http://archive.ubuntu.com/ubuntu noble main\ndeb http://mirror.example/debian stable main\n");

        Assert.Equal("http://mirror.example/debian/", AptSources.Mirror([list], "bookworm")!.ToString());
    }

    [Fact]
    public void SecurityArchive_OfficialMirror_IsDebianSecurityOnDebDebianOrg() =>
        Assert.Equal("http://deb.debian.org/debian-security/", AptSources.SecurityArchive(new Uri(KilnDefaults.DebianMirror)).ToString());

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string RepoRoot() => Repo.Root;
}
