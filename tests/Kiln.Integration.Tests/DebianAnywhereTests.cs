using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// A Debian base built as on a machine without Debian's apt sources or keyring (macOS, Windows, Ubuntu): both are
/// hidden through properties (KilnAptSources=none, the system keyring's location pointed at nothing), never by
/// touching /etc, so the build must take the official mirror and the archive keys shipped in Kiln.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class DebianAnywhereTests(KilnPackage package)
{
    private const string Spec = """
        public sealed class Web : ServerSpec
        {
            public override string Name => "web";
            public override string Version => "1.0.0";
            public override BaseImage Base => BaseImage.Debian("bookworm", ["busybox-static"]);
            public override Account Account => Account.NonRoot("web", uid: 10001);
            public override Entrypoint Entrypoint => new("/bin/busybox", "httpd", "-f", "-p", "8080");
        }
        """;

    [SkippableFact]
    public void DebianBase_NoAptSourcesAndNoSystemKeyring_ComesFromDebDebianOrgVerifiedByTheShippedKeys()
    {
        Tools.Require("umoci", "umoci");
        var fixture = new FixtureProject(package, "Anywhere").Specs(Spec);
        // A cache of its own: the suite's InRelease must really be fetched and verified in this build.
        var cache = Path.Combine(fixture.Directory, "kiln-cache");

        fixture.BuildOk("-p:KilnAptSources=none", "-p:_KilnSystemDebianKeyring=/nonexistent/debian-archive-keyring.gpg", $"-p:KilnCacheDirectory={cache}");

        var settings = File.ReadAllText(Path.Combine(fixture.Directory, "obj", "Debug", "kiln", "settings.txt"));
        Assert.Contains("debian-keyring=builtin", settings, StringComparison.Ordinal);
        Assert.Contains("apt-sources=none", settings, StringComparison.Ordinal);
        // With no apt source and no mirror set, deb.debian.org is the only place the packages could come from; they
        // were downloaded into this build's own cache, after its InRelease verified against the shipped keys.
        Assert.Contains("\"busybox-static\"", File.ReadAllText(Path.Combine(fixture.Directory, "kiln.lock.json")), StringComparison.Ordinal);
        Assert.NotEmpty(Directory.EnumerateFiles(cache, "*", SearchOption.AllDirectories));
        Assert.Contains("web:1.0.0", fixture.ReadRelease().Digests.Keys);
    }

    [SkippableFact]
    public void DebianBase_KeyringPropertyNamesAMissingFile_FailsWithKILN2050InsteadOfFallingBack()
    {
        var fixture = new FixtureProject(package, "MissingKeyring").Specs(Spec);
        var missing = Path.Combine(fixture.Directory, "no-such-keyring.gpg");

        var result = fixture.Build("-p:KilnAptSources=none", $"-p:KilnDebianKeyring={missing}", $"-p:KilnCacheDirectory={Path.Combine(fixture.Directory, "kiln-cache")}");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("error KILN2050", result.Output, StringComparison.Ordinal);
        Assert.Contains(missing, result.Output, StringComparison.Ordinal);
        fixture.AssertNoArtifacts("a keyring that cannot be read must leave no image");
    }
}
