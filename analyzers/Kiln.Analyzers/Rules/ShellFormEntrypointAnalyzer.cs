using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0018: a shell-form entrypoint, <c>Entrypoint.Shell("…")</c> or <c>new Entrypoint("/bin/sh", "-c", "…")</c>.
/// The code fix rewrites it in exec form when the command is plain words.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ShellFormEntrypointAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.ShellFormEntrypoint,
        "Entrypoint runs through a shell",
        "The entrypoint runs through a shell; use exec form (new Entrypoint(\"/app/server\", \"--flag\")) so signals reach the server and the image needs no shell",
        Descriptors.Immutability,
        DiagnosticSeverity.Info,
        "In shell form the shell is process 1: SIGTERM from a rollout does not reach the server, which is killed instead of draining. The image also has to ship a shell, which is one more way to change a running instance.");

    /// <summary>Set on a diagnostic when the command is plain words, so the fix can offer exec form.</summary>
    public const string CommandProperty = "Command";

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types)
    {
        if (types.Entrypoint is null)
        {
            return;
        }

        SpecActions.RegisterOperationAction(
            context,
            types,
            new SyntaxFilter("Shell") { ObjectCreations = true },
            operationContext =>
            {
                IOperation? command = null;
                switch (operationContext.Operation)
                {
                    case IInvocationOperation { TargetMethod.Name: "Shell" } shell when SpecTypes.Is(shell.TargetMethod.ContainingType, types.Entrypoint):
                        command = shell.Arguments.Argument("command");
                        break;
                    case IObjectCreationOperation creation when SpecTypes.Is(creation.Type, types.Entrypoint):
                        var argv = PrivilegeEscalationAnalyzer.ConstantArgv(creation);
                        if (argv.Count < 2 || !ShellForm.Shells.Contains(CommandLine.ProgramName(argv[0])) || argv[1] != "-c")
                        {
                            return;
                        }

                        var values = System.Linq.Enumerable.ToList(creation.Arguments.FlattenedValues());
                        command = values.Count == 3 ? values[2] : null;
                        break;
                    default:
                        return;
                }

                var properties = command.TryGetString(out var text) && ShellForm.TrySplitPlainCommand(text, out _)
                    ? ImmutableDictionary<string, string?>.Empty.Add(CommandProperty, text)
                    : ImmutableDictionary<string, string?>.Empty;
                operationContext.ReportDiagnostic(Diagnostic.Create(Rule, operationContext.Operation.Syntax.GetLocation(), properties));
            },
            OperationKind.Invocation,
            OperationKind.ObjectCreation);
    }
}
