using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0010: a way for the server to gain privileges: a setuid/setgid file mode in a layer, an entrypoint that runs
/// through sudo/su/doas, or a <c>Privileged</c> / <c>AllowPrivilegeEscalation</c> setting of <c>true</c> (matched by
/// name, so that it lights up when the DSL grows such settings).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PrivilegeEscalationAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.PrivilegeEscalation,
        "Server can gain privileges",
        "{0}; a server must not be able to gain privileges it does not start with",
        Descriptors.Security,
        DiagnosticSeverity.Warning,
        "Setuid binaries, sudo and privileged containers let a process become root and change its instance, which then no longer matches its image.");

    private const int SetUidOrSetGid = 0xC00; // 04000 | 02000

    private static readonly ImmutableArray<string> EscalatingPrograms = ["sudo", "su", "doas", "pkexec", "setpriv", "runuser"];

    private static readonly ImmutableArray<string> PrivilegeSettings = ["Privileged", "AllowPrivilegeEscalation"];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        SpecActions.RegisterOperationAction(
            context,
            types,
            new SyntaxFilter("Octal", "Shell", "Command", "Bits") { ObjectCreations = true }.WithNames(PrivilegeSettings),
            operationContext =>
            {
                var reason = Reason(operationContext.Operation, operationContext.ContainingSymbol, types);
                if (reason is not null)
                {
                    operationContext.ReportDiagnostic(Diagnostic.Create(Rule, operationContext.Operation.Syntax.GetLocation(), reason));
                }
            },
            OperationKind.ObjectCreation,
            OperationKind.Invocation,
            OperationKind.SimpleAssignment,
            OperationKind.Return,
            OperationKind.With);

    private static string? Reason(IOperation operation, ISymbol containingSymbol, SpecTypes types)
    {
        switch (operation)
        {
            case IObjectCreationOperation creation when SpecTypes.Is(creation.Type, types.FileMode) && !operation.IsReplacedByWith("Bits")
                && creation.Arguments.Argument("Bits").TryGetInt(out var bits) && (bits & SetUidOrSetGid) != 0:
                return $"File mode {Convert.ToString(bits, 8)} sets setuid/setgid";
            case IWithOperation with when SpecTypes.Is(with.Type, types.FileMode)
                && with.Initializer.InitializedMember("Bits").TryGetInt(out var newBits) && (newBits & SetUidOrSetGid) != 0:
                return $"File mode {Convert.ToString(newBits, 8)} sets setuid/setgid";
            case IInvocationOperation { TargetMethod.Name: "Octal" } octal when SpecTypes.Is(octal.TargetMethod.ContainingType, types.FileMode)
                && octal.Arguments.Argument("octal").TryGetString(out var text) && TryParseOctal(text, out var mode) && (mode & SetUidOrSetGid) != 0:
                return $"File mode {text} sets setuid/setgid";
            case IObjectCreationOperation or IInvocationOperation when IsEntrypointOrCommand(operation, types):
                var program = FirstProgram(operation);
                return program is not null && EscalatingPrograms.Contains(program) ? $"The entrypoint runs through '{program}'" : null;
            case ISimpleAssignmentOperation { Target: IPropertyReferenceOperation target } assignment
                when PrivilegeSettings.Contains(target.Property.Name) && assignment.Value.ConstantValue is { HasValue: true, Value: true }:
                return $"'{target.Property.Name}' is true";
            case IReturnOperation { ReturnedValue.ConstantValue: { HasValue: true, Value: true } } ret
                when !ret.IsInsideFunction()
                    && containingSymbol is IMethodSymbol { MethodKind: MethodKind.PropertyGet, AssociatedSymbol: { } property }
                    && PrivilegeSettings.Contains(property.Name):
                return $"'{property.Name}' is true";
            default:
                return null;
        }
    }

    internal static bool IsEntrypointOrCommand(IOperation operation, SpecTypes types) => operation switch
    {
        IObjectCreationOperation creation => SpecTypes.Is(creation.Type, types.Entrypoint),
        IInvocationOperation { TargetMethod.Name: "Shell" } shell => SpecTypes.Is(shell.TargetMethod.ContainingType, types.Entrypoint),
        IInvocationOperation { TargetMethod.Name: "Command" } command => SpecTypes.Is(command.TargetMethod.ContainingType, types.HealthCheck),
        _ => false,
    };

    /// <summary>The constant words of an entrypoint or command, in order; stops at the first value not known at compile time.</summary>
    internal static List<string> ConstantArgv(IOperation operation)
    {
        var argv = new List<string>();
        foreach (var value in operation.ArgumentsOf().FlattenedValues())
        {
            if (!value.TryGetString(out var word))
            {
                break;
            }

            argv.Add(word);
        }

        return argv;
    }

    private static string? FirstProgram(IOperation operation)
    {
        var words = CommandLine.Words(ConstantArgv(operation));
        // Skip the shell itself when the entrypoint is `/bin/sh -c "…"`.
        var index = 0;
        if (words.Count > 2 && ShellForm.Shells.Contains(CommandLine.ProgramName(words[0])) && words[1] == "-c")
        {
            index = 2;
        }

        if (index < words.Count && words[index] == "exec")
        {
            index++;
        }

        return index < words.Count ? CommandLine.ProgramName(words[index]) : null;
    }

    private static bool TryParseOctal(string text, out int value)
    {
        value = 0;
        if (text.Length == 0)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c < '0' || c > '7')
            {
                return false;
            }

            value = (value * 8) + (c - '0');
        }

        return true;
    }
}
