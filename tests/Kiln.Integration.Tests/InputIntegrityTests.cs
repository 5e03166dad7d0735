using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// Nothing enters an image that its spec does not declare: layer sources stay inside the project (or a root allowed with
/// KilnInputRoots) after every symlink is resolved, non-regular files are refused before anything opens them, spec
/// evaluation is bounded in time, and configuration mistakes are coded errors rather than MSBuild's own.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class InputIntegrityTests(KilnPackage package)
{
    private const string Secret = "root:$6$not-for-images$:19000:0:99999:7:::";

    private static string Spec(string members) => $$"""
        public sealed class Bad : ServerSpec
        {
            public override string Name => "bad";
            public override string Version => "1.0.0";
        {{members}}
        }
        """;

    private static string Layers(string layers) => Spec($"    public override ImmutableArray<Layer> Layers => [{layers}];");

    /// <summary>A directory outside every fixture project, standing in for the build machine's own files.</summary>
    private string OutsideDirectory()
    {
        var directory = Path.Combine(package.Root, "outside-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "shadow"), Secret + "\n");
        return directory;
    }

    private static ProcessResult BuildFails(FixtureProject fixture, string code, params string[] extra)
    {
        var result = fixture.Build(extra);
        Assert.True(result.ExitCode != 0, "the build should fail:\n" + result.Output);
        Assert.Contains($"error {code}:", result.Output, StringComparison.Ordinal);
        Assert.Contains("Specs.cs(", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at Kiln.", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("error MSB", result.Output, StringComparison.Ordinal);
        fixture.AssertNoArtifacts("no artifact may be written for refused input");
        return result;
    }

    private static string[] Inventory(FixtureProject fixture) =>
        File.ReadAllLines(Path.Combine(fixture.OutputDirectory, "inventory", "bad-1.0.0.txt"));

    [Fact]
    public void Build_FileLayerSymlinkToFileOutsideProject_ReportsKiln2111AndShipsNothing()
    {
        var outside = OutsideDirectory();
        var fixture = new FixtureProject(package).Specs(Layers("""Layer.File("payload/link", to: "/app/x")"""));
        Directory.CreateDirectory(Path.Combine(fixture.Directory, "payload"));
        File.CreateSymbolicLink(Path.Combine(fixture.Directory, "payload", "link"), Path.Combine(outside, "shadow"));

        var result = BuildFails(fixture, "KILN2111");

        Assert.Contains("'payload/link' is a symbolic link to", result.Output, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(outside, "shadow"), result.Output, StringComparison.Ordinal);
        Assert.Contains("KilnInputRoots", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_FileLayerSymlinkToEtcShadow_ReportsKiln2111()
    {
        var fixture = new FixtureProject(package).Specs(Layers("""Layer.File("payload/link", to: "/app/x")"""));
        Directory.CreateDirectory(Path.Combine(fixture.Directory, "payload"));
        File.CreateSymbolicLink(Path.Combine(fixture.Directory, "payload", "link"), "/etc/shadow");

        var result = BuildFails(fixture, "KILN2111");

        Assert.Contains("'/etc/shadow'", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_AbsoluteSourceOutsideProject_ReportsKiln2110()
    {
        var outside = Path.Combine(OutsideDirectory(), "shadow");
        var fixture = new FixtureProject(package).Specs(Layers($$"""Layer.File("{{outside}}", to: "/app/x")"""));

        var result = BuildFails(fixture, "KILN2110");

        Assert.Contains(outside, result.Output, StringComparison.Ordinal);
        Assert.Contains("outside the spec project", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ParentRelativeSourceOutsideProject_ReportsKiln2110()
    {
        var outside = OutsideDirectory();
        var fixture = new FixtureProject(package);
        var relative = Path.GetRelativePath(fixture.Directory, outside);
        fixture.Specs(Layers($$"""Layer.File("{{relative}}/shadow", to: "/app/x")"""));

        var result = BuildFails(fixture, "KILN2110");

        Assert.Contains("KilnInputRoots", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_KilnInputRootsAllowsOutsideRoot_ShipsTheFile()
    {
        var outside = OutsideDirectory();
        File.WriteAllText(Path.Combine(outside, "shared.conf"), "shared=1\n");
        var fixture = new FixtureProject(package);
        var relative = Path.GetRelativePath(fixture.Directory, outside);
        fixture.Specs(Layers($$"""Layer.File("{{relative}}/shared.conf", to: "/app/shared.conf")"""));

        fixture.BuildOk($"-p:KilnInputRoots={relative}");

        Assert.Contains(Inventory(fixture), l => l.StartsWith("/app/shared.conf\tf\t0644\t0\t0\t9\t", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_DirectoryWithSymlinkLeavingIt_ReportsKiln2111NamingLinkAndTarget()
    {
        var outside = OutsideDirectory();
        var fixture = new FixtureProject(package)
            .Write("www/index.html", "<p>hi</p>\n")
            .Specs(Layers("""Layer.Directory("www", to: "/srv/www")"""));
        File.CreateSymbolicLink(Path.Combine(fixture.Directory, "www", "leak"), Path.Combine(outside, "shadow"));
        File.CreateSymbolicLink(Path.Combine(fixture.Directory, "www", "up"), "../Specs.cs");

        var result = BuildFails(fixture, "KILN2111");

        Assert.Contains("'leak', a symbolic link to '" + Path.Combine(outside, "shadow") + "'", result.Output, StringComparison.Ordinal);
        Assert.Contains("'up', a symbolic link to '../Specs.cs'", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DirectoryWithInternalRelativeSymlink_StoresTheLinkAsALink()
    {
        var fixture = new FixtureProject(package)
            .Write("www/v1/index.html", "<p>v1</p>\n")
            .Specs(Layers("""Layer.Directory("www", to: "/srv/www")"""));
        Directory.CreateSymbolicLink(Path.Combine(fixture.Directory, "www", "current"), "v1");
        File.CreateSymbolicLink(Path.Combine(fixture.Directory, "www", "v1", "home.html"), "index.html");

        fixture.BuildOk();

        var inventory = Inventory(fixture);
        Assert.Contains("/srv/www/current\tl\t0777\t0\t0\t0\t-\tv1", inventory);
        Assert.Contains("/srv/www/v1/home.html\tl\t0777\t0\t0\t0\t-\tindex.html", inventory);
        Assert.Contains(inventory, l => l.StartsWith("/srv/www/v1/index.html\tf\t", StringComparison.Ordinal));
        Assert.DoesNotContain(inventory, l => l.StartsWith("/srv/www/current/", StringComparison.Ordinal)); // not followed
    }

    [Fact]
    public void Build_FifoSource_ReportsKiln2112WithoutOpeningIt()
    {
        var fixture = new FixtureProject(package).Specs(Layers("""Layer.File("pipe", to: "/app/pipe")"""));
        MakeFifo(Path.Combine(fixture.Directory, "pipe"));

        // Opening a FIFO blocks until a writer comes: a regression hangs here until the runner's timeout fails it.
        var result = BuildFails(fixture, "KILN2112");

        Assert.Contains("a FIFO (named pipe)", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_FifoInsideDirectory_ReportsKiln2112UnlessExcluded()
    {
        var fixture = new FixtureProject(package)
            .Write("data/a.txt", "a\n")
            .Specs(Layers("""Layer.Directory("data", to: "/data")"""));
        MakeFifo(Path.Combine(fixture.Directory, "data", "pipe"));

        var result = BuildFails(fixture, "KILN2112");
        Assert.Contains("'pipe', a FIFO (named pipe)", result.Output, StringComparison.Ordinal);

        fixture.Specs(Layers("""Layer.Directory("data", to: "/data", exclude: ["pipe"])"""));
        fixture.BuildOk();
        Assert.Contains(Inventory(fixture), l => l.StartsWith("/data/a.txt\tf\t", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_SymlinkLoop_ReportsKiln2113()
    {
        var fixture = new FixtureProject(package).Specs(Layers("""Layer.File("loop1", to: "/app/x")"""));
        File.CreateSymbolicLink(Path.Combine(fixture.Directory, "loop1"), "loop2");
        File.CreateSymbolicLink(Path.Combine(fixture.Directory, "loop2"), "loop1");

        var result = BuildFails(fixture, "KILN2113");

        Assert.Contains("form a loop", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("free space", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_FileLayerNamingADirectory_ReportsKiln2009SayingItIsADirectory()
    {
        var fixture = new FixtureProject(package)
            .Write("conf/a.conf", "a\n")
            .Specs(Layers("""Layer.File("conf", to: "/etc/conf")"""));

        var result = BuildFails(fixture, "KILN2009");

        var error = result.Output.Split('\n').First(l => l.Contains("error KILN2009:", StringComparison.Ordinal));
        Assert.Contains("which is a directory", error, StringComparison.Ordinal);
        Assert.Contains("Layer.Directory(", error, StringComparison.Ordinal);
        Assert.DoesNotContain("does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_SpecGetterNeverReturns_ReportsKiln2115NamingTheMemberAndLeavesNoEngine()
    {
        var fixture = new FixtureProject(package).Specs(Spec("""
                public override ImmutableArray<Port> Ports
                {
                    get
                    {
                        while (true)
                        {
                        }
                    }
                }
            """));

        var result = BuildFails(fixture, "KILN2115", "-p:KilnEvaluationTimeout=3");

        Assert.Contains("Spec 'Fixture.Bad' was still reading Ports after 3 s", result.Output, StringComparison.Ordinal);
        Assert.Empty(EnginesFor(fixture));
    }

    [Fact]
    public void Build_PublishOutputProjectMissing_ReportsKiln2114InsteadOfMsb3202()
    {
        var fixture = new FixtureProject(package).Specs(Layers("""Layer.PublishOutput("src/Missing/Missing.csproj", to: "/app")"""));

        var result = BuildFails(fixture, "KILN2114");

        Assert.Contains("src/Missing/Missing.csproj", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_IntermediateDirectoryReadOnly_ReportsKiln3030InsteadOfMsb3491()
    {
        var fixture = new FixtureProject(package).Write("a.txt", "a\n").Specs(Layers("""Layer.File("a.txt", to: "/app/a.txt")"""));
        var intermediate = Path.Combine(fixture.Directory, "obj", "Debug", "kiln");
        Directory.CreateDirectory(intermediate);
        using var readOnly = ReadOnlyDirectory.Make(intermediate);

        var result = fixture.Build();

        Assert.True(result.ExitCode != 0, "the build should fail:\n" + result.Output);
        Assert.Contains("error KILN3030:", result.Output, StringComparison.Ordinal);
        Assert.Contains(intermediate, result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("error MSB", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_EmptyLabelKey_ReportsKiln2018()
    {
        var fixture = new FixtureProject(package).Specs(Spec("""    public override ImmutableArray<Label> Labels => [new Label(string.Concat(" ", ""), "x")];"""));

        var result = BuildFails(fixture, "KILN2018");

        Assert.Contains("empty key", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_MalformedRegistryReference_ReportsKiln2030()
    {
        var fixture = new FixtureProject(package).Specs(Spec("""    public override BaseImage Base => BaseImage.Registry(string.Concat("Registry.Example/", "UPPER CASE@sha256:xyz"));"""));

        var result = BuildFails(fixture, "KILN2030");

        Assert.Contains("is not a valid image reference", result.Output, StringComparison.Ordinal);
        Assert.Contains("registry/repository:tag@sha256:", result.Output, StringComparison.Ordinal);
    }

    private static void MakeFifo(string path)
    {
        var mkfifo = Tools.Require("mkfifo", "coreutils");
        var made = ProcessRunner.Run(mkfifo, [path]);
        Assert.True(made.ExitCode == 0, made.Output);
    }

    /// <summary>Engine processes (kiln.dll engine …) still running for this fixture: there must be none once the build returned.</summary>
    private static List<string> EnginesFor(FixtureProject fixture)
    {
        var found = new List<string>();
        foreach (var process in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            string commandLine;
            try
            {
                commandLine = File.ReadAllText(Path.Combine(process, "cmdline")).Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue; // the process ended while being looked at
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (commandLine.Contains(" engine ", StringComparison.Ordinal) && commandLine.Contains(fixture.Directory, StringComparison.Ordinal))
            {
                found.Add($"{Path.GetFileName(process)}: {commandLine}");
            }
        }

        return found;
    }

    /// <summary>
    /// Makes a directory unwritable for the duration of a test: the immutable attribute when running as root (root
    /// ignores permission bits), else mode 0555.
    /// </summary>
    private sealed class ReadOnlyDirectory : IDisposable
    {
        private readonly string _path;
        private readonly bool _immutable;

        private ReadOnlyDirectory(string path, bool immutable)
        {
            _path = path;
            _immutable = immutable;
        }

        public static ReadOnlyDirectory Make(string path)
        {
            if (Environment.UserName == "root")
            {
                var chattr = Tools.Require("chattr", "e2fsprogs");
                var made = ProcessRunner.Run(chattr, ["+i", path]);
                Assert.True(made.ExitCode == 0, "chattr +i failed (the file system must support the immutable attribute):\n" + made.Output);
                return new ReadOnlyDirectory(path, immutable: true);
            }

            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            return new ReadOnlyDirectory(path, immutable: false);
        }

        public void Dispose()
        {
            if (_immutable)
            {
                ProcessRunner.Run("chattr", ["-i", _path]);
            }
            else
            {
                File.SetUnixFileMode(_path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
    }
}
