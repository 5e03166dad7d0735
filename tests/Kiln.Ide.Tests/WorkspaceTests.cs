using System.Collections.Immutable;
using System.Reflection;
using Kiln.Analyzers.CodeFixes;
using Microsoft.Build.Locator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.MSBuild;
using Microsoft.CodeAnalysis.Text;

namespace Kiln.Ide.Tests;

/// <summary>
/// The IDE path, end to end: a spec project opened as Visual Studio, Rider or C# Dev Kit open it (MSBuildWorkspace,
/// a design-time build through the SDK's MSBuild), the project's own analyzer references run on an edit that was never
/// saved, a Kiln code fix applied through the workspace, and no image work done by any of it.
/// </summary>
public sealed class WorkspaceTests : IDisposable
{
    private const string Spec = """
        using System.Collections.Immutable;
        using Kiln.Spec;

        namespace Fixture;

        public sealed class Api : ServerSpec
        {
            public override string Name => "ide-api";
            public override string Version => "1.0.0";
            public override ImmutableArray<Port> Ports => [Port.Tcp(8080)];
        }

        """;

    private const string SettableProperty = "    public string Region { get; set; } = \"eu\";\n";

    private readonly string _directory = Directory.CreateTempSubdirectory("kiln-ide-").FullName;

    static WorkspaceTests()
    {
        // The SDK's MSBuild (the one global.json pins), as an IDE registers it before opening a project.
        if (!MSBuildLocator.IsRegistered)
        {
            var sdk = MSBuildLocator.QueryVisualStudioInstances(new VisualStudioInstanceQueryOptions { DiscoveryTypes = DiscoveryType.DotNetSdk, WorkingDirectory = RepoRoot })
                .OrderByDescending(i => i.Version)
                .First();
            MSBuildLocator.RegisterInstance(sdk);
        }
    }

    [Fact]
    public async Task OpenProject_EditAddsASetter_AnalyzerReportsKiln0001AndTheCodeFixRemovesIt()
    {
        var projectPath = WriteFixture();
        Restore(projectPath);
        using var workspace = MSBuildWorkspace.Create(new Dictionary<string, string> { ["Configuration"] = Configuration });
        var failures = new List<string>();
        workspace.WorkspaceFailed += (_, e) => failures.Add(e.Diagnostic.ToString());

        var project = await workspace.OpenProjectAsync(projectPath);

        // The design-time build compiled nothing to disk (PrepareForBuild may create the empty output directories) and
        // ran none of Kiln's targets: no bin/*/kiln, and not even Kiln's intermediate directory, which its first target makes.
        AssertNoImageWork();
        Assert.DoesNotContain(failures, f => f.Contains("Failure", StringComparison.Ordinal));
        var analyzers = project.AnalyzerReferences.SelectMany(r => r.GetAnalyzers(LanguageNames.CSharp)).ToImmutableArray();
        Assert.Contains(analyzers, a => a.SupportedDiagnostics.Any(d => d.Id == "KILN0001"));
        Assert.Empty(await KilnDiagnostics(project, analyzers));

        // An edit in the editor, not saved: a settable property on the spec.
        var document = project.Documents.Single(d => d.Name == "Specs.cs");
        var text = await document.GetTextAsync();
        var anchor = "    public override string Version => \"1.0.0\";\n";
        var insertAt = text.ToString().IndexOf(anchor, StringComparison.Ordinal) + anchor.Length;
        var edited = document.WithText(text.WithChanges(new TextChange(new TextSpan(insertAt, 0), SettableProperty)));
        var setSpan = new TextSpan(insertAt + SettableProperty.IndexOf("set;", StringComparison.Ordinal), "set".Length);

        var diagnostics = await KilnDiagnostics(edited.Project, analyzers);

        var kiln0001 = Assert.Single(diagnostics);
        Assert.Equal("KILN0001", kiln0001.Id);
        Assert.Equal(setSpan, kiln0001.Location.SourceSpan);
        Assert.Equal(edited.FilePath, kiln0001.Location.SourceTree!.FilePath);

        // The code fix, as the light bulb offers it, applied through the workspace.
        var actions = new List<CodeAction>();
        var context = new CodeFixContext(edited, kiln0001, (action, _) => actions.Add(action), CancellationToken.None);
        await new SettablePropertyCodeFix().RegisterCodeFixesAsync(context);
        var makeInit = Assert.Single(actions, a => a.EquivalenceKey == "KILN0001.init");
        var apply = (await makeInit.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>().Single();
        Assert.True(workspace.TryApplyChanges(apply.ChangedSolution), "the workspace refused the code fix's changes");

        var fixedProject = workspace.CurrentSolution.GetProject(project.Id)!;
        Assert.Empty(await KilnDiagnostics(fixedProject, analyzers));
        Assert.Contains("public string Region { get; init; } = \"eu\";", File.ReadAllText(Path.Combine(_directory, "Specs.cs")), StringComparison.Ordinal);
        AssertNoImageWork();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temp directory left behind is not a test failure
        }
    }

    /// <summary>The project's KILN diagnostics from its own analyzer references; compiler errors fail the test.</summary>
    private static async Task<ImmutableArray<Diagnostic>> KilnDiagnostics(Project project, ImmutableArray<DiagnosticAnalyzer> analyzers)
    {
        var compilation = (await project.GetCompilationAsync())!;
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, "the spec does not compile in the workspace:\n" + string.Join("\n", errors));
        var diagnostics = await compilation.WithAnalyzers(analyzers, project.AnalyzerOptions).GetAnalyzerDiagnosticsAsync();
        return [.. diagnostics.Where(d => d.Id.StartsWith("KILN", StringComparison.Ordinal))];
    }

    /// <summary>A spec project using Kiln from this repository's source, as the samples do.</summary>
    private string WriteFixture()
    {
        var repo = RepoRoot.Replace('\\', '/').TrimEnd('/') + "/";
        File.WriteAllText(Path.Combine(_directory, "Fixture.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <KilnRepoRoot>{repo}</KilnRepoRoot>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <Import Project="{repo}samples/Kiln.FromSource.props" />
              <Import Project="{repo}samples/Kiln.FromSource.targets" />
            </Project>
            """);
        File.WriteAllText(Path.Combine(_directory, "Specs.cs"), Spec.ReplaceLineEndings("\n"));
        return Path.Combine(_directory, "Fixture.csproj");
    }

    /// <summary>What an IDE does before its design-time build: a restore (which runs none of Kiln's targets).</summary>
    private static void Restore(string projectPath)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", ["restore", projectPath, "-nologo", "-nodeReuse:false"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), "dotnet restore did not finish");
        Assert.True(process.ExitCode == 0, "dotnet restore failed:\n" + output + error.Result);
    }

    private void AssertNoImageWork()
    {
        var binFiles = Entries("bin").Where(p => File.Exists(Path.Combine(_directory, p))).ToList();
        Assert.True(binFiles.Count == 0, "the design-time build wrote to bin/: " + string.Join(", ", binFiles));
        var kiln = Entries("bin").Concat(Entries("obj")).Where(p => Path.GetFileName(p) == "kiln").ToList();
        Assert.True(kiln.Count == 0, "Kiln's targets ran in the design-time build: " + string.Join(", ", kiln));
    }

    private IEnumerable<string> Entries(string folder) =>
        Directory.Exists(Path.Combine(_directory, folder))
            ? Directory.EnumerateFileSystemEntries(Path.Combine(_directory, folder), "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(_directory, p))
            : [];

    private static string Configuration { get; } =
        typeof(WorkspaceTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "Configuration").Value!;

    private static string RepoRoot => Repo.Root;
}
