using System;
using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>KILN0024: a server that offers remote logins: port 22 declared, an SSH server package, or an SSH daemon as entrypoint.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RemoteShellAccessAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.RemoteShellAccess,
        "Server accepts remote logins",
        "{0}; instances are replaced, never logged into: debug with logs, metrics or an ephemeral debug container",
        Descriptors.Immutability,
        DiagnosticSeverity.Warning,
        "An SSH server invites changing instances by hand. Those changes are drift: invisible in the spec, lost at the next rollout, and different on every instance.");

    internal static readonly ImmutableArray<string> SshPackages = ["openssh-server", "dropbear", "dropbear-bin", "tinysshd", "ssh"];

    internal static readonly ImmutableArray<string> SshDaemons = ["sshd", "dropbear", "tinysshd"];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        SpecActions.RegisterOperationAction(
            context,
            types,
            PortCalls.Filter.WithNames(["Debian", "DebianBase", "Packages"]),
            operationContext =>
            {
                var operation = operationContext.Operation;
                if (!operation.IsWithOperand() && PortCalls.TryGetPort(operation, types, out var number, out var protocol, out _) && number == 22 && protocol == "tcp")
                {
                    operationContext.ReportDiagnostic(Diagnostic.Create(Rule, operation.Syntax.GetLocation(), "Port 22 (SSH) is declared"));
                }
                else if (BaseImageCalls.TryGetDebian(operation, types, out var debian))
                {
                    foreach (var element in debian.Packages.CollectionElements())
                    {
                        if (element.TryGetString(out var package) && SshPackages.Contains(PackageName(package)))
                        {
                            operationContext.ReportDiagnostic(Diagnostic.Create(Rule, element.Origin.Syntax.GetLocation(), $"Package '{package}' is an SSH server"));
                        }
                    }
                }
                else if (operation is IObjectCreationOperation creation && SpecTypes.Is(creation.Type, types.Entrypoint)
                    && creation.Arguments.Argument("program").TryGetString(out var program)
                    && SshDaemons.Contains(CommandLine.ProgramName(program)))
                {
                    operationContext.ReportDiagnostic(Diagnostic.Create(Rule, operation.Syntax.GetLocation(), $"The entrypoint starts the SSH daemon '{program}'"));
                }
            },
            OperationKind.Invocation,
            OperationKind.ObjectCreation,
            OperationKind.With);

    private static string PackageName(string package)
    {
        var end = package.IndexOfAny(['=', ':']);
        return end >= 0 ? package.Substring(0, end) : package;
    }
}
