using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Kiln.Engine.Diagnostics;
using Kiln.Spec;

namespace Kiln.Engine.Evaluation;

/// <summary>The specs of one assembly, resolved and validated.</summary>
public sealed record Evaluation(ImmutableArray<ResolvedServer> Servers, ImmutableArray<KilnDiagnostic> Warnings)
{
    /// <summary>The deployment specs, resolved and validated against the servers (see <see cref="DeploymentEvaluator"/>).</summary>
    public ImmutableArray<ResolvedDeployment> Deployments { get; init; } = [];
}

/// <summary>
/// Loads a compiled spec assembly in a collectible context, instantiates every <see cref="ServerSpec"/> and
/// <see cref="DeploymentSpec"/> (the mechanics in <see cref="SpecReader{TSpec}"/>), reads each property once and
/// validates the values. Spec code that throws becomes a coded error naming the type and line.
/// </summary>
public static class SpecEvaluator
{
    /// <summary>Evaluates every spec in <paramref name="assemblyPath"/>.</summary>
    /// <param name="timeout">
    /// How long spec code may run in total. When it runs out, evaluation is abandoned on its background thread (spec
    /// code cannot be interrupted safely) and a coded error names the member that was running; the caller is expected
    /// to end the process, which is what the engine process does by returning from its entry point.
    /// </param>
    /// <exception cref="KilnException">The assembly cannot be loaded, a spec throws, a value is invalid, or time ran out.</exception>
    public static Evaluation Evaluate(string assemblyPath, string? pathMap, TimeSpan? timeout = null)
    {
        if (!File.Exists(assemblyPath))
        {
            throw new KilnException(DiagnosticCodes.AssemblyNotFound, $"The spec assembly '{assemblyPath}' does not exist. Build the project first.");
        }

        var progress = new EvaluationProgress();
        if (timeout is not { } limit)
        {
            return EvaluateCore(assemblyPath, pathMap, progress);
        }

        Evaluation? result = null;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = EvaluateCore(assemblyPath, pathMap, progress);
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e); // carried to the calling thread and rethrown there unchanged
            }
        }, maxStackSize: MainThreadStackSize)
        {
            IsBackground = true, // a spec stuck in a loop must not keep the process alive
            Name = "Kiln spec evaluation",
        };
        thread.Start();
        if (!thread.Join(limit))
        {
            Interlocked.Increment(ref _abandoned);
            throw TimedOut(assemblyPath, progress.Current, limit);
        }

        failure?.Throw();
        return result!;
    }

    /// <summary>
    /// How many evaluations this process abandoned on their timeout. Their threads may still run spec code, so a process
    /// that serves more than one build (the engine server) stops once this is not 0.
    /// </summary>
    public static int AbandonedEvaluations => Volatile.Read(ref _abandoned);

    private static int _abandoned;

    /// <summary>The stack the process's main thread has on Linux, so that spec code recurses as deep as before.</summary>
    private const int MainThreadStackSize = 8 * 1024 * 1024;

    private static KilnException TimedOut(string assemblyPath, EvaluationStep step, TimeSpan limit)
    {
        var seconds = limit.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        var what = step.SpecType.Length == 0
            ? $"Evaluating '{Path.GetFileName(assemblyPath)}' was still {step.Activity}"
            : $"Spec '{step.SpecType}' was still {step.Activity}";
        return new KilnException(
            DiagnosticCodes.EvaluationTimedOut,
            $"{what} after {seconds} s (KilnEvaluationTimeout), so evaluation was stopped. Spec code must compute its values promptly: look for a loop, a wait or I/O there. If it really needs longer, raise KilnEvaluationTimeout (seconds).",
            step.Location);
    }

    private static Evaluation EvaluateCore(string assemblyPath, string? pathMap, EvaluationProgress progress)
    {
        var context = new SpecLoadContext(assemblyPath);
        try
        {
            var assembly = context.LoadFromBytes(assemblyPath);
            using var locator = SourceLocator.Create(assemblyPath, assembly, pathMap);
            var diagnostics = new DiagnosticBag();
            var types = LoadTypes(assembly);
            var servers = new List<ResolvedServer>();
            foreach (var type in SpecReader<ServerSpec>.SpecTypes(types))
            {
                if (Resolve(type, locator, diagnostics, progress) is { } server)
                {
                    servers.Add(server);
                }
            }

            diagnostics.ThrowIfErrors();
            SpecValidator.Validate(servers, diagnostics);
            diagnostics.ThrowIfErrors();
            var deployments = DeploymentEvaluator.Resolve(assembly, types, servers, locator, diagnostics, progress);
            DeploymentValidator.Validate(deployments, diagnostics);
            diagnostics.ThrowIfErrors();
            if (servers.Count == 0)
            {
                diagnostics.Warning(DiagnosticCodes.NoSpecs, $"'{Path.GetFileName(assemblyPath)}' references Kiln but declares no ServerSpec: no image is built. Add a class deriving from Kiln.Spec.ServerSpec, or set KilnEnabled=false.");
            }

            return new Evaluation([.. servers], [.. diagnostics.Items.Where(d => d.IsWarning)]) { Deployments = deployments };
        }
        finally
        {
            context.Unload();
        }
    }

    private static Type[] LoadTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            var reason = e.LoaderExceptions.FirstOrDefault(x => x is not null)?.Message ?? e.Message;
            throw new KilnException(DiagnosticCodes.SpecNotConstructible, $"The spec assembly '{assembly.GetName().Name}' could not be loaded: {reason}");
        }
    }

    private static ResolvedServer? Resolve(Type type, SourceLocator locator, DiagnosticBag diagnostics, EvaluationProgress progress)
    {
        if (SpecReader<ServerSpec>.Create(type, "Spec", locator, diagnostics, progress) is not { } reader)
        {
            return null;
        }

        var server = new ResolvedServer
        {
            SpecType = type.FullName!,
            Location = reader.TypeLocation,
            Name = reader.Read(nameof(ServerSpec.Name), s => s.Name) ?? "",
            Version = reader.Read(nameof(ServerSpec.Version), s => s.Version) ?? "",
            Base = reader.Read(nameof(ServerSpec.Base), s => s.Base) ?? BaseImage.Scratch,
            Layers = reader.ReadArray(nameof(ServerSpec.Layers), s => s.Layers),
            Account = reader.Read(nameof(ServerSpec.Account), s => s.Account) ?? Account.Default,
            WorkingDirectory = reader.Read(nameof(ServerSpec.WorkingDirectory), s => s.WorkingDirectory) ?? "/",
            Entrypoint = reader.Read(nameof(ServerSpec.Entrypoint), s => s.Entrypoint),
            Arguments = reader.ReadArray(nameof(ServerSpec.Arguments), s => s.Arguments),
            Environment = reader.ReadArray(nameof(ServerSpec.Environment), s => s.Environment),
            Ports = reader.ReadArray(nameof(ServerSpec.Ports), s => s.Ports),
            Health = reader.Read(nameof(ServerSpec.Health), s => s.Health),
            Limits = reader.Read(nameof(ServerSpec.Limits), s => s.Limits) ?? Limits.None,
            Labels = reader.ReadArray(nameof(ServerSpec.Labels), s => s.Labels),
            Volumes = reader.ReadArray(nameof(ServerSpec.Volumes), s => s.Volumes),
            Secrets = reader.ReadArray(nameof(ServerSpec.Secrets), s => s.Secrets),
            Platforms = reader.ReadArray(nameof(ServerSpec.Platforms), s => s.Platforms),
            PropertyLocations = reader.Locations,
        };
        return reader.Failed ? null : server with { Platforms = PlatformsOf(server) };
    }

    /// <summary>
    /// A spec that keeps the default platforms but names a Debian architecture of its base
    /// (<c>BaseImage.Debian("bookworm", [...], "arm64")</c>, older than <see cref="ServerSpec.Platforms"/>) is built for
    /// that architecture's platform, as it always was; any other spec for the platforms it lists.
    /// </summary>
    private static ImmutableArray<Kiln.Spec.Platform> PlatformsOf(ResolvedServer server) =>
        server.Base is DebianBase { Architecture: var architecture }
        && server.Platforms is [var only] && only == Kiln.Spec.Platform.LinuxAmd64
        && Kiln.Spec.Platform.Supported.FirstOrDefault(p => p.DebianArchitecture == architecture && p != only) is { } named
            ? [named]
            : server.Platforms;
}
