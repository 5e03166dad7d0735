using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KILN0017: an entrypoint (or a command health check) that installs packages or runs a configuration tool when
/// the container starts: the mutable-server pattern that images replace.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ProvisioningAtStartAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.ProvisioningAtStart,
        "Entrypoint provisions the server at start",
        "The entrypoint runs '{0}' when the server starts; install packages and configuration when the image is built (BaseImage.Debian packages, layers)",
        Descriptors.Immutability,
        DiagnosticSeverity.Warning,
        "A container that installs or configures itself at start is a mutable server again: each instance is whatever the mirror or the configuration server said at its boot, not what the image says.");

    /// <summary>Package managers, with the sub-commands (or flags) that change what is installed.</summary>
    internal static readonly ImmutableDictionary<string, ImmutableArray<string>> PackageManagers = new Dictionary<string, ImmutableArray<string>>
    {
        ["apt"] = ["install", "upgrade", "full-upgrade", "dist-upgrade", "update", "remove"],
        ["apt-get"] = ["install", "upgrade", "dist-upgrade", "update", "remove"],
        ["aptitude"] = ["install", "upgrade", "safe-upgrade", "full-upgrade", "update"],
        ["dpkg"] = ["-i", "--install", "--unpack"],
        ["yum"] = ["install", "update", "upgrade", "groupinstall", "localinstall"],
        ["dnf"] = ["install", "update", "upgrade", "groupinstall"],
        ["microdnf"] = ["install", "update", "upgrade"],
        ["rpm"] = ["-i", "-U", "-F", "--install", "--upgrade", "--freshen", "-ivh", "-Uvh"],
        ["zypper"] = ["install", "in", "update", "up", "dist-upgrade", "dup"],
        ["apk"] = ["add", "upgrade", "update"],
        ["pacman"] = ["-S", "-Sy", "-Syu", "-U"],
        ["pip"] = ["install"],
        ["pip3"] = ["install"],
        ["pipx"] = ["install"],
        ["npm"] = ["install", "i", "ci", "update"],
        ["yarn"] = ["add", "install"],
        ["pnpm"] = ["add", "install", "i"],
        ["gem"] = ["install", "update"],
        ["conda"] = ["install", "update"],
        ["mamba"] = ["install", "update"],
        ["snap"] = ["install", "refresh"],
        ["nix-env"] = ["-i", "--install", "-u", "--upgrade"],
    }.ToImmutableDictionary(StringComparer.Ordinal);

    /// <summary>Configuration management tools: running one at start is the problem, whatever its arguments.</summary>
    internal static readonly ImmutableArray<string> ConfigurationTools =
        ["chef-client", "chef-solo", "chef-apply", "puppet", "ansible", "ansible-playbook", "ansible-pull", "salt-call", "salt-minion", "cf-agent", "cloud-init"];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        SpecActions.RegisterOperationAction(
            context,
            types,
            new SyntaxFilter("Shell", "Command") { ObjectCreations = true },
            operationContext =>
            {
                var operation = operationContext.Operation;
                if (PrivilegeEscalationAnalyzer.IsEntrypointOrCommand(operation, types)
                    && FindProvisioning(CommandLine.Words(PrivilegeEscalationAnalyzer.ConstantArgv(operation))) is { } found)
                {
                    operationContext.ReportDiagnostic(Diagnostic.Create(Rule, operation.Syntax.GetLocation(), found));
                }
            },
            OperationKind.ObjectCreation,
            OperationKind.Invocation);

    private static string? FindProvisioning(List<string> words)
    {
        for (var i = 0; i < words.Count; i++)
        {
            var program = CommandLine.ProgramName(words[i]);
            if (ConfigurationTools.Contains(program))
            {
                return program;
            }

            if (PackageManagers.TryGetValue(program, out var verbs))
            {
                for (var j = i + 1; j < words.Count && j <= i + 4; j++)
                {
                    if (verbs.Contains(words[j]))
                    {
                        return program + " " + words[j];
                    }
                }
            }
        }

        return null;
    }
}
