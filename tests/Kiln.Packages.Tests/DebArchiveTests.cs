using Kiln.Engine.Packages;

namespace Kiln.Packages.Tests;

public sealed class DebArchiveTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("kiln-deb-").FullName;

    [SkippableTheory]
    [InlineData("xz")]
    [InlineData("zstd")]
    [InlineData("gzip")]
    public void Read_DataArchiveCompression_ReadsFilesLinksAndControl(string compression)
    {
        var deb = FixtureArchive.BuildStandalone(
            new FixturePackage("pkg-" + compression, "1.0-1", Depends: "libc6") { Compression = compression, Files = { ["/usr/bin/tool"] = "#!tool" }, Symlinks = { ["/usr/bin/alias"] = "tool" } },
            _work);

        var archive = DebArchive.Read(deb, Path.GetFileName(deb));

        Assert.Contains("Package: pkg-" + compression, archive.Control, StringComparison.Ordinal);
        Assert.Contains("Depends: libc6", archive.Control, StringComparison.Ordinal);
        Assert.Equal("#!tool"u8.ToArray(), archive.Files.Single(f => f.Path == "/usr/bin/tool").Content);
        Assert.Equal("tool", archive.Files.Single(f => f.Path == "/usr/bin/alias").LinkTarget);
        Assert.All(archive.Files, f => Assert.Equal(0, f.Uid));
    }

    [Fact]
    public void Read_NotADeb_ReportsKILN2048()
    {
        var path = Path.Combine(_work, "bad.deb");
        File.WriteAllText(path, "not an ar archive at all");

        var error = Assert.Throws<Kiln.Engine.Diagnostics.KilnException>(() => DebArchive.Read(path, "bad.deb"));

        Assert.Equal(Kiln.Engine.Diagnostics.DiagnosticCodes.PackageArchiveInvalid, error.Diagnostics[0].Code);
    }

    [Fact]
    public void Mirror_AptSources_TakesTheDebUriServingTheSuite()
    {
        var sources = Path.Combine(_work, "debian.sources");
        File.WriteAllText(sources, """
            Types: deb-src
            URIs: http://src.example/debian
            Suites: bookworm

            Types: deb
            # a comment
            URIs: http://security.example/debian-security
            Suites: bookworm-security

            Types: deb
            URIs: http://mirror.example/debian
            Suites: bookworm bookworm-updates
            Components: main
            """);
        var list = Path.Combine(_work, "sources.list");
        File.WriteAllText(list, "# old style\ndeb [signed-by=/k.gpg] http://list.example/debian trixie main\n");

        Assert.Equal("http://mirror.example/debian/", AptSources.Mirror([sources, list], "bookworm")!.ToString());
        Assert.Equal("http://list.example/debian/", AptSources.Mirror([sources, list], "trixie")!.ToString());
        Assert.Null(AptSources.Mirror([Path.Combine(_work, "missing.sources")], "bookworm"));
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
