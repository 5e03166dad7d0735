using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using Kiln.Engine;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.IO;
using Kiln.Engine.Requests;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln engine evaluate|build</c>: the process Kiln's MSBuild tasks start, so that the user's spec assembly is
/// loaded outside the MSBuild node (no cached types between builds, no locked files), and the same engine call the
/// public verbs make. Not meant to be typed by people; hidden from help.
/// </summary>
internal static class EngineCommand
{
    private static readonly Option<string> Assembly = new("--assembly") { Required = true, Description = "The compiled spec assembly." };
    private static readonly Option<string> ProjectDirectory = new("--project-dir") { Required = true, Description = "The spec project's directory." };
    private static readonly Option<string> Output = new("--output") { Required = true, Description = "The artifact directory (bin/<Configuration>/kiln/)." };
    private static readonly Option<string> Intermediate = new("--intermediate") { Required = true, Description = "The engine's state directory (obj/<Configuration>/kiln/)." };
    private static readonly Option<string> Epoch = new("--source-date-epoch") { DefaultValueFactory = _ => "0", Description = "Seconds since the Unix epoch used for every timestamp." };
    private static readonly Option<string> Configuration = new("--configuration") { DefaultValueFactory = _ => "Debug" };
    private static readonly Option<string?> PathMap = new("--path-map");
    private static readonly Option<string[]> Published = new("--published") { AllowMultipleArgumentsPerToken = false, Description = "KEY=DIRECTORY of a publish output." };
    private static readonly Option<string?> KilnVersion = new("--kiln-version");
    private static readonly Option<string?> SdkVersion = new("--sdk-version");
    private static readonly Option<string?> SourceRevision = new("--source-revision");
    private static readonly Option<string?> CiRun = new("--ci-run");
    // Package bases (Debian): mirror, keyring, shared cache, explicit lock update.
    private static readonly Option<string?> DebianMirror = new("--debian-mirror") { Description = "The Debian mirror; default: the one the machine's apt sources name." };
    private static readonly Option<string?> DebianSecurityMirror = new("--debian-security-mirror") { Description = "The Debian security archive; default: the apt source serving <suite>-security, else the mirror's debian-security sibling." };
    private static readonly Option<string?> DebianKeyring = new("--debian-keyring") { Description = "The keyring InRelease must verify against." };
    private static readonly Option<string?> CacheDirectory = new("--cache-dir") { Description = "The shared download cache (KILN_CACHE)." };
    internal static readonly Option<string?> AptSourcesOption = new("--apt-sources") { Description = "';'-separated apt source files the default Debian mirror is taken from (KilnAptSources); 'none' ignores the machine's. Default: the machine's." };
    private static readonly Option<bool> UpdateLock = new("--update-lock") { Description = "Re-resolve pinned package sets." };

    // Version lock and provenance.
    private static readonly Option<string?> LockModeOption = new("--lock-mode") { Description = "Update (default) or Enforce: how a changed digest under a locked version is treated." };
    private static readonly Option<string?> SourceTreeDirty = new("--source-tree-dirty") { Description = "true/false; when absent the engine process asks git." };
    private static readonly Option<string?> VerificationKey = new("--verification-key") { Description = "PEM public key deployments' images must be signed with: also writes an admission policy (KilnVerificationKey)." };
    private static readonly Option<string?> BaseVerificationKey = new("--base-verification-key") { Description = "PEM public key every registry base must carry Kiln provenance signed with (KilnBaseVerificationKey)." };
    private static readonly Option<string?> SigningKey = new("--signing-key") { Description = "PEM file of the ECDSA P-256 key that signs the provenance (KilnSigningKey / KILN_SIGNING_KEY)." };

    // Registries: bases pulled during build, and the push verb.
    private static readonly Option<string[]> InsecureRegistry = new("--insecure-registry") { Description = "A registry that may be reached over plain HTTP (loopback always may)." };
    private static readonly Option<string> PushRegistry = new("--registry") { Required = true, Description = "The registry to push to, host[:port]." };
    private static readonly Option<string?> ArchiveFormatOption = new("--archive-format") { Description = "Also write every image as oci-archive or docker-archive under archives/." };
    private static readonly Option<string?> LayerCompressionOption = new("--layer-compression") { Description = "gzip (default) or zstd: how Kiln's layers are compressed (KilnLayerCompression)." };
    private static readonly Option<string?> PushRepositoryPrefix = new("--repository-prefix") { Description = "Images go to REGISTRY/PREFIX/NAME." };
    private static readonly Option<bool> AllowTagOverwrite = new("--allow-tag-overwrite") { Description = "Move a version tag that names another digest (a deliberate repair)." };
    private static readonly Option<string[]> ExtraTag = new("--tag") { Description = "A moving tag pushed after each version tag." };

    // Deployments: where rendered YAML pulls images from (KilnRegistry, KilnRepositoryPrefix).
    private static readonly Option<string?> DeployRegistry = new("--deploy-registry") { Description = "The registry deploy/*.yaml pull images from, host[:port]." };
    private static readonly Option<string?> DeployRepositoryPrefix = new("--deploy-repository-prefix") { Description = "The repository path under the registry." };

    // Input integrity and bounded evaluation: KilnInputRoots, KilnEvaluationTimeout.
    private static readonly Option<string[]> InputRoot = new("--input-root") { AllowMultipleArgumentsPerToken = false, Description = "A directory besides the project's that layer sources may come from (relative to the project directory)." };
    // KilnPlatforms: one --platform per platform to build (os/arch); none builds every platform the specs declare.
    private static readonly Option<string[]> PlatformOption = new("--platform") { AllowMultipleArgumentsPerToken = false, Description = "A platform to build (os/arch, for example linux/arm64); repeat for several. Default: every platform the specs declare." };

    private static readonly Option<string?> EvaluationTimeout = new("--evaluation-timeout") { Description = "Seconds spec evaluation may take (default 60)." };

    // Builds and pushes of one output directory take turns (an inter-process lock), waiting at most this long.
    private static readonly Option<string?> BuildLockTimeout = new("--build-lock-timeout") { Description = $"Seconds to wait for another build of the same output directory (default {KilnDefaults.BuildLockTimeoutSeconds})." };

    private static readonly Option<bool> WaitForPublish = new("--wait-for-publish")
    {
        Description = "Started while MSBuild still publishes: evaluate, check the settings and resolve the bases, then wait for a line on standard input before reading the published output. 'go' builds; anything else, or the end of the input, stops without writing.",
    };

    private static readonly Option<string[]> Publishing = new("--publishing")
    {
        AllowMultipleArgumentsPerToken = false,
        Description = "With --wait-for-publish: the KEY of a publish that runs meanwhile; repeat for several. The other publish outputs are read before the wait. Not given: every publish output is awaited.",
    };

    private static readonly Option<string> PublishList = new("--publish-list") { Required = true, Description = "Where to write the list of projects to publish." };

    public static Command Create()
    {
        var evaluate = new Command("evaluate", "Evaluate the specs and write the list of projects to publish.");
        var build = new Command("build", "Build the images of a compiled spec assembly.");
        foreach (var command in new[] { evaluate, build })
        {
            foreach (var option in new Option[] { Assembly, ProjectDirectory, Output, Intermediate, Epoch, Configuration, PathMap, Published, KilnVersion, SdkVersion, SourceRevision, CiRun, DebianMirror, DebianSecurityMirror, DebianKeyring, CacheDirectory, UpdateLock, LockModeOption, SourceTreeDirty })
            {
                command.Options.Add(option);
            }
        }

        build.Options.Add(SigningKey);
        build.Options.Add(VerificationKey);
        build.Options.Add(BaseVerificationKey);

        // The push verb takes the common switches the task always sends, and its own.
        var push = new Command("push", "Push every image of a build to a registry.");
        foreach (var option in new Option[] { Assembly, ProjectDirectory, Output, Intermediate, Epoch, Configuration, PathMap, Published, KilnVersion, SdkVersion, SourceRevision, CiRun, DebianMirror, DebianSecurityMirror, DebianKeyring, CacheDirectory, UpdateLock, LockModeOption, SourceTreeDirty, InsecureRegistry, PushRegistry, PushRepositoryPrefix, InputRoot, EvaluationTimeout })
        {
            push.Options.Add(option);
        }

        push.Options.Add(BuildLockTimeout);
        push.Options.Add(AllowTagOverwrite);
        push.Options.Add(ExtraTag);
        foreach (var command in new[] { evaluate, build, push })
        {
            command.Options.Add(AptSourcesOption);
        }

        push.SetAction(result => Edge.Run(() => WithOutputLocked(StartJitProfile(result, "push"), lockOutput =>
        {
            lockOutput();
            return Push(result);
        })));
        evaluate.Options.Add(InsecureRegistry);
        build.Options.Add(InsecureRegistry);
        build.Options.Add(ArchiveFormatOption);
        build.Options.Add(LayerCompressionOption);
        build.Options.Add(BuildLockTimeout);
        build.Options.Add(WaitForPublish);
        build.Options.Add(Publishing);
        foreach (var command in new[] { evaluate, build })
        {
            command.Options.Add(DeployRegistry);
            command.Options.Add(DeployRepositoryPrefix);
            command.Options.Add(InputRoot);
            command.Options.Add(PlatformOption);
            command.Options.Add(EvaluationTimeout);
        }
        evaluate.Options.Add(PublishList);
        evaluate.SetAction(result => Edge.Run(() => Evaluate(ToRequest(StartJitProfile(result, "evaluate")), result.GetValue(PublishList)!)));
        build.SetAction(result => Edge.Run(() =>
        {
            var request = ToRequest(StartJitProfile(result, "build")); // bad arguments fail at once, without waiting for the lock
            return WithOutputLocked(result, lockOutput => Build(request, lockOutput, result.GetValue(WaitForPublish)) is var code && code == Edge.Ok ? WriteArchives(result) : code);
        }));
        return new Command("engine", "Run the engine for Kiln's MSBuild tasks.") { Hidden = true, Subcommands = { evaluate, build, push } };
    }

    /// <summary>
    /// The engine is started for every image build and spends most of its time compiling its own code (JIT), always
    /// the same methods. The runtime's multicore JIT records which ones, per verb, in the project's intermediate
    /// directory, and the next start compiles them ahead on another core, while this thread parses, evaluates the spec
    /// or waits for the publish. The profile only ever changes how fast the engine starts, never what it writes. The
    /// engine server, whose code was compiled for an earlier build, records none.
    /// </summary>
    private static ParseResult StartJitProfile(ParseResult result, string verb)
    {
        if (!EngineServer.IsServing && result.GetValue(Intermediate) is { Length: > 0 } intermediate && Directory.Exists(intermediate))
        {
            System.Runtime.ProfileOptimization.SetProfileRoot(Path.GetFullPath(intermediate));
            System.Runtime.ProfileOptimization.StartProfile($"engine-{verb}.jitprofile");
        }

        return result;
    }

    private static BuildRequest ToRequest(ParseResult result)
    {
        var epochText = result.GetValue(Epoch)!;
        if (!long.TryParse(epochText, NumberStyles.None, CultureInfo.InvariantCulture, out var epoch) || epoch > 253402300799)
        {
            throw new KilnException(DiagnosticCodes.InvalidSourceDateEpoch, $"KilnSourceDateEpoch (or SOURCE_DATE_EPOCH) is '{epochText}', which is not a number of seconds since 1970-01-01. Set it to an integer such as the last commit's time (git log -1 --format=%ct), or leave it empty for 0.");
        }

        var published = ImmutableArray.CreateBuilder<PublishedProject>();
        foreach (var pair in result.GetValue(Published) ?? [])
        {
            published.Add(PublishedProject.Parse(pair));
        }

        var cacheDirectory = Path.GetFullPath(result.GetValue(CacheDirectory) is { Length: > 0 } cache ? cache : DefaultCacheDirectory());
        return new BuildRequest
        {
            Evaluation = new EvaluationOptions
            {
                Assembly = Path.GetFullPath(result.GetValue(Assembly)!),
                PathMap = result.GetValue(PathMap),
                TimeoutSeconds = ParseEvaluationTimeout(result.GetValue(EvaluationTimeout)),
            },
            Project = new ProjectOptions
            {
                ProjectDirectory = Path.GetFullPath(result.GetValue(ProjectDirectory)!),
                IntermediateDirectory = Path.GetFullPath(result.GetValue(Intermediate)!),
                Configuration = result.GetValue(Configuration)!,
                SourceDateEpoch = epoch,
                LayerCompression = ParseLayerCompression(result.GetResult(LayerCompressionOption) is null ? null : result.GetValue(LayerCompressionOption)),
                InputRoots = [.. (result.GetValue(InputRoot) ?? []).SelectMany(r => r.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
                PublishedProjects = published.ToImmutable(),
                Platforms = ParsePlatforms(result.GetValue(PlatformOption) ?? []),
            },
            OutputDirectory = Path.GetFullPath(result.GetValue(Output)!),
            Publishing = result.GetResult(Publishing) is null ? default : [.. result.GetValue(Publishing) ?? []],
            Lock = new LockOptions
            {
                Mode = result.GetValue(LockModeOption) is { Length: > 0 } lockMode ? lockMode : "Update",
                Update = result.GetValue(UpdateLock),
            },
            Packages = new PackageOptions
            {
                CacheDirectory = cacheDirectory,
                Mirror = result.GetValue(DebianMirror) is { Length: > 0 } mirror ? mirror : null,
                SecurityMirror = result.GetValue(DebianSecurityMirror) is { Length: > 0 } securityMirror ? securityMirror : null,
                AptSources = AptSourceFiles(result.GetValue(AptSourcesOption)),
                Keyring = KilnDefaults.ResolveDebianKeyring(result.GetValue(DebianKeyring), File.Exists),
                Time = TimeProvider.System,
            },
            Registry = new RegistryOptions
            {
                Access = RegistryEdge.Settings(result.GetValue(InsecureRegistry)),
                CacheDirectory = cacheDirectory,
                BaseVerificationKey = result.GetResult(BaseVerificationKey) is not null && result.GetValue(BaseVerificationKey) is { Length: > 0 } baseKey
                    ? Path.GetFullPath(baseKey, Path.GetFullPath(result.GetValue(ProjectDirectory)!))
                    : null,
            },
            Deployment = new DeploymentOptions
            {
                Registry = result.GetValue(DeployRegistry) is { Length: > 0 } registry ? registry : null,
                RepositoryPrefix = result.GetValue(DeployRepositoryPrefix) is { Length: > 0 } prefix ? prefix : null,
                VerificationKey = result.GetResult(VerificationKey) is not null && result.GetValue(VerificationKey) is { Length: > 0 } verificationKey ? verificationKey : null,
            },
            Attestation = new AttestationOptions
            {
                SigningKey = result.GetResult(SigningKey) is not null && result.GetValue(SigningKey) is { Length: > 0 } signingKey ? signingKey : null,
                Provenance = new BuildProvenance
                {
                    KilnVersion = result.GetValue(KilnVersion) ?? typeof(KilnEngine).Assembly.GetName().Version?.ToString(3),
                    SdkVersion = result.GetValue(SdkVersion),
                    SourceRevision = result.GetValue(SourceRevision) is { Length: > 0 } revision ? revision : SourceState.Of(result.GetValue(ProjectDirectory)!).Revision,
                    SourceTreeDirty = bool.TryParse(result.GetValue(SourceTreeDirty), out var dirty) ? dirty : SourceState.Of(result.GetValue(ProjectDirectory)!).IsDirty,
                    ContinuousIntegrationRun = result.GetValue(CiRun),
                },
            },
        };
    }

    /// <summary>KilnPlatforms, one platform per switch (a switch holding ';' or ',' is split too); each must read as os/arch.</summary>
    private static ImmutableArray<Kiln.Spec.Platform> ParsePlatforms(IEnumerable<string> values)
    {
        var platforms = ImmutableArray.CreateBuilder<Kiln.Spec.Platform>();
        foreach (var text in values.SelectMany(v => v.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!Kiln.Spec.Platform.TryParse(text, out var platform))
            {
                throw new KilnException(DiagnosticCodes.InvalidPlatformsProperty, $"KilnPlatforms names '{text}', which is not a platform. Write platforms as os/architecture, for example -p:KilnPlatforms=linux/arm64 (several separated by ',' or %3B).");
            }

            if (!platforms.Contains(platform))
            {
                platforms.Add(platform);
            }
        }

        return platforms.ToImmutable();
    }

    /// <summary>KilnLayerCompression: gzip or zstd; empty means gzip.</summary>
    private static Kiln.Oci.LayerCompression ParseLayerCompression(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Kiln.Oci.LayerCompression.Gzip;
        }

        return Kiln.Oci.LayerCompressions.TryParse(text, out var compression)
            ? compression
            : throw new KilnException(DiagnosticCodes.InvalidLayerCompression, $"KilnLayerCompression is '{text}', which is not a layer compression Kiln writes. Set it to gzip (the default) or zstd, or leave it empty.");
    }

    /// <summary>KilnEvaluationTimeout: whole seconds; empty means the default.</summary>
    private static int ParseEvaluationTimeout(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return KilnDefaults.EvaluationTimeoutSeconds;
        }

        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
        {
            throw new KilnException(DiagnosticCodes.InvalidEvaluationTimeout, $"KilnEvaluationTimeout is '{text}', which is not a positive whole number of seconds. Set it to, for example, 120, or leave it empty for the default ({KilnDefaults.EvaluationTimeoutSeconds}).");
        }

        return seconds;
    }

    /// <summary>
    /// Runs <paramref name="action"/>, which takes the output directory's inter-process lock by calling the callback it is
    /// given (once its input is checked, so that refused input never creates the directory); the lock is held until
    /// <paramref name="action"/> returns. Concurrent builds (and pushes, which rewrite release.json) of one directory
    /// thus take turns instead of failing on each other's files.
    /// </summary>
    private static int WithOutputLocked(ParseResult result, Func<Action, int> action)
    {
        var text = result.GetValue(BuildLockTimeout);
        var seconds = KilnDefaults.BuildLockTimeoutSeconds;
        if (!string.IsNullOrWhiteSpace(text) && (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out seconds) || seconds > 86_400))
        {
            throw new KilnException(DiagnosticCodes.InvalidBuildLockTimeout, $"KilnBuildLockTimeout is '{text}', which is not a number of seconds from 0 to 86400. Set it to how long a build may wait for another build of the same KilnOutputPath, or leave it empty for {KilnDefaults.BuildLockTimeoutSeconds}.");
        }

        var output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(result.GetValue(Output)!));
        OutputDirectoryLock? held = null;
        try
        {
            return action(() => held ??= OutputDirectoryLock.Acquire(output, TimeSpan.FromSeconds(seconds), Environment.ProcessId, TimeProvider.System, line => Console.Out.WriteLine($"kiln: {line}")));
        }
        finally
        {
            held?.Dispose();
        }
    }

    /// <summary>
    /// The apt sources the engine reads only when no mirror is given: <paramref name="configured"/> (KilnAptSources,
    /// <c>;</c>-separated files, or <c>none</c>), else the machine's (the edge finds the files).
    /// </summary>
    internal static ImmutableArray<string> AptSourceFiles(string? configured = null)
    {
        if (configured is { Length: > 0 })
        {
            return string.Equals(configured.Trim(), KilnDefaults.NoAptSources, StringComparison.OrdinalIgnoreCase)
                ? []
                : [.. configured.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Path.GetFullPath)];
        }

        var files = new List<string> { "/etc/apt/sources.list" };
        if (Directory.Exists("/etc/apt/sources.list.d"))
        {
            files.AddRange(Directory.EnumerateFiles("/etc/apt/sources.list.d").Where(f => f.EndsWith(".sources", StringComparison.Ordinal) || f.EndsWith(".list", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        }

        return [.. files.Where(File.Exists)];
    }

    /// <summary>KILN_CACHE, else ~/.cache/kiln: shared by every project of the user.</summary>
    internal static string DefaultCacheDirectory() =>
        KilnDefaults.CacheDirectory(Environment.GetEnvironmentVariable("KILN_CACHE"), Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    private static int Evaluate(BuildRequest request, string publishList)
    {
        var result = KilnEngine.Evaluate(request.Evaluation, request.Project);
        foreach (var warning in result.Warnings)
        {
            Edge.Print(warning);
        }

        WriteAtomically(Path.GetFullPath(publishList), new PublishList(result.PublishRequirements).ToText());
        Console.Out.WriteLine($"kiln: {result.Servers.Length} server spec(s), {result.PublishRequirements.Length} project(s) to publish");
        return Edge.Ok;
    }

    /// <summary>
    /// The inputs as one MSBuild item list (<c>a;b/**</c>), which Kiln.Build.targets expands before the next build's
    /// up-to-date check; trees stay wildcards so that an added file makes the build run. Not an imported file: an
    /// import would count as a project file and make every compile target out of date.
    /// </summary>
    private static void WriteInputs(BuildRequest request, IEnumerable<string> inputs)
    {
        var items = inputs.Select(input => input.EndsWith("**", StringComparison.Ordinal) ? MSBuildText.Escape(input[..^2]) + "**" : MSBuildText.Escape(input));
        WriteAtomically(Path.Combine(request.Project.IntermediateDirectory, "inputs.txt"), string.Join(';', items));
    }

    /// <summary>State files MSBuild reads (publish.txt, inputs.txt): another build's targets may read them at any time, so never half-written.</summary>
    private static void WriteAtomically(string path, string text) => Kiln.Oci.IO.AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>KilnArchiveFormat: every image of the build as an archive beside the layout (archives/NAME-VERSION.FORMAT.tar).</summary>
    private static int WriteArchives(ParseResult result)
    {
        var format = result.GetValue(ArchiveFormatOption);
        var output = Path.GetFullPath(result.GetValue(Output)!);
        var directory = Path.Combine(output, "archives");
        if (string.IsNullOrEmpty(format))
        {
            return Edge.Ok;
        }

        var kind = format switch
        {
            "oci-archive" => Kiln.Engine.Registry.ArchiveFormat.OciArchive,
            "docker-archive" => Kiln.Engine.Registry.ArchiveFormat.DockerArchive,
            _ => throw new KilnException(DiagnosticCodes.ExportFailed, $"KilnArchiveFormat '{format}' is not oci-archive or docker-archive."),
        };
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true); // archives of images this build no longer produces must not linger
        }

        var layout = Path.Combine(output, KilnEngine.LayoutDirectory);
        foreach (var name in Kiln.Oci.OciLayout.Open(layout).ReadIndex().Manifests.Select(m => m.RefName).OfType<string>())
        {
            // A docker-archive holds one image: a multi-platform image gets one archive per platform, named for it.
            var platforms = kind == Kiln.Engine.Registry.ArchiveFormat.DockerArchive ? KilnEngine.ExportPlatforms(layout, name) : [];
            foreach (var platform in platforms.Count == 0 ? [null] : platforms.Select(p => (Kiln.Oci.Platform?)p))
            {
                var suffix = platform is null ? "" : $".{platform.Os}-{platform.Architecture}{(platform.Variant is null ? "" : "-" + platform.Variant)}";
                var file = Path.Combine(directory, $"{name.Replace(':', '-')}{suffix}.{format}.tar");
                KilnEngine.Export(layout, name, kind, file, platform);
                Console.Out.WriteLine($"kiln: wrote {file}");
            }
        }

        return Edge.Ok;
    }

    /// <summary>One line per blob (MSBuild shows them at normal verbosity), then one per pushed image.</summary>
    private static int Push(ParseResult result)
    {
        var push = KilnEngine.Push(new PushRequest
        {
            OutputDirectory = Path.GetFullPath(result.GetValue(Output)!),
            Registry = result.GetValue(PushRegistry)!,
            RepositoryPrefix = result.GetValue(PushRepositoryPrefix) is { Length: > 0 } prefix ? prefix : null,
            Settings = RegistryEdge.Settings(result.GetValue(InsecureRegistry)),
            AllowTagOverwrite = result.GetValue(AllowTagOverwrite),
            ExtraTags = [.. result.GetValue(ExtraTag) ?? []],
        }, Kiln.Engine.Registry.TransferLog.Lines(line => Console.Out.WriteLine($"kiln: {line}")));
        foreach (var warning in push.Warnings)
        {
            Edge.Print(warning);
        }

        foreach (var image in push.Images)
        {
            Console.Out.WriteLine($"kiln: pushed {image.Reference}");
        }

        Console.Out.WriteLine($"kiln: {push.Images.Length} image(s) pushed; {push.BlobsUploaded} blob(s) uploaded ({push.BytesUploaded} bytes), {push.BlobsSkipped} already present, {push.BlobsMounted} mounted");
        return Edge.Ok;
    }

    /// <summary>
    /// The go-ahead of the MSBuild task that started this build before its publish: one line on standard input, 'go'
    /// once the publish has finished; the end of the input (the task called it off, or MSBuild is gone) stops it.
    /// </summary>
    private static bool PublishedOutputsReady()
    {
        Console.Out.WriteLine("kiln: bases resolved; waiting for the published output");
        Console.Out.Flush();
        // The wait is idle time: a full collection now leaves the part after the publish, which the developer waits
        // for and which allocates a few MB (large buffers among them), without one (it had a gen2 collection there).
        GC.Collect();
        return string.Equals(Console.In.ReadLine()?.Trim(), "go", StringComparison.Ordinal);
    }

    private static int Build(BuildRequest request, Action lockOutput, bool waitForPublish)
    {
        BuildResult result;
        try
        {
            result = KilnEngine.Build(request, line => Console.Out.WriteLine($"kiln: {line}"), lockOutput, waitForPublish ? PublishedOutputsReady : null);
        }
        catch (OperationCanceledException) when (waitForPublish)
        {
            // MSBuild found the images up to date after its publish (or the build stopped): nothing was written.
            Console.Out.WriteLine("kiln: image build called off before reading the published output; nothing written");
            return Edge.Ok;
        }

        foreach (var warning in result.Warnings)
        {
            Edge.Print(warning);
        }

        foreach (var image in result.Images)
        {
            Console.Out.WriteLine($"kiln: {image.Name}:{image.Version} -> {image.Digest} ({image.LayersWritten} of {image.Layers} layers written)");
        }

        Console.Out.WriteLine($"kiln: {result.Images.Length} image(s) in {Path.GetDirectoryName(result.ReleasePath)}");
        WriteInputs(request, result.Inputs);
        return Edge.Ok;
    }
}
