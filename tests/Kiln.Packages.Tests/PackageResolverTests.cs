using Kiln.Engine.Diagnostics;
using Kiln.Engine.Packages;

namespace Kiln.Packages.Tests;

public sealed class PackageResolverTests
{
    private const string Index = """
        Package: app
        Version: 1.0
        Architecture: amd64
        Pre-Depends: base (>= 2)
        Depends: missing-lib | real-lib, virtual-mta, libold (>= 1.5)
        Filename: pool/app.deb
        Size: 1
        SHA256: aa

        Package: base
        Version: 1.9
        Architecture: amd64
        Filename: pool/base-1.9.deb
        Size: 1
        SHA256: b1

        Package: base
        Version: 2.1
        Architecture: amd64
        Filename: pool/base-2.1.deb
        Size: 1
        SHA256: b2

        Package: real-lib
        Version: 1:0.5
        Architecture: all
        Filename: pool/real-lib.deb
        Size: 1
        SHA256: cc

        Package: postfix
        Version: 3.7
        Architecture: amd64
        Provides: virtual-mta
        Filename: pool/postfix.deb
        Size: 1
        SHA256: dd

        Package: exim
        Version: 4.96
        Architecture: amd64
        Provides: virtual-mta
        Filename: pool/exim.deb
        Size: 1
        SHA256: ee

        Package: libold
        Version: 1.4
        Architecture: amd64
        Filename: pool/libold.deb
        Size: 1
        SHA256: ff

        Package: libold
        Version: 1.6~rc1
        Architecture: amd64
        Filename: pool/libold-rc.deb
        Size: 1
        SHA256: 11

        Package: other-arch
        Version: 1
        Architecture: arm64
        Filename: pool/other.deb
        Size: 1
        SHA256: 22

        """;

    private static PackageIndex Read(string text = Index) => PackageIndex.Read(new StringReader(text), "amd64");

    [Fact]
    public void Resolve_DependsPreDependsAlternativesProvides_PicksExpectedSet()
    {
        var resolved = new PackageResolver(Read(), "test").Resolve(["app"]);

        // base: highest meeting >= 2; missing-lib | real-lib: the first satisfiable; virtual-mta: first provider by name.
        Assert.Equal(["app 1.0", "base 2.1", "exim 4.96", "libold 1.6~rc1", "real-lib 1:0.5"], resolved.Select(p => $"{p.Name} {p.Version}"));
    }

    [Fact]
    public void Resolve_CandidateBrokenByChosenPackage_TakesTheNextAlternative()
    {
        var text = Index.Replace("Pre-Depends: base (>= 2)\n", "Pre-Depends: base (>= 2)\nBreaks: exim (<< 5)\n");

        var resolved = new PackageResolver(Read(text), "test").Resolve(["app"]);

        // exim would be the first provider of virtual-mta by name, but app breaks it: postfix is taken instead.
        Assert.Contains(resolved, p => p.Name == "postfix");
        Assert.DoesNotContain(resolved, p => p.Name == "exim");
    }

    [Fact]
    public void Resolve_CandidateConflictingWithChosenVersion_TakesAnOlderVersion()
    {
        var text = Index.Replace("Package: base\nVersion: 2.1\n", "Package: base\nVersion: 2.1\nConflicts: real-lib\n")
            + "\nPackage: base\nVersion: 2.0\nArchitecture: amd64\nFilename: pool/base-2.0.deb\nSize: 1\nSHA256: b0\n";

        var resolved = new PackageResolver(Read(text), "test").Resolve(["real-lib", "app"]);

        Assert.Contains(resolved, p => p.Name == "base" && p.Version == "2.0");
    }

    [Fact]
    public void Resolve_RequestedPackagesConflict_ReportsKILN2053NamingBoth()
    {
        var text = Index.Replace("Provides: virtual-mta\nFilename: pool/postfix.deb", "Provides: virtual-mta\nConflicts: exim\nFilename: pool/postfix.deb");

        var error = Assert.Throws<KilnException>(() => new PackageResolver(Read(text), "test").Resolve(["postfix", "exim"]));

        Assert.Equal(DiagnosticCodes.PackageConflict, error.Diagnostics[0].Code);
        Assert.Contains("'postfix' 3.7", error.Diagnostics[0].Message);
        Assert.Contains("'exim' 4.96", error.Diagnostics[0].Message);
    }

    [Fact]
    public void Resolve_ProviderAlreadyChosen_DoesNotAddAnother()
    {
        var resolved = new PackageResolver(Read(), "test").Resolve(["postfix", "app"]);

        Assert.Contains(resolved, p => p.Name == "postfix");
        Assert.DoesNotContain(resolved, p => p.Name == "exim");
    }

    [Fact]
    public void Resolve_ExactVersionRequested_TakesIt()
    {
        var resolved = new PackageResolver(Read(), "test").Resolve(["base=1.9"]);

        Assert.Equal("1.9", resolved.Single().Version);
    }

    [Fact]
    public void Resolve_OtherArchitecture_IsNotAvailable()
    {
        var error = Assert.Throws<KilnException>(() => new PackageResolver(Read(), "test").Resolve(["other-arch"]));

        Assert.Equal(DiagnosticCodes.PackageUnknown, error.Diagnostics[0].Code);
    }

    [Fact]
    public void Resolve_UnknownPackage_SuggestsCloseNames()
    {
        var error = Assert.Throws<KilnException>(() => new PackageResolver(Read(), "test").Resolve(["postfx"]));

        Assert.Equal(DiagnosticCodes.PackageUnknown, error.Diagnostics[0].Code);
        Assert.Contains("Did you mean: postfix", error.Diagnostics[0].Message);
    }

    [Fact]
    public void Resolve_UnsatisfiableVersion_ReportsKILN2041NamingTheDependency()
    {
        var text = Index.Replace("libold (>= 1.5)", "libold (>= 2)");

        var error = Assert.Throws<KilnException>(() => new PackageResolver(Read(text), "test").Resolve(["app"]));

        Assert.Equal(DiagnosticCodes.PackageUnsatisfiable, error.Diagnostics[0].Code);
        Assert.Contains("libold (>= 2)", error.Diagnostics[0].Message);
    }

    [Fact]
    public void Resolve_VersionedDependencyOnVirtual_NeedsVersionedProvides()
    {
        var text = Index.Replace("virtual-mta, libold", "virtual-mta (>= 1), libold");

        var error = Assert.Throws<KilnException>(() => new PackageResolver(Read(text), "test").Resolve(["app"]));

        Assert.Equal(DiagnosticCodes.PackageUnsatisfiable, error.Diagnostics[0].Code);
    }

    [Fact]
    public void Resolve_UpperBoundAndQualifiers_AreParsed()
    {
        var text = Index.Replace("libold (>= 1.5)", "libold:any (<< 1.5) [amd64] <!nocheck>");

        var resolved = new PackageResolver(Read(text), "test").Resolve(["app"]);

        Assert.Contains(resolved, p => p.Name == "libold" && p.Version == "1.4");
    }

    [Theory]
    [InlineData("1.0", "1.0", 0)]
    [InlineData("1.0~rc1", "1.0", -1)]
    [InlineData("1:0.1", "2.0", 1)]
    [InlineData("2.36-9+deb12u10", "2.36-9+deb12u9", 1)]
    [InlineData("1.0a", "1.0+", -1)]
    [InlineData("12.2.0-14", "12.2.0-14+deb12u1", -1)]
    [InlineData("1.10", "1.9", 1)]
    public void Compare_DpkgOrdering_Matches(string a, string b, int expected)
    {
        Assert.Equal(expected, Math.Sign(DebianVersion.Compare(a, b)));
        Assert.Equal(-expected, Math.Sign(DebianVersion.Compare(b, a)));
    }
}
