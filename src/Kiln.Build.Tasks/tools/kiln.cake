// Kiln's Cake recipe: the Kiln steps of a build as Cake tasks, for a build.cake to depend on. Ships in the Kiln.Build
// package (tools/kiln.cake); docs/cake.md shows it in use.
//
//   #load "nuget:?package=Kiln.Build&version=0.1.0"
//
//   var kiln = KilnRecipe(new KilnSettings
//   {
//       Project = "src/Shop.Specs",
//       Configuration = Argument("configuration", "Release"),
//       Registry = EnvironmentVariable("REGISTRY"),          // host[:port]; Kiln-Push needs it
//       RepositoryPrefix = "shop",
//   });
//   Task("Ship").IsDependentOn(kiln.Push);                   // or "Kiln-Push"
//
// The tasks (each name starts with settings.TaskPrefix, "Kiln-" by default, so one build can hold several projects):
//
//   Kiln-Images    dotnet build the spec project: images, manifests, SBOMs, deployments under bin/<Configuration>/kiln/
//   Kiln-Push      push every image by digest, then tag it (the KilnPush target), recording where in release.json
//   Kiln-Verify    kiln fsck on the layout (every blob present and hashing to its digest); with VerificationKey also
//                  kiln verify-image on every image (signed provenance, agreement with kiln.lock.json)
//   Kiln-Plan      kiln plan PreviousRelease release.json: which components a rollout replaces, in which order
//   Kiln-Outdated  kiln outdated: locked Debian packages with a newer version; writes OutdatedReport (JSON); fails
//                  when any is outdated unless OutdatedMode is "report"
//
// kiln itself runs as KilnPath says: a kiln.dll (run with dotnet), a kiln executable, or, when empty, `dotnet kiln`
// from the repository's tool manifest (`dotnet new tool-manifest; dotnet tool install kiln`).

/// <summary>What the Kiln tasks build and where they push; every property has a default but <see cref="Project"/>.</summary>
public sealed class KilnSettings
{
    /// <summary>The spec project (its directory or .csproj), relative to the working directory.</summary>
    public string Project { get; set; } = ".";

    /// <summary>The configuration to build; the lock records the images of Release (KilnLockConfiguration).</summary>
    public string Configuration { get; set; } = "Release";

    /// <summary>KilnRegistry: where Kiln-Push pushes and what the deployments reference (host[:port]).</summary>
    public string Registry { get; set; }

    /// <summary>KilnRepositoryPrefix: images go to Registry/RepositoryPrefix/name.</summary>
    public string RepositoryPrefix { get; set; }

    /// <summary>KilnLockMode (Update, Enforce, Off); empty: Kiln's default (Enforce in CI for Release).</summary>
    public string LockMode { get; set; }

    /// <summary>KilnSigningKey: the PEM key that signs each image's provenance; empty builds unsigned.</summary>
    public string SigningKey { get; set; }

    /// <summary>The PEM public key Kiln-Verify checks every image's provenance against; empty checks integrity only.</summary>
    public string VerificationKey { get; set; }

    /// <summary>The release.json of what runs now; Kiln-Plan compares the new build with it. Empty: Kiln-Plan says so and skips.</summary>
    public string PreviousRelease { get; set; }

    /// <summary>"fail" (default) or "report": whether Kiln-Outdated fails the build when a package is outdated.</summary>
    public string OutdatedMode { get; set; } = "fail";

    /// <summary>Where Kiln-Outdated writes its JSON report.</summary>
    public string OutdatedReport { get; set; } = "artifacts/kiln-outdated.json";

    /// <summary>kiln.dll, a kiln executable, or empty for `dotnet kiln` (a local tool).</summary>
    public string KilnPath { get; set; }

    /// <summary>The first part of every task's name.</summary>
    public string TaskPrefix { get; set; } = "Kiln-";

    /// <summary>More MSBuild properties for the builds (KilnDebianMirror, KilnArchiveFormat…).</summary>
    public Dictionary<string, string> Properties { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
}

/// <summary>The tasks <c>KilnRecipe</c> registered, for IsDependentOn and for OnError hooks.</summary>
public sealed class KilnTasks
{
    public CakeTaskBuilder Images { get; set; }
    public CakeTaskBuilder Push { get; set; }
    public CakeTaskBuilder Verify { get; set; }
    public CakeTaskBuilder Plan { get; set; }
    public CakeTaskBuilder Outdated { get; set; }
}

/// <summary>Registers the Kiln tasks for one spec project.</summary>
KilnTasks KilnRecipe(KilnSettings settings)
{
    if (settings is null || string.IsNullOrWhiteSpace(settings.Project))
    {
        throw new CakeException("KILN4050: KilnRecipe needs KilnSettings.Project, the spec project (directory or .csproj) to build.");
    }

    var project = MakeAbsolute(new FilePath(settings.Project));
    var projectDirectory = System.IO.Directory.Exists(project.FullPath) ? new DirectoryPath(project.FullPath) : project.GetDirectory();
    var kilnOutput = projectDirectory.Combine("bin").Combine(settings.Configuration).Combine("kiln");
    var prefix = settings.TaskPrefix ?? "";
    var tasks = new KilnTasks();

    tasks.Images = Task(prefix + "Images")
        .Description($"Builds the images of {settings.Project} ({settings.Configuration}).")
        .Does(() =>
        {
            RequireKilnProject(settings, project);
            DotNetBuild(project.FullPath, new DotNetBuildSettings
            {
                Configuration = settings.Configuration,
                MSBuildSettings = KilnMSBuildSettings(settings),
            });
            Information("Kiln: images of {0} in {1}", settings.Project, kilnOutput);
        });

    tasks.Push = Task(prefix + "Push")
        .Description($"Pushes the images of {settings.Project} to the registry, by digest, then tags them.")
        .Does(() =>
        {
            RequireKilnProject(settings, project);
            if (string.IsNullOrWhiteSpace(settings.Registry))
            {
                throw new CakeException($"KILN4051: {prefix}Push needs KilnSettings.Registry (host[:port]) to push {settings.Project} to.");
            }

            DotNetBuild(project.FullPath, new DotNetBuildSettings
            {
                Configuration = settings.Configuration,
                MSBuildSettings = KilnMSBuildSettings(settings).WithTarget("KilnPush"),
            });
        });

    tasks.Verify = Task(prefix + "Verify")
        .Description($"Checks the layout of {settings.Project} (kiln fsck) and, with a verification key, every image's signed provenance.")
        .Does(() =>
        {
            var layout = kilnOutput.Combine("oci");
            RequireKilnOutput(settings, kilnOutput);
            RunKiln(settings, "Verify", new ProcessArgumentBuilder().Append("fsck").AppendQuoted(layout.FullPath));
            if (string.IsNullOrWhiteSpace(settings.VerificationKey))
            {
                Information("Kiln: no VerificationKey, so the provenance signatures were not checked.");
                return;
            }

            var lockFile = projectDirectory.CombineWithFilePath("kiln.lock.json");
            foreach (var reference in KilnReleasedImages(kilnOutput.CombineWithFilePath("release.json")))
            {
                var arguments = new ProcessArgumentBuilder().Append("verify-image").AppendQuoted(layout.FullPath)
                    .Append("--image").AppendQuoted(reference)
                    .Append("--key").AppendQuoted(MakeAbsolute(new FilePath(settings.VerificationKey)).FullPath);
                if (FileExists(lockFile))
                {
                    arguments.Append("--lock").AppendQuoted(lockFile.FullPath);
                }

                RunKiln(settings, "Verify", arguments);
            }
        });

    tasks.Plan = Task(prefix + "Plan")
        .Description($"Shows which components of {settings.Project} a rollout from PreviousRelease replaces.")
        .Does(() =>
        {
            if (string.IsNullOrWhiteSpace(settings.PreviousRelease))
            {
                Information("Kiln: no PreviousRelease (the release.json of what runs now), so there is nothing to plan against.");
                return;
            }

            RequireKilnOutput(settings, kilnOutput);
            RunKiln(settings, "Plan", new ProcessArgumentBuilder().Append("plan")
                .AppendQuoted(MakeAbsolute(new FilePath(settings.PreviousRelease)).FullPath)
                .AppendQuoted(kilnOutput.CombineWithFilePath("release.json").FullPath));
        });

    tasks.Outdated = Task(prefix + "Outdated")
        .Description($"Lists the locked Debian packages of {settings.Project} with a newer version (security fixes flagged).")
        .Does(() =>
        {
            if (settings.OutdatedMode != "fail" && settings.OutdatedMode != "report")
            {
                throw new CakeException($"KILN4052: KilnSettings.OutdatedMode is '{settings.OutdatedMode}'; use fail or report.");
            }

            var table = RunKiln(settings, "Outdated", new ProcessArgumentBuilder().Append("outdated").AppendQuoted(projectDirectory.FullPath), allowed: 8);
            var report = MakeAbsolute(new FilePath(settings.OutdatedReport));
            EnsureDirectoryExists(report.GetDirectory());
            IEnumerable<string> json;
            var (program, prefixArguments) = KilnCommand(settings);
            var arguments = new ProcessArgumentBuilder();
            foreach (var argument in prefixArguments)
            {
                arguments.AppendQuoted(argument);
            }

            var exit = StartProcess(program, new ProcessSettings
            {
                Arguments = arguments.Append("outdated").AppendQuoted(projectDirectory.FullPath).Append("--json"),
                RedirectStandardOutput = true,
            }, out json);
            System.IO.File.WriteAllLines(report.FullPath, json);
            if (exit != 0 && exit != 8)
            {
                throw new CakeException($"KILN4053: kiln outdated could not check {settings.Project} (exit code {exit}); its message is above.");
            }

            if (table == 8 && settings.OutdatedMode == "fail")
            {
                throw new CakeException($"{settings.Project} has outdated packages (see {report}); take them with kiln lock --update --security-only and kiln bump (docs/patching.md).");
            }

            Information(table == 8 ? "Kiln: outdated packages listed in {0}" : "Kiln: nothing outdated ({0})", report);
        });

    return tasks;
}

DotNetMSBuildSettings KilnMSBuildSettings(KilnSettings settings)
{
    var msbuild = new DotNetMSBuildSettings();
    void Set(string name, string value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            msbuild.WithProperty(name, value);
        }
    }

    Set("KilnRegistry", settings.Registry);
    Set("KilnRepositoryPrefix", settings.RepositoryPrefix);
    Set("KilnLockMode", settings.LockMode);
    Set("KilnSigningKey", string.IsNullOrWhiteSpace(settings.SigningKey) ? null : MakeAbsolute(new FilePath(settings.SigningKey)).FullPath);
    foreach (var property in settings.Properties)
    {
        Set(property.Key, property.Value);
    }

    return msbuild;
}

void RequireKilnProject(KilnSettings settings, FilePath project)
{
    if (!FileExists(project) && !DirectoryExists(project.FullPath))
    {
        throw new CakeException($"KILN4050: KilnSettings.Project is '{settings.Project}', which does not exist ({project}). Name the spec project's directory or .csproj.");
    }
}

void RequireKilnOutput(KilnSettings settings, DirectoryPath kilnOutput)
{
    if (!FileExists(kilnOutput.CombineWithFilePath("release.json")))
    {
        throw new CakeException($"KILN4054: {kilnOutput} holds no release.json: build {settings.Project} first ({settings.TaskPrefix}Images, Configuration {settings.Configuration}).");
    }
}

// The images of a build, by reference (name:version), from release.json.
IEnumerable<string> KilnReleasedImages(FilePath release)
{
    using var document = System.Text.Json.JsonDocument.Parse(System.IO.File.ReadAllBytes(release.FullPath));
    return document.RootElement.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("reference").GetString()).ToList();
}

(string Program, string[] Arguments) KilnCommand(KilnSettings settings)
{
    if (string.IsNullOrWhiteSpace(settings.KilnPath))
    {
        return ("dotnet", new[] { "kiln" });
    }

    var path = MakeAbsolute(new FilePath(settings.KilnPath)).FullPath;
    return path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? ("dotnet", new[] { path }) : (path, Array.Empty<string>());
}

// Runs kiln; an exit code other than 0 (and `allowed`) fails the task with kiln's own message already printed.
int RunKiln(KilnSettings settings, string step, ProcessArgumentBuilder arguments, int allowed = 0)
{
    var (program, prefixArguments) = KilnCommand(settings);
    var all = new ProcessArgumentBuilder();
    foreach (var argument in prefixArguments)
    {
        all.AppendQuoted(argument);
    }

    foreach (var argument in arguments)
    {
        all.Append(argument);
    }

    var exit = StartProcess(program, new ProcessSettings { Arguments = all });
    if (exit != 0 && exit != allowed)
    {
        throw new CakeException($"{settings.TaskPrefix}{step}: kiln {arguments.RenderSafe()} failed with exit code {exit} (its message is above).");
    }

    return exit;
}
