using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.IO;
using Kiln.Engine.Planning;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Tests.Planning;

/// <summary>
/// The planner's input checks on a real temporary directory (links and file types only exist on disk): sources stay
/// inside the project or an allowed root after links are resolved, non-regular files are refused by type, links inside
/// a copied directory are kept only when they stay inside it.
/// </summary>
public sealed class InputConfinementTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kiln-inputs-").FullName;

    public InputConfinementTests()
    {
        Directory.CreateDirectory(Project);
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Outside, "secret"), "secret\n");
        File.WriteAllText(Path.Combine(Project, "app.conf"), "a=1\n");
    }

    private string Project => Path.Combine(_root, "project");

    private string Outside => Path.Combine(_root, "outside");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Plan_FileInsideProject_PlansItsRealPath()
    {
        var plan = Plan(Layer.File("app.conf", to: "/app/app.conf"));

        var entry = Assert.Single(plan.Layers.Single().Entries);
        Assert.Equal(Path.Combine(Project, "app.conf"), entry.SourcePath);
    }

    [Fact]
    public void Plan_FileSymlinkToOutside_ReportsKiln2111NamingTheTarget()
    {
        File.CreateSymbolicLink(Path.Combine(Project, "link"), Path.Combine(Outside, "secret"));

        var diagnostic = PlanFails(DiagnosticCodes.InputSymlinkEscapes, Layer.File("link", to: "/app/x"));

        Assert.Contains($"'link' is a symbolic link to '{Path.Combine(Outside, "secret")}'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_FileThroughSymlinkedDirectoryToOutside_ReportsKiln2111()
    {
        Directory.CreateSymbolicLink(Path.Combine(Project, "etc"), Outside);

        var diagnostic = PlanFails(DiagnosticCodes.InputSymlinkEscapes, Layer.File("etc/secret", to: "/app/x"));

        Assert.Contains("a directory on the way", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_ParentRelativeSource_ReportsKiln2110()
    {
        PlanFails(DiagnosticCodes.InputOutsideRoots, Layer.File("../outside/secret", to: "/app/x"));
    }

    [Fact]
    public void Plan_ParentRelativeSourceUnderAllowedRoot_PlansIt()
    {
        var plan = Plan([Layer.File("../outside/secret", to: "/app/x")], inputRoots: ["../outside"]);

        Assert.Equal(Path.Combine(Outside, "secret"), plan.Layers.Single().Entries.Single().SourcePath);
    }

    [Fact]
    public void Plan_AllowedRootMissing_ReportsKiln4010()
    {
        var e = Assert.Throws<KilnException>(() => Plan([Layer.File("app.conf", to: "/app/app.conf")], inputRoots: ["../nowhere"]));

        Assert.Equal(DiagnosticCodes.InvalidInputRoot, Assert.Single(e.Diagnostics).Code);
    }

    [Fact]
    public void Plan_CharacterDeviceSource_ReportsKiln2112ByType() // /dev/null: a device any Linux machine has
    {
        var e = Assert.Throws<KilnException>(() => Plan([Layer.File("/dev/null", to: "/app/x")], inputRoots: ["/dev"]));

        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal(DiagnosticCodes.InputNotRegularFile, diagnostic.Code);
        Assert.Contains("a character device", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_BaseArchiveIsADevice_ReportsKiln2112WithoutOpeningIt()
    {
        var project = new ProjectOptions { ProjectDirectory = Project, IntermediateDirectory = Path.Combine(Project, "obj") };

        var e = Assert.Throws<KilnException>(() => new Planner(project).Plan([PlanningFixtures.Server("api") with { Base = BaseImage.Archive("/dev/null") }]));

        Assert.Equal(DiagnosticCodes.InputNotRegularFile, Assert.Single(e.Diagnostics).Code);
    }

    [Fact]
    public void Plan_SymlinkLoop_ReportsKiln2113()
    {
        File.CreateSymbolicLink(Path.Combine(Project, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(Project, "b"), "a");

        var diagnostic = PlanFails(DiagnosticCodes.InputSymlinkLoop, Layer.File("a", to: "/app/x"));

        Assert.Contains("loop", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_DirectoryWithInternalRelativeLink_PlansASymlinkEntry()
    {
        Directory.CreateDirectory(Path.Combine(Project, "www", "v1"));
        File.WriteAllText(Path.Combine(Project, "www", "v1", "index.html"), "<p>\n");
        Directory.CreateSymbolicLink(Path.Combine(Project, "www", "current"), "v1");

        var entries = Plan(Layer.Directory("www", to: "/srv/www")).Layers.Single().Entries;

        var link = Assert.Single(entries, e => e.Path == "/srv/www/current");
        Assert.Equal(EntryKind.Symlink, link.Kind);
        Assert.Equal("v1", link.LinkTarget);
        Assert.Null(link.SourcePath);
        Assert.DoesNotContain(entries, e => e.Path.StartsWith("/srv/www/current/", StringComparison.Ordinal));
        Assert.Equal(PlannedEntry.SymlinkMode, link.ToLayerEntry().Mode);
    }

    [Theory]
    [InlineData("../app.conf")]
    [InlineData("/etc/passwd")]
    public void Plan_DirectoryWithLinkLeavingIt_ReportsKiln2111NamingLinkAndTarget(string target)
    {
        Directory.CreateDirectory(Path.Combine(Project, "www"));
        File.CreateSymbolicLink(Path.Combine(Project, "www", "leak"), target);

        var diagnostic = PlanFails(DiagnosticCodes.InputSymlinkEscapes, Layer.Directory("www", to: "/srv/www"));

        Assert.Contains($"'leak', a symbolic link to '{target}'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_DirectoryWithExcludedLinkLeavingIt_PlansTheRest()
    {
        Directory.CreateDirectory(Path.Combine(Project, "www"));
        File.WriteAllText(Path.Combine(Project, "www", "index.html"), "<p>\n");
        File.CreateSymbolicLink(Path.Combine(Project, "www", "leak"), "/etc/passwd");

        var entries = Plan(Layer.Directory("www", to: "/srv/www", exclude: ["leak"])).Layers.Single().Entries;

        Assert.Contains(entries, e => e.Path == "/srv/www/index.html");
        Assert.DoesNotContain(entries, e => e.Path == "/srv/www/leak");
    }

    [Fact]
    public void Plan_FileLayerNamingADirectory_ReportsKiln2009SayingSo()
    {
        Directory.CreateDirectory(Path.Combine(Project, "conf"));

        var diagnostic = PlanFails(DiagnosticCodes.InputFileMissing, Layer.File("conf", to: "/etc/conf"));

        Assert.Contains("is a directory", diagnostic.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("does not exist", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_PublishProjectMissing_ReportsKiln2114()
    {
        PlanFails(DiagnosticCodes.PublishProjectMissing, Layer.PublishOutput("../Api/Api.csproj", to: "/app"));
    }

    [Theory]
    [InlineData("/a/b", "/a/b", true)]
    [InlineData("/a/b/c", "/a/b", true)]
    [InlineData("/a/b/c", "/a/b/", true)]
    [InlineData("/a/bc", "/a/b", false)]
    [InlineData("/a", "/a/b", false)]
    [InlineData("/etc/shadow", "/", true)]
    public void IsUnder_Paths_ComparesWholeSegments(string path, string root, bool expected)
    {
        Assert.Equal(expected, InputRoots.IsUnder(path, root));
    }

    [Fact]
    public void InputFileTypes_Of_TellsTypesApartWithoutFollowingLinks()
    {
        File.CreateSymbolicLink(Path.Combine(Project, "link"), "app.conf");

        Assert.Equal(InputFileType.Regular, InputFileTypes.Of(Path.Combine(Project, "app.conf")));
        Assert.Equal(InputFileType.Directory, InputFileTypes.Of(Project));
        Assert.Equal(InputFileType.Symlink, InputFileTypes.Of(Path.Combine(Project, "link")));
        Assert.Equal(InputFileType.Missing, InputFileTypes.Of(Path.Combine(Project, "nothing")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(InputFileType.CharacterDevice, InputFileTypes.Of("/dev/null"));
        }
    }

    [Fact]
    public void Validate_MalformedRegistryReference_ReportsKiln2030()
    {
        var diagnostics = new DiagnosticBag();

        SpecValidator.Validate([PlanningFixtures.Server("api") with { Base = BaseImage.Registry("Registry.Example/UPPER CASE@sha256:xyz") }], diagnostics);

        var diagnostic = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticCodes.InvalidImageReference, diagnostic.Code);
        Assert.Contains("is not a valid image reference", diagnostic.Message, StringComparison.Ordinal);
    }

    private KilnDiagnostic PlanFails(string code, Layer layer)
    {
        var e = Assert.Throws<KilnException>(() => Plan(layer));
        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal(code, diagnostic.Code);
        Assert.Contains("Spec 'Acme.Specs.api': Layers[0]", diagnostic.Message, StringComparison.Ordinal);
        return diagnostic;
    }

    private ImagePlan Plan(Layer layer) => Plan([layer]);

    private ImagePlan Plan(Layer[] layers, string[]? inputRoots = null)
    {
        var project = new ProjectOptions
        {
            ProjectDirectory = Project,
            IntermediateDirectory = Path.Combine(Project, "obj", "kiln"),
            InputRoots = [.. inputRoots ?? []],
        };
        return new Planner(project).Plan([PlanningFixtures.Server("api", layers)]).Single();
    }
}
