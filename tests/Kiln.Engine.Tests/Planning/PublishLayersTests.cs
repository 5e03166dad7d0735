using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.Planning;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;

namespace Kiln.Engine.Tests.Planning;

/// <summary>
/// A publish output split into layers by rate of change, on real publish directories laid out as the SDK lays them
/// out (a self-contained app with a runtime pack, a NuGet package, a project reference), classified from the app's
/// dependency file.
/// </summary>
public sealed class PublishLayersTests : IDisposable
{
    private static readonly DateTime PackTime = new(2026, 8, 22, 14, 31, 34, DateTimeKind.Utc);

    private readonly string _root = Directory.CreateTempSubdirectory("kiln-publish-layers-").FullName;

    public PublishLayersTests() => Directory.CreateDirectory(Project);

    private string Project => Path.Combine(_root, "specs");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Plan_SelfContainedOutput_SplitsRuntimePackagesProjectsAndApp()
    {
        var published = Publish("Api");

        var layers = PlanOne(Layer.PublishOutput("../Api/Api.csproj", to: "/app", runtimeIdentifier: "linux-x64", selfContained: true), published).Layers;

        Assert.Equal(
            ["publish:../Api/Api.csproj#runtime:Microsoft.NETCore.App/10.0.12", "publish:../Api/Api.csproj#runtime:Microsoft.AspNetCore.App/10.0.12", "publish:../Api/Api.csproj#packages", "publish:../Api/Api.csproj#projects", "publish:../Api/Api.csproj"],
            layers.Select(l => l.Source));
        Assert.Equal(
            [".NET runtime 10.0.12 (linux-x64)", "ASP.NET Core runtime 10.0.12 (linux-x64)", "NuGet packages of Api", "project references of Api", "Api"],
            layers.Select(l => l.History));
        Assert.Equal(["/app/System.Private.CoreLib.dll", "/app/libcoreclr.so"], Files(layers[0]));
        Assert.Equal(["/app/Microsoft.AspNetCore.dll"], Files(layers[1]));
        Assert.Equal(["/app/Newtonsoft.Json.dll", "/app/de/Newtonsoft.Json.resources.dll"], Files(layers[2]));
        Assert.Equal(["/app/Lib.dll", "/app/Lib.pdb"], Files(layers[3]));
        Assert.Equal(["/app/Api", "/app/Api.deps.json", "/app/Api.dll", "/app/Api.pdb", "/app/appsettings.json", "/app/wwwroot/index.html"], Files(layers[4]));
        Assert.All(layers, l => Assert.Contains(l.Entries, e => e.Path == "/app" && e.Kind == EntryKind.Directory));
        Assert.Contains(layers[2].Entries, e => e.Path == "/app/de" && e.Kind == EntryKind.Directory);
        Assert.Contains(layers[4].Entries, e => e.Path == "/app/wwwroot" && e.Kind == EntryKind.Directory);
        Assert.DoesNotContain(layers[0].Entries, e => e.Path == "/app/de" || e.Path == "/app/wwwroot");
    }

    [Fact]
    public void Plan_SplitOutput_HoldsExactlyTheOneLayersEntries()
    {
        var published = Publish("Api");

        var split = PlanOne(Layer.PublishOutput("../Api/Api.csproj", to: "/app"), published).Layers;
        var single = Assert.Single(PlanOne(Layer.PublishOutput("../Api/Api.csproj", to: "/app") with { SplitLayers = false }, published).Layers);

        Assert.Equal(single.Entries.Select(e => e.Path).Order(StringComparer.Ordinal), split.SelectMany(l => l.Entries).Select(e => e.Path).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(single.Entries.Count(e => e.Kind != EntryKind.Directory), split.Sum(l => l.Entries.Count(e => e.Kind != EntryKind.Directory)));
        Assert.Equal("publish:../Api/Api.csproj", single.Source);
        Assert.Null(single.History);
    }

    [Fact]
    public void Plan_TwoAppsOnOneRuntimePack_ShareTheRuntimeLayerKeyOnly()
    {
        var api = Publish("Api");
        var worker = Publish("Worker");

        var plans = Plan([PlanningFixtures.Server("api", Layer.PublishOutput("../Api/Api.csproj", to: "/app")), PlanningFixtures.Server("worker", Layer.PublishOutput("../Worker/Worker.csproj", to: "/app"))], [api, worker]);

        var apiLayers = plans[0].Layers;
        var workerLayers = plans[1].Layers;
        Assert.Equal(apiLayers[0].CacheKey, workerLayers[0].CacheKey);
        Assert.NotEqual(apiLayers[^1].CacheKey, workerLayers[^1].CacheKey);
        Assert.NotEqual(apiLayers[2].CacheKey, workerLayers[2].CacheKey); // packages are keyed by their files, wherever they lie
    }

    [Fact]
    public void Plan_RuntimeFileChanged_ChangesOnlyTheRuntimeLayerKey()
    {
        var published = Publish("Api");
        var before = PlanOne(Layer.PublishOutput("../Api/Api.csproj", to: "/app"), published).Layers;

        File.AppendAllText(Path.Combine(published.Directory, "libcoreclr.so"), "patched");
        var after = PlanOne(Layer.PublishOutput("../Api/Api.csproj", to: "/app"), published).Layers;

        Assert.NotEqual(before[0].CacheKey, after[0].CacheKey);
        Assert.Equal(before.Skip(1).Select(l => l.CacheKey), after.Skip(1).Select(l => l.CacheKey));
    }

    [Fact]
    public void Plan_AppFileChanged_ChangesOnlyTheAppLayerKey()
    {
        var published = Publish("Api");
        var before = PlanOne(Layer.PublishOutput("../Api/Api.csproj", to: "/app"), published).Layers;

        File.WriteAllText(Path.Combine(published.Directory, "Api.dll"), "MZ app v2, longer");
        var after = PlanOne(Layer.PublishOutput("../Api/Api.csproj", to: "/app"), published).Layers;

        Assert.Equal(before.SkipLast(1).Select(l => l.CacheKey), after.SkipLast(1).Select(l => l.CacheKey));
        Assert.NotEqual(before[^1].CacheKey, after[^1].CacheKey);
    }

    [Fact]
    public void Plan_NoDependencyFile_PlansOneAppLayer()
    {
        var published = Publish("Api");
        File.Delete(Path.Combine(published.Directory, "Api.deps.json"));

        var layer = Assert.Single(PlanOne(Layer.PublishOutput("../Api/Api.csproj", to: "/app"), published).Layers);

        Assert.Equal("publish:../Api/Api.csproj", layer.Source);
        Assert.Equal("Api", layer.History);
        Assert.Contains(layer.Entries, e => e.Path == "/app/libcoreclr.so");
    }

    [Fact]
    public void Plan_DependencyFileNotJson_PlansOneAppLayer()
    {
        var published = Publish("Api");
        File.WriteAllText(Path.Combine(published.Directory, "Api.deps.json"), "{ not json");

        var layer = Assert.Single(PlanOne(Layer.PublishOutput("../Api/Api.csproj", to: "/app"), published).Layers);

        Assert.Equal(13, layer.Entries.Count(e => e.Kind == EntryKind.File));
    }

    [Fact]
    public void Plan_FrameworkDependentOutput_HasNoRuntimeLayer()
    {
        var published = Publish("Api", runtimePack: false);

        var layers = PlanOne(Layer.PublishOutput("../Api/Api.csproj", to: "/app"), published).Layers;

        Assert.Equal(["publish:../Api/Api.csproj#packages", "publish:../Api/Api.csproj#projects", "publish:../Api/Api.csproj"], layers.Select(l => l.Source));
    }

    /// <summary>A publish output of <paramref name="app"/> as the SDK writes it, and its project file.</summary>
    private PublishedProject Publish(string app, bool runtimePack = true)
    {
        var projectDirectory = Path.Combine(_root, app);
        Directory.CreateDirectory(projectDirectory);
        File.WriteAllText(Path.Combine(projectDirectory, app + ".csproj"), "<Project Sdk=\"Microsoft.NET.Sdk\" />\n");
        var directory = Path.Combine(_root, "publish", app);
        Directory.CreateDirectory(Path.Combine(directory, "de"));
        Directory.CreateDirectory(Path.Combine(directory, "wwwroot"));
        var runtime = runtimePack
            ? """
              "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/10.0.12": {
                "runtime": { "System.Private.CoreLib.dll": { "assemblyVersion": "10.0.0.0" } },
                "native": { "libcoreclr.so": { "fileVersion": "0.0.0.0" } }
              },
              "runtimepack.Microsoft.AspNetCore.App.Runtime.linux-x64/10.0.12": {
                "runtime": { "Microsoft.AspNetCore.dll": { "assemblyVersion": "10.0.0.0" } }
              },
              """
            : "";
        var runtimeLibraries = runtimePack
            ? """
              "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/10.0.12": { "type": "runtimepack", "serviceable": false, "sha512": "" },
              "runtimepack.Microsoft.AspNetCore.App.Runtime.linux-x64/10.0.12": { "type": "runtimepack", "serviceable": false, "sha512": "" },
              """
            : "";
        File.WriteAllText(Path.Combine(directory, app + ".deps.json"), $$"""
            {
              "runtimeTarget": { "name": ".NETCoreApp,Version=v10.0/linux-x64", "signature": "" },
              "compilationOptions": {},
              "targets": {
                ".NETCoreApp,Version=v10.0": {},
                ".NETCoreApp,Version=v10.0/linux-x64": {
                  "{{app}}/1.0.0": {
                    "dependencies": { "Lib": "1.0.0", "Newtonsoft.Json": "13.0.3" },
                    "runtime": { "{{app}}.dll": {} }
                  },
                  {{runtime}}
                  "Newtonsoft.Json/13.0.3": {
                    "runtime": { "lib/net6.0/Newtonsoft.Json.dll": { "assemblyVersion": "13.0.0.0", "fileVersion": "13.0.3.27908" } },
                    "resources": { "lib/net6.0/de/Newtonsoft.Json.resources.dll": { "locale": "de" } }
                  },
                  "Lib/1.0.0": { "runtime": { "Lib.dll": {} } }
                }
              },
              "libraries": {
                "{{app}}/1.0.0": { "type": "project", "serviceable": false, "sha512": "" },
                {{runtimeLibraries}}
                "Newtonsoft.Json/13.0.3": { "type": "package", "serviceable": true, "sha512": "sha512-x", "path": "newtonsoft.json/13.0.3" },
                "Lib/1.0.0": { "type": "project", "serviceable": false, "sha512": "" }
              }
            }
            """);
        // Runtime pack files keep the package's time stamps, as the SDK's copy does.
        foreach (var (name, content) in new[] { ("System.Private.CoreLib.dll", "MZ corelib"), ("libcoreclr.so", "\u007fELF coreclr"), ("Microsoft.AspNetCore.dll", "MZ aspnetcore") })
        {
            File.WriteAllText(Path.Combine(directory, name), content);
            File.SetLastWriteTimeUtc(Path.Combine(directory, name), PackTime);
        }

        File.WriteAllText(Path.Combine(directory, "Newtonsoft.Json.dll"), "MZ json " + app);
        File.WriteAllText(Path.Combine(directory, "de", "Newtonsoft.Json.resources.dll"), "MZ json de");
        File.WriteAllText(Path.Combine(directory, "Lib.dll"), "MZ lib");
        File.WriteAllText(Path.Combine(directory, "Lib.pdb"), "BSJB lib");
        File.WriteAllText(Path.Combine(directory, app), "\u007fELF apphost");
        File.WriteAllText(Path.Combine(directory, app + ".dll"), "MZ app " + app);
        File.WriteAllText(Path.Combine(directory, app + ".pdb"), "BSJB app");
        File.WriteAllText(Path.Combine(directory, "appsettings.json"), "{}\n");
        File.WriteAllText(Path.Combine(directory, "wwwroot", "index.html"), "<p>\n");
        return new PublishedProject(app, directory);
    }

    private static string[] Files(LayerPlan layer) =>
        [.. layer.Entries.Where(e => e.Kind != EntryKind.Directory).Select(e => e.Path).Order(StringComparer.Ordinal)];

    private ImagePlan PlanOne(PublishOutputLayer layer, PublishedProject published) =>
        Plan([PlanningFixtures.Server("api", layer)], [published]).Single();

    private ImmutableArray<ImagePlan> Plan(ResolvedServer[] servers, PublishedProject[] published) =>
        new Planner(ProjectFor(servers, published)).Plan(servers);

    private ProjectOptions ProjectFor(ResolvedServer[] servers, PublishedProject[] published)
    {
        var project = new ProjectOptions
        {
            ProjectDirectory = Project,
            IntermediateDirectory = Path.Combine(Project, "obj", "kiln"),
        };
        // The engine gets the publish directories by requirement key; map each fixture output to its project's key.
        var requirements = Planner.PublishRequirements(servers, project);
        return project with
        {
            PublishedProjects = [.. requirements.Select(r => new PublishedProject(r.Key, published.Single(p => Path.GetFileNameWithoutExtension(r.Project) == p.Key).Directory))],
        };
    }

    /// <summary>
    /// Plans like a build started while MSBuild publishes Api: <paramref name="ahead"/> receives the images handed over
    /// before the wait (null if none was, which calls the build off).
    /// </summary>
    private ImmutableArray<ImagePlan> PlanWhileApiPublishes(ResolvedServer[] servers, PublishedProject[] published, List<ImagePlan> ahead)
    {
        var project = ProjectFor(servers, published);
        var handedOver = false;
        return new Planner(project)
        {
            Publishing = new HashSet<string>(Planner.PublishRequirements(servers, project).Where(r => r.Project.EndsWith("Api.csproj", StringComparison.Ordinal)).Select(r => r.Key), StringComparer.Ordinal),
            BeforeWait = (_, images) =>
            {
                ahead.AddRange(images);
                handedOver = true;
            },
            PublishedOutputsReady = () => handedOver,
        }.Plan(servers);
    }

    [Fact]
    public void Plan_WhileAPublishRuns_HandsOverTheImagesThatReadNothingItWritesBeforeTheWait()
    {
        ResolvedServer[] servers =
        [
            PlanningFixtures.Server("api", Layer.PublishOutput("../Api/Api.csproj", to: "/app")),
            PlanningFixtures.Server("worker", Layer.PublishOutput("../Worker/Worker.csproj", to: "/app")),
        ];

        var ahead = new List<ImagePlan>();
        var plans = PlanWhileApiPublishes(servers, [Publish("Api"), Publish("Worker")], ahead);

        // The worker's image is planned whole before the wait, and it is the very plan the build gets: built once.
        var worker = Assert.Single(ahead);
        Assert.Equal("worker", worker.Server.Name);
        Assert.Equal(["api", "worker"], plans.Select(p => p.Server.Name));
        Assert.Same(worker, plans[1]);
    }

    [Fact]
    public void Plan_WhileAPublishRuns_ARefusedLayerBuildsNoImageAhead()
    {
        // The worker's file collides with its own publish output: a conflict, reported after the wait.
        File.WriteAllText(Path.Combine(Project, "other.dll"), "MZ other");
        ResolvedServer[] servers =
        [
            PlanningFixtures.Server("api", Layer.PublishOutput("../Api/Api.csproj", to: "/app")),
            PlanningFixtures.Server("worker", Layer.PublishOutput("../Worker/Worker.csproj", to: "/app"), Layer.File("other.dll", to: "/app/Worker.dll")),
        ];

        var ahead = new List<ImagePlan>();
        var error = Assert.Throws<KilnException>(() => PlanWhileApiPublishes(servers, [Publish("Api"), Publish("Worker")], ahead));

        Assert.Equal(DiagnosticCodes.LayerConflict, Assert.Single(error.Diagnostics).Code);
        Assert.Empty(ahead);
    }
}
