// Kiln's build, run by cake.tool (pinned in .config/dotnet-tools.json) through build/build.sh:
//
//   bash build/build.sh <Target> [--configuration=Release] [--keep-verify-copies]
//
// Public targets only group the internal tasks below, and CI calls exactly one of them: CI.
//
//   Build    compile Tooling.sln
//   Test     Build, run every test project, print "<N> passed, <M> failed, <K> skipped" on a line of its own
//   Images   build samples/Shop's images into samples/Shop/bin/<Configuration>/kiln/ and print release.json
//            (in Release against the committed kiln.lock.json, KilnLockMode=Enforce), then kiln fsck the layout
//   Verify   build samples/Shop in two fresh copies of the sources, in two different directories, one after the
//            other; fail unless every image digest in release.json and every blob under oci/blobs/sha256 agree
//   CI       Build, Test, Images, Verify
//   Outdated kiln outdated on the sample's lock (or --outdated-project=DIR): which locked Debian packages have a
//            newer version, security fixes flagged; writes artifacts/outdated.json. --outdated-mode=fail (the
//            default) fails the run when anything is outdated, --outdated-mode=report only reports. Not part of CI:
//            a scheduled job runs it (see docs/patching.md).
//   Default  Build, Test
//   Pack     Kiln.Build (tasks, engine, analyzers, Kiln.Spec, the Cake recipe), the kiln tool and Kiln.Templates
//            (dotnet new kiln) into artifacts/packages/, all at one version: <Version> of Directory.Build.props, or
//            --package-version=1.2.3-preview.4. Not part of CI: the integration tests pack what they use themselves.
//
// The Kiln steps (the sample's images, the layout check, outdated packages) come from Kiln's own Cake recipe, loaded
// from its source here and from the Kiln.Build package in a user's build (docs/cake.md).
//
// A failing step does not stop the steps that do not need it: its failure is collected and thrown once, at the end
// (Throw-Collected-Failures), so that one CI run reports every broken thing at once.

#load "../src/Kiln.Build.Tasks/tools/kiln.cake"

using System.Security.Cryptography;
using System.Text.Json;
using System.Xml.Linq;

var target = Argument("target", "Default");
var configuration = Argument("configuration", "Release");
var keepVerifyCopies = HasArgument("keep-verify-copies");
var outdatedMode = Argument("outdated-mode", "fail");
var outdatedProject = Argument("outdated-project", "samples/Shop");

var repoRoot = FindRepositoryRoot(Context.Environment.WorkingDirectory);
var solution = repoRoot.CombineWithFilePath("Tooling.sln");
var sampleRelativePath = "samples/Shop";
var testResultsDirectory = repoRoot.Combine("artifacts/test-results");
var packagesDirectory = repoRoot.Combine("artifacts/packages");
var packageVersion = Argument("package-version", RepositoryVersion());
// What Pack packs, in this order: the tool and the template do not depend on Kiln.Build, but a reader of the output
// sees the main package first.
var packedProjects = new[]
{
    "src/Kiln.Build.Tasks/Kiln.Build.Tasks.csproj", "src/Kiln.Cli/Kiln.Cli.csproj", "templates/Kiln.Templates/Kiln.Templates.csproj",
};

// What Verify copies: the sources the sample is built from (it uses Kiln from src/ through a ProjectReference) and the
// root files that configure the build. analyzers/ goes too, so that the sample may start referencing the analyzers
// without breaking Verify. Build outputs never go: each copy must build from nothing.
var verifySourceDirectories = new[] { "src", "samples", "analyzers" };
var verifyRootFiles = new[]
{
    "global.json", "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props",
    "NuGet.config", "nuget.config", ".editorconfig", ".globalconfig",
};
var excludedDirectoryNames = new HashSet<string>(StringComparer.Ordinal)
{
    "bin", "obj", ".vs", "TestResults", "BenchmarkDotNet.Artifacts",
};

var failures = new List<string>();
var failedTasks = new HashSet<string>(StringComparer.Ordinal);

// The sample's Kiln tasks (Shop-Images, Shop-Verify, Shop-Outdated...), from the recipe, run with the kiln built from src/.
// Images are locked in Release: CI builds them against the committed kiln.lock.json with KilnLockMode=Enforce, so an
// image that differs on this machine, in this directory or at this commit fails the build (KILN5002) instead of
// silently rewriting the lock. Other configurations are never locked.
var shop = KilnRecipe(new KilnSettings
{
    Project = repoRoot.Combine(sampleRelativePath).FullPath,
    Configuration = configuration,
    LockMode = configuration == "Release" ? "Enforce" : "Off",
    KilnPath = repoRoot.CombineWithFilePath($"src/Kiln.Cli/bin/{configuration}/net10.0/kiln.dll").FullPath,
    OutdatedMode = outdatedMode,
    OutdatedReport = repoRoot.CombineWithFilePath("artifacts/outdated.json").FullPath,
    TaskPrefix = "Shop-",
});
var outdated = outdatedProject == sampleRelativePath ? shop : KilnRecipe(new KilnSettings
{
    Project = repoRoot.Combine(outdatedProject).FullPath,
    Configuration = configuration,
    KilnPath = repoRoot.CombineWithFilePath($"src/Kiln.Cli/bin/{configuration}/net10.0/kiln.dll").FullPath,
    OutdatedMode = outdatedMode,
    OutdatedReport = repoRoot.CombineWithFilePath("artifacts/outdated.json").FullPath,
    TaskPrefix = "Outdated-",
});
DirectoryPath verifyRoot = null;
var verifyCopies = new List<VerifyCopy>();

// ---------------------------------------------------------------------------------------------------------------
// Public targets
// ---------------------------------------------------------------------------------------------------------------

var buildSteps = new[] { "Build-Solution" };
var testSteps = new[] { "Build-Solution", "Run-Tests", "Summarize-Test-Results" };
var imageSteps = new[] { "Shop-Images", "Print-Release-Table", "Shop-Verify" };
var verifySteps = new[]
{
    "Copy-Sources-To-Two-Directories", "Build-Sample-In-First-Copy", "Build-Sample-In-Second-Copy",
    "Compare-Digests-Of-Both-Copies", "Delete-Verify-Copies",
};

PublicTarget("Build", "Compiles Tooling.sln.", buildSteps);
PublicTarget("Test", "Compiles Tooling.sln and runs every test project.", testSteps);
PublicTarget("Images", "Builds the Shop sample's images and prints release.json.", imageSteps);
PublicTarget("Verify", "Builds the Shop sample in two directories and fails unless every digest agrees.", verifySteps);
PublicTarget("CI", "Build, Test, Images, Verify: the one target CI calls.", buildSteps, testSteps, imageSteps, verifySteps);
PublicTarget("Default", "Build and Test.", buildSteps, testSteps);
PublicTarget("Outdated", "kiln outdated on the sample's lock; --outdated-mode=fail|report (fail by default). Not part of CI.", new[] { "Build-Cli", outdated.Outdated.Task.Name });
PublicTarget("Pack", "Packs Kiln.Build, the kiln tool and Kiln.Templates into artifacts/packages.", new[] { "Pack-Packages" });

// ---------------------------------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------------------------------

Task("Build-Solution")
    .Does(() => DotNetBuild(solution.FullPath, new DotNetBuildSettings
    {
        Configuration = configuration,
        WorkingDirectory = repoRoot,
    }))
    .OnError(exception => Collect("Build-Solution", $"Tooling.sln did not build ({exception.Message})"));

// ---------------------------------------------------------------------------------------------------------------
// Test
// ---------------------------------------------------------------------------------------------------------------

Task("Run-Tests")
    .WithCriteria(() => !failedTasks.Contains("Build-Solution"), "Tooling.sln did not build")
    .Does(() =>
    {
        CleanDirectory(testResultsDirectory);
        DotNetTest(solution.FullPath, new DotNetTestSettings
        {
            Configuration = configuration,
            NoBuild = true,
            NoRestore = true,
            WorkingDirectory = repoRoot,
            ResultsDirectory = testResultsDirectory,
            Loggers = new List<string> { "trx", "console;verbosity=minimal" },
        });
    })
    .OnError(exception => Collect("Run-Tests", $"dotnet test failed ({exception.Message})"));

// Runs whenever the tests ran, failed or not: the counts are what a reader (and a machine) looks for first.
Task("Summarize-Test-Results")
    .WithCriteria(() => !failedTasks.Contains("Build-Solution"), "Tooling.sln did not build")
    .Does(() =>
    {
        var trxFiles = GetFiles(testResultsDirectory.FullPath + "/**/*.trx").OrderBy(f => f.FullPath).ToList();
        if (trxFiles.Count == 0)
        {
            Collect("Summarize-Test-Results", $"no test results (*.trx) under {testResultsDirectory}");
            return;
        }

        XNamespace ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
        int passed = 0, failed = 0, skipped = 0;
        var failedNames = new List<string>();
        var skippedNames = new List<string>();
        var reported = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        Print();
        Print($"{"test results",-40} {"passed",7} {"failed",7} {"skipped",7}");
        foreach (var trx in trxFiles)
        {
            var document = XDocument.Load(trx.FullPath);
            var results = document.Descendants(ns + "UnitTestResult").ToList();
            var codeBase = document.Descendants(ns + "TestMethod")
                .Select(t => (string)t.Attribute("codeBase"))
                .FirstOrDefault(c => !string.IsNullOrEmpty(c));
            var project = codeBase is null ? trx.GetFilenameWithoutExtension().FullPath : System.IO.Path.GetFileNameWithoutExtension(codeBase);
            reported.Add(project);
            int p = 0, f = 0, s = 0;
            foreach (var result in results)
            {
                var name = (string)result.Attribute("testName");
                switch ((string)result.Attribute("outcome"))
                {
                    case "Passed":
                        p++;
                        break;
                    case "NotExecuted":
                        s++;
                        skippedNames.Add($"{name}: {SkipReason(result, ns)}");
                        break;
                    default: // Failed, Error, Timeout, Aborted...
                        f++;
                        failedNames.Add(name);
                        break;
                }
            }

            Print($"{project,-40} {p,7} {f,7} {s,7}");
            passed += p;
            failed += f;
            skipped += s;
        }

        // A test project whose results went missing (a crashed test host, a results file overwritten) must not
        // pass for green.
        foreach (var project in TestProjects().Where(p => !reported.Contains(p)))
        {
            Print($"{project,-40} {"no results",7}");
            Collect("Summarize-Test-Results", $"no test results from {project}");
        }

        foreach (var name in skippedNames)
        {
            Warning("skipped: {0}", name);
        }

        foreach (var name in failedNames)
        {
            Error("failed:  {0}", name);
        }

        if (failed > 0)
        {
            Collect("Summarize-Test-Results", $"{failed} test(s) failed");
        }

        // The machine-readable line: CI and .ci/run look for exactly this shape.
        var summary = $"{passed} passed, {failed} failed, {skipped} skipped";
        System.IO.File.WriteAllText(testResultsDirectory.CombineWithFilePath("summary.txt").FullPath, summary + "\n");
        Print();
        Print(summary);
    });

// ---------------------------------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------------------------------

shop.Images.OnError(exception => Collect("Shop-Images", $"{sampleRelativePath} did not build ({exception.Message})"));

Task("Print-Release-Table")
    .WithCriteria(() => !failedTasks.Contains("Shop-Images"), $"{sampleRelativePath} did not build")
    .Does(() =>
    {
        var kiln = KilnOutput(repoRoot);
        var images = ReadRelease(kiln);
        Print();
        Print($"{"image",-28} {"digest",-71} {"layers",6} {"gz size",10}");
        foreach (var image in images)
        {
            var platforms = PlatformManifests(kiln, image.Digest);
            if (platforms is null)
            {
                var (layers, size) = ManifestLayers(kiln, image.Digest);
                Print($"{image.Reference,-28} {image.Digest,-71} {layers,6} {FormatSize(size),10}");
                continue;
            }

            // A multi-platform image: its index, then each platform's image manifest.
            Print($"{image.Reference,-28} {image.Digest,-71} {"index",6} {"",10}");
            foreach (var (platform, digest) in platforms)
            {
                var (layers, size) = ManifestLayers(kiln, digest);
                Print($"{"  " + platform,-28} {digest,-71} {layers,6} {FormatSize(size),10}");
            }
        }

        var layout = repoRoot.GetRelativePath(kiln.Combine("oci"));
        var cli = repoRoot.CombineWithFilePath($"src/Kiln.Cli/bin/{configuration}/net10.0/kiln.dll");
        var inspect = System.IO.File.Exists(cli.FullPath)
            ? $"dotnet {repoRoot.GetRelativePath(cli)} inspect {layout}"
            : $"dotnet run --project src/Kiln.Cli -c {configuration} -- inspect {layout}";
        Print();
        Print($"OCI layout:   {kiln.Combine("oci")}");
        Print($"release:      {kiln.CombineWithFilePath("release.json")}");
        Print($"manifests:    {kiln.Combine("manifests")}");
        Print($"look inside:  {inspect} {images.FirstOrDefault()?.Reference}");
    });

// kiln fsck on the sample's layout: every blob index.json reaches is present and hashes to its digest.
shop.Verify
    .WithCriteria(() => !failedTasks.Contains("Shop-Images"), $"{sampleRelativePath} did not build")
    .OnError(exception => Collect("Shop-Verify", $"the layout of {sampleRelativePath} did not check out ({exception.Message})"));

// ---------------------------------------------------------------------------------------------------------------
// Verify
// ---------------------------------------------------------------------------------------------------------------

Task("Copy-Sources-To-Two-Directories")
    .Does(() =>
    {
        verifyRoot = new DirectoryPath(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kiln-verify-" + Guid.NewGuid().ToString("N")[..8]));
        // Different names and depths, so that a path that leaks into an image shows up as a different digest.
        foreach (var name in new[] { "first", "second/copy-at-another-depth" })
        {
            var copy = verifyRoot.Combine(name);
            foreach (var directory in verifySourceDirectories)
            {
                var source = repoRoot.Combine(directory);
                if (System.IO.Directory.Exists(source.FullPath))
                {
                    CopyTree(source.FullPath, copy.Combine(directory).FullPath);
                }
            }

            System.IO.Directory.CreateDirectory(copy.FullPath);
            foreach (var file in verifyRootFiles)
            {
                var source = repoRoot.CombineWithFilePath(file);
                if (System.IO.File.Exists(source.FullPath))
                {
                    System.IO.File.Copy(source.FullPath, copy.CombineWithFilePath(file).FullPath);
                    System.IO.File.SetLastWriteTimeUtc(copy.CombineWithFilePath(file).FullPath, DateTime.UtcNow);
                }
            }

            verifyCopies.Add(new VerifyCopy(name, copy));
            Information("copied the sources to {0}", copy);
        }
    });

// One after the other, never in parallel: "at different times" is part of what is verified.
foreach (var (task, index) in new[] { ("Build-Sample-In-First-Copy", 0), ("Build-Sample-In-Second-Copy", 1) })
{
    Task(task)
        .Does(() => BuildSampleInCopy(verifyCopies[index]))
        .OnError(exception => Collect(task, $"{sampleRelativePath} did not build in {verifyCopies[index].Root} ({exception.Message})"));
}

Task("Compare-Digests-Of-Both-Copies")
    .WithCriteria(() => verifyCopies.All(c => c.Built), "the sample did not build in both copies")
    .Does(() =>
    {
        var first = verifyCopies[0];
        var second = verifyCopies[1];
        var problems = new List<string>();

        // Image digests, matched by reference (name:version).
        var firstImages = ReadRelease(KilnOutput(first.Root)).ToDictionary(i => i.Reference, i => i.Digest);
        var secondImages = ReadRelease(KilnOutput(second.Root)).ToDictionary(i => i.Reference, i => i.Digest);
        Print();
        Print($"{"image",-28} {"digest",-71} result");
        foreach (var reference in firstImages.Keys.Union(secondImages.Keys).OrderBy(r => r, StringComparer.Ordinal))
        {
            firstImages.TryGetValue(reference, out var a);
            secondImages.TryGetValue(reference, out var b);
            if (a is not null && a == b)
            {
                Print($"{reference,-28} {a,-71} identical");
                continue;
            }

            Print($"{reference,-28} {a ?? "(missing)",-71} DIFFERENT: in {first.Name}");
            Print($"{"",-28} {b ?? "(missing)",-71} DIFFERENT: in {second.Name}");
            problems.Add($"image {reference} differs: {a ?? "(missing)"} vs {b ?? "(missing)"}");
            if (a is not null && b is not null)
            {
                problems.AddRange(ExplainImageDifference(reference, KilnOutput(first.Root), a, KilnOutput(second.Root), b));
            }
        }

        if (firstImages.Count == 0)
        {
            problems.Add("release.json lists no image");
        }

        // Every blob: the same set of names, and each file's content hashes to its name in both copies.
        var firstBlobs = HashBlobs(KilnOutput(first.Root).Combine("oci/blobs/sha256"));
        var secondBlobs = HashBlobs(KilnOutput(second.Root).Combine("oci/blobs/sha256"));
        foreach (var name in firstBlobs.Keys.Except(secondBlobs.Keys).OrderBy(n => n, StringComparer.Ordinal))
        {
            problems.Add($"blob sha256:{name} only in the {first.Name} copy");
        }

        foreach (var name in secondBlobs.Keys.Except(firstBlobs.Keys).OrderBy(n => n, StringComparer.Ordinal))
        {
            problems.Add($"blob sha256:{name} only in the {second.Name} copy");
        }

        foreach (var (blobs, copy) in new[] { (firstBlobs, first), (secondBlobs, second) })
        {
            foreach (var (name, actual) in blobs.Where(b => b.Key != b.Value).OrderBy(b => b.Key, StringComparer.Ordinal))
            {
                problems.Add($"blob sha256:{name} in the {copy.Name} copy has content sha256:{actual}");
            }
        }

        Print();
        Print($"blobs: {firstBlobs.Count} in {first.Name}, {secondBlobs.Count} in {second.Name}, {firstBlobs.Keys.Intersect(secondBlobs.Keys).Count()} in both");

        foreach (var problem in problems)
        {
            Error("{0}", problem);
        }

        if (problems.Count > 0)
        {
            Collect("Compare-Digests-Of-Both-Copies", $"the two builds are not identical (the differences are listed above); the copies are kept in {verifyRoot}");
            keepVerifyCopies = true;
        }
        else
        {
            Information("reproducible: {0} image(s) and {1} blob(s) identical in {2} and {3}",
                firstImages.Count, firstBlobs.Count, first.Root, second.Root);
        }
    });

Task("Delete-Verify-Copies")
    .WithCriteria(() => verifyRoot is not null)
    .Does(() =>
    {
        // Kept when they differ (or when asked): then they are the evidence. A copy that did not build says why in
        // the build log already.
        if (keepVerifyCopies)
        {
            Information("kept the copies in {0}", verifyRoot);
            return;
        }

        // MSBuild and compiler server nodes may still run from the copies; on Linux that does not keep a directory.
        DeleteDirectory(verifyRoot, new DeleteDirectorySettings { Recursive = true, Force = true });
    });

// ---------------------------------------------------------------------------------------------------------------
// Outdated (a scheduled job, not CI)
// ---------------------------------------------------------------------------------------------------------------

Task("Build-Cli")
    .Does(() => DotNetBuild(repoRoot.CombineWithFilePath("src/Kiln.Cli/Kiln.Cli.csproj").FullPath, new DotNetBuildSettings
    {
        Configuration = configuration,
        WorkingDirectory = repoRoot,
    }))
    .OnError(exception => Collect("Build-Cli", $"src/Kiln.Cli did not build ({exception.Message})"));

// The recipe's Outdated task: kiln outdated exits 0 when nothing is outdated and 8 when something is; anything else
// means it could not check. Its JSON goes to artifacts/outdated.json.
outdated.Outdated
    .WithCriteria(() => !failedTasks.Contains("Build-Cli"), "src/Kiln.Cli did not build")
    .OnError(exception => Collect(outdated.Outdated.Task.Name, exception.Message));

// ---------------------------------------------------------------------------------------------------------------
// Pack
// ---------------------------------------------------------------------------------------------------------------

Task("Pack-Packages")
    .Does(() =>
    {
        // Only this run's packages: a stale one of another version would be a second answer to `dotnet add package`.
        CleanDirectory(packagesDirectory);
        foreach (var project in packedProjects)
        {
            DotNetPack(repoRoot.CombineWithFilePath(project).FullPath, new DotNetPackSettings
            {
                Configuration = configuration,
                OutputDirectory = packagesDirectory,
                WorkingDirectory = repoRoot,
                MSBuildSettings = new DotNetMSBuildSettings().WithProperty("Version", packageVersion),
            });
        }

        Print();
        foreach (var package in GetFiles(packagesDirectory.FullPath + "/*.nupkg").OrderBy(f => f.FullPath))
        {
            Print($"{repoRoot.GetRelativePath(package),-60} {FormatSize(new System.IO.FileInfo(package.FullPath).Length),10}");
        }
    })
    .OnError(exception => Collect("Pack-Packages", $"packing did not succeed ({exception.Message})"));

// ---------------------------------------------------------------------------------------------------------------
// The end of every public target
// ---------------------------------------------------------------------------------------------------------------

Task("Throw-Collected-Failures")
    .Does(() =>
    {
        if (failures.Count == 0)
        {
            return;
        }

        Print();
        Error("{0} step(s) failed:", failures.Count);
        foreach (var failure in failures)
        {
            Error("  - {0}", failure);
        }

        throw new CakeException($"{failures.Count} step(s) failed: " + string.Join("; ", failures));
    });

RunTarget(target);

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

void PublicTarget(string name, string description, params string[][] steps)
{
    var task = Task(name).Description(description);
    foreach (var step in steps.SelectMany(s => s).Distinct())
    {
        task.IsDependentOn(step);
    }

    task.IsDependentOn("Throw-Collected-Failures");
}

// Tables and results verbatim: Cake's log would colour every format argument.
void Print(string line = "") => Console.WriteLine(line);

void Collect(string task, string failure)
{
    failedTasks.Add(task);
    failures.Add($"{task}: {failure}");
    Error("{0}: {1}", task, failure);
}

void BuildSampleInCopy(VerifyCopy copy)
{
    Information("building {0} in {1}", sampleRelativePath, copy.Root);
    // Same settings as Images; KilnSourceDateEpoch is left unset in both, so both fall back to the same epoch.
    DotNetBuild(copy.Root.Combine(sampleRelativePath).FullPath, new DotNetBuildSettings
    {
        Configuration = configuration,
        WorkingDirectory = copy.Root,
        MSBuildSettings = SampleLockSettings(),
    });
    copy.Built = true;
}

// The committed samples/Shop/kiln.lock.json records the Release images: CI builds them against it with
// KilnLockMode=Enforce, so an image that differs on this machine, in this directory or at this commit fails the
// build (KILN5002) instead of silently rewriting the lock. Other configurations are never locked.
DotNetMSBuildSettings SampleLockSettings() =>
    new DotNetMSBuildSettings().WithProperty("KilnLockMode", configuration == "Release" ? "Enforce" : "Off");

// The test projects of Tooling.sln: the projects under tests/ (by assembly name = project file name).
IEnumerable<string> TestProjects() =>
    System.IO.File.ReadLines(solution.FullPath)
        .Where(l => l.StartsWith("Project(", StringComparison.Ordinal))
        .Select(l => l.Split(',')[1].Trim().Trim('"').Replace('\\', '/'))
        .Where(p => p.StartsWith("tests/", StringComparison.Ordinal) && p.EndsWith(".csproj", StringComparison.Ordinal))
        .Select(p => System.IO.Path.GetFileNameWithoutExtension(p))
        // tests/ also holds tools that are not test projects (Kiln.Fuzz, a console program run by build/fuzz.sh).
        .Where(p => p.EndsWith(".Tests", StringComparison.Ordinal));

DirectoryPath KilnOutput(DirectoryPath root) => root.Combine(sampleRelativePath).Combine("bin").Combine(configuration).Combine("kiln");

List<ReleasedImage> ReadRelease(DirectoryPath kiln)
{
    var path = kiln.CombineWithFilePath("release.json").FullPath;
    if (!System.IO.File.Exists(path))
    {
        throw new CakeException($"{path} does not exist: the build produced no release");
    }

    // Cake cannot reference the engine's ReleaseDocument: read only the two fields used, and name a missing one
    // (with the file) instead of failing with a KeyNotFoundException.
    using var document = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
    string Field(JsonElement element, string name, string where) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new CakeException($"{path} is not a valid Kiln release.json: field '{where}{name}' is missing or not a string (KILN5020). Build again.");
    if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("images", out var images) || images.ValueKind != JsonValueKind.Array)
    {
        throw new CakeException($"{path} is not a valid Kiln release.json: field 'images' is missing or not an array (KILN5020). Build again.");
    }

    return images.EnumerateArray()
        .Select((i, n) => new ReleasedImage(Field(i, "reference", $"images[{n}]."), Field(i, "digest", $"images[{n}].")))
        .ToList();
}

// The per-platform image manifests of an image index (platform as os/arch, digest), or null for an image manifest.
List<(string Platform, string Digest)> PlatformManifests(DirectoryPath kiln, string digest)
{
    using var document = JsonDocument.Parse(System.IO.File.ReadAllBytes(BlobPath(kiln, digest)));
    if (!document.RootElement.TryGetProperty("manifests", out var manifests))
    {
        return null;
    }

    return manifests.EnumerateArray()
        .Select(m => ($"{m.GetProperty("platform").GetProperty("os").GetString()}/{m.GetProperty("platform").GetProperty("architecture").GetString()}", m.GetProperty("digest").GetString()))
        .ToList();
}

(int Layers, long Size) ManifestLayers(DirectoryPath kiln, string digest)
{
    using var manifest = JsonDocument.Parse(System.IO.File.ReadAllBytes(BlobPath(kiln, digest)));
    var layers = manifest.RootElement.GetProperty("layers").EnumerateArray().ToList();
    return (layers.Count, layers.Sum(l => l.GetProperty("size").GetInt64()));
}

// Where two builds of one image part ways: the config, or which layers and which files in them. What a reader of a
// failed Verify needs first, without unpacking anything by hand.
IEnumerable<string> ExplainImageDifference(string reference, DirectoryPath firstKiln, string firstDigest, DirectoryPath secondKiln, string secondDigest)
{
    var firstPlatforms = PlatformManifests(firstKiln, firstDigest);
    var secondPlatforms = PlatformManifests(secondKiln, secondDigest);
    if (firstPlatforms is not null || secondPlatforms is not null)
    {
        // Multi-platform images: where each platform's image parts ways.
        var first = (firstPlatforms ?? new List<(string Platform, string Digest)>()).ToDictionary(p => p.Platform, p => p.Digest);
        var second = (secondPlatforms ?? new List<(string Platform, string Digest)>()).ToDictionary(p => p.Platform, p => p.Digest);
        foreach (var platform in first.Keys.Union(second.Keys).OrderBy(p => p, StringComparer.Ordinal))
        {
            if (!first.TryGetValue(platform, out var a) || !second.TryGetValue(platform, out var b))
            {
                yield return $"  {reference} ({platform}): built only in the {(first.ContainsKey(platform) ? "first" : "second")} copy";
                continue;
            }

            if (a != b)
            {
                foreach (var line in ExplainImageDifference($"{reference} ({platform})", firstKiln, a, secondKiln, b))
                {
                    yield return line;
                }
            }
        }

        yield break;
    }

    using var firstManifest = JsonDocument.Parse(System.IO.File.ReadAllBytes(BlobPath(firstKiln, firstDigest)));
    using var secondManifest = JsonDocument.Parse(System.IO.File.ReadAllBytes(BlobPath(secondKiln, secondDigest)));
    var firstConfig = firstManifest.RootElement.GetProperty("config").GetProperty("digest").GetString();
    var secondConfig = secondManifest.RootElement.GetProperty("config").GetProperty("digest").GetString();
    if (firstConfig != secondConfig)
    {
        yield return $"  {reference}: config {firstConfig} vs {secondConfig}";
    }

    var firstLayers = firstManifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()).ToList();
    var secondLayers = secondManifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()).ToList();
    if (firstLayers.Count != secondLayers.Count)
    {
        yield return $"  {reference}: {firstLayers.Count} layer(s) vs {secondLayers.Count}";
        yield break;
    }

    for (var i = 0; i < firstLayers.Count; i++)
    {
        if (firstLayers[i] == secondLayers[i])
        {
            continue;
        }

        yield return $"  {reference}: layer {i + 1} {firstLayers[i]} vs {secondLayers[i]}";
        var firstEntries = LayerEntries(BlobPath(firstKiln, firstLayers[i]));
        var secondEntries = LayerEntries(BlobPath(secondKiln, secondLayers[i]));
        foreach (var path in firstEntries.Keys.Union(secondEntries.Keys).OrderBy(p => p, StringComparer.Ordinal))
        {
            firstEntries.TryGetValue(path, out var x);
            secondEntries.TryGetValue(path, out var y);
            if (x != y)
            {
                yield return $"    {path}: {x ?? "(missing)"} vs {y ?? "(missing)"}";
            }
        }
    }
}

// Entry path -> "type mode uid:gid mtime size sha256-prefix" of one gzip-compressed tar layer.
Dictionary<string, string> LayerEntries(string blob)
{
    var entries = new Dictionary<string, string>(StringComparer.Ordinal);
    using var file = System.IO.File.OpenRead(blob);
    using var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress);
    using var reader = new System.Formats.Tar.TarReader(gzip);
    while (reader.GetNextEntry() is { } entry)
    {
        var hash = entry.DataStream is null ? "-" : Convert.ToHexString(SHA256.HashData(entry.DataStream))[..12].ToLowerInvariant();
        entries[entry.Name] = $"{entry.EntryType} {Convert.ToString((int)entry.Mode, 8)} {entry.Uid}:{entry.Gid} {entry.ModificationTime.ToUnixTimeSeconds()} {entry.Length} {hash}";
    }

    return entries;
}

string BlobPath(DirectoryPath kiln, string digest) => kiln.Combine("oci/blobs").CombineWithFilePath(digest.Replace(':', '/')).FullPath;

// Blob file name (hex) -> sha256 of its content (hex).
Dictionary<string, string> HashBlobs(DirectoryPath directory)
{
    var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
    if (!System.IO.Directory.Exists(directory.FullPath))
    {
        return hashes;
    }

    foreach (var file in System.IO.Directory.EnumerateFiles(directory.FullPath))
    {
        using var stream = System.IO.File.OpenRead(file);
        hashes[System.IO.Path.GetFileName(file)] = Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    return hashes;
}

void CopyTree(string source, string destination)
{
    System.IO.Directory.CreateDirectory(destination);
    foreach (var file in System.IO.Directory.EnumerateFiles(source))
    {
        var copy = System.IO.Path.Combine(destination, System.IO.Path.GetFileName(file));
        System.IO.File.Copy(file, copy);
        // A fresh clone's files are as old as the clone: no copy keeps the repository's time stamps, so that a time
        // stamp leaking into an image makes the two copies differ.
        System.IO.File.SetLastWriteTimeUtc(copy, DateTime.UtcNow);
    }

    foreach (var directory in System.IO.Directory.EnumerateDirectories(source))
    {
        var name = System.IO.Path.GetFileName(directory);
        if (!excludedDirectoryNames.Contains(name))
        {
            CopyTree(directory, System.IO.Path.Combine(destination, name));
        }
    }
}

string SkipReason(XElement result, XNamespace ns) =>
    result.Descendants(ns + "Message").Select(m => m.Value.Trim()).FirstOrDefault(m => m.Length > 0)
    ?? result.Descendants(ns + "StdOut").Select(m => m.Value.Trim()).FirstOrDefault(m => m.Length > 0)
    ?? "no reason given";

string FormatSize(long bytes) => bytes switch
{
    >= 1 << 20 => $"{bytes / (double)(1 << 20):0.0} MiB",
    >= 1 << 10 => $"{bytes / (double)(1 << 10):0.0} KiB",
    _ => $"{bytes} B",
};

// <Version> of Directory.Build.props: the one version of every package this repository makes.
string RepositoryVersion()
{
    var props = XDocument.Load(repoRoot.CombineWithFilePath("Directory.Build.props").FullPath);
    return props.Descendants("Version").Select(v => v.Value.Trim()).FirstOrDefault(v => v.Length > 0)
        ?? throw new CakeException("Directory.Build.props has no <Version>: Pack needs one (or --package-version=...).");
}

DirectoryPath FindRepositoryRoot(DirectoryPath start)
{
    for (var directory = start.MakeAbsolute(Context.Environment); directory is not null; directory = directory.GetParent())
    {
        if (System.IO.File.Exists(directory.CombineWithFilePath("Tooling.sln").FullPath))
        {
            return directory;
        }
    }

    throw new CakeException($"no Tooling.sln in {start} or any directory above it");
}

record ReleasedImage(string Reference, string Digest);

class VerifyCopy
{
    public VerifyCopy(string name, DirectoryPath root)
    {
        Name = name;
        Root = root;
    }

    public string Name { get; }
    public DirectoryPath Root { get; }
    public bool Built { get; set; }
}
