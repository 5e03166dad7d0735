using System;
using System.Collections.Immutable;
using System.Linq;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0011: a declared volume over a container runtime socket (the Docker socket and its peers) or over a system
/// path (/, /etc, /usr, /proc…). The DSL has no host-path mounts yet; volumes are where a spec can ask for one.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class HostPathVolumeAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.HostPathVolume,
        "Volume mounts a runtime socket or a system path",
        "Volume '{0}' {1}; declare volumes only for the server's own data (for example /var/lib/<server>)",
        Descriptors.Security,
        DiagnosticSeverity.Warning,
        "A runtime socket gives the server control of its host; a writable system directory lets the server change its own programs and configuration, and hides that change from drift checks.");

    internal static readonly ImmutableArray<string> RuntimeSockets =
    [
        "/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock",
        "/var/run/crio/crio.sock", "/run/crio/crio.sock", "/run/podman/podman.sock", "/var/run/podman/podman.sock",
    ];

    internal static readonly ImmutableArray<string> SystemPaths =
    [
        "/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root", "/run", "/sbin", "/sys", "/usr",
        "/var/run", "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet",
    ];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        SpecActions.RegisterPropertyValueAction(
            context,
            types,
            "Volumes",
            (blockContext, property, value) =>
            {
                foreach (var element in value.CollectionElements())
                {
                    if (element.TryGetString(out var path) && Reason(path) is { } reason)
                    {
                        blockContext.ReportDiagnostic(Diagnostic.Create(Rule, element.Origin.Syntax.GetLocation(), path, reason));
                    }
                }
            });

    private static string? Reason(string path)
    {
        var normalized = path.Length > 1 ? path.TrimEnd('/') : path;
        if (RuntimeSockets.Contains(normalized) || normalized.EndsWith(".sock", StringComparison.Ordinal))
        {
            return "is a container runtime socket";
        }

        return SystemPaths.Any(system => normalized == system || (system != "/" && system != "/run" && system != "/var/run" && normalized.StartsWith(system + "/", StringComparison.Ordinal)))
            ? "is a system path"
            : null;
    }
}
