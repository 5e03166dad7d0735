using System.CommandLine;
using System.Text;
using Kiln.Engine.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln bump SPEC-OR-NAME [--patch|--minor|--major]</c>: raises a server spec's <c>Version</c> in its source with
/// Roslyn, changing only the string literal (comments, layout and everything else stay byte for byte), so that the
/// next build locks a new version instead of refusing changed content under a released one.
/// </summary>
internal static class BumpCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("spec") { Description = "The spec's .cs file, or the server name (Name => \"shop-api\")." };
        var project = new Option<string>("--project") { Description = "The spec project's directory, searched for the server name.", DefaultValueFactory = _ => "." };
        var patch = new Option<bool>("--patch") { Description = "1.2.3 -> 1.2.4 (the default)." };
        var minor = new Option<bool>("--minor") { Description = "1.2.3 -> 1.3.0." };
        var major = new Option<bool>("--major") { Description = "1.2.3 -> 2.0.0." };
        var json = new Option<bool>("--json") { Description = "Print the file and versions as JSON." };
        var command = new Command("bump", "Raise a server spec's Version in its source (syntax-preserving): patch by default, or --minor, --major.") { target, project, patch, minor, major, json };
        command.SetAction(result => Edge.Run(() =>
        {
            var part = result.GetValue(major) ? 0 : result.GetValue(minor) ? 1 : 2;
            var (file, oldVersion, newVersion) = Bump(result.GetValue(target)!, Path.GetFullPath(result.GetValue(project)!), part);
            if (result.GetValue(json))
            {
                CliJson.Write(new BumpOutput(file, oldVersion, newVersion));
            }
            else
            {
                CliOutput.Line($"{file}: Version {oldVersion} -> {newVersion}");
            }

            return Edge.Ok;
        }));
        return command;
    }

    /// <summary>Rewrites the Version literal of the spec; <paramref name="part"/> is 0 (major), 1 (minor) or 2 (patch).</summary>
    internal static (string File, string Old, string New) Bump(string target, string projectDirectory, int part)
    {
        var candidates = target.EndsWith(".cs", StringComparison.OrdinalIgnoreCase)
            ? [Path.GetFullPath(target)]
            : Directory.EnumerateFiles(projectDirectory, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(d => d is "bin" or "obj"))
                .Order(StringComparer.Ordinal)
                .ToList();
        foreach (var file in candidates.Where(File.Exists))
        {
            var text = File.ReadAllText(file);
            var tree = CSharpSyntaxTree.ParseText(text, path: file);
            var root = tree.GetRoot();
            foreach (var type in root.DescendantNodes().OfType<ClassDeclarationSyntax>())
            {
                var matches = target.EndsWith(".cs", StringComparison.OrdinalIgnoreCase)
                    || type.Identifier.Text == target
                    || (Property(type, "Name") is { } name && Literal(name)?.Token.ValueText == target);
                if (!matches || Property(type, "Version") is not { } version)
                {
                    continue;
                }

                var line = version.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                var literal = Literal(version)
                    ?? throw new KilnException(DiagnosticCodes.BumpVersionNotLiteral, $"{file}({line}): the Version of '{type.Identifier.Text}' is not a string literal ({Value(version)}), so 'kiln bump' cannot rewrite it. Write it as 'public override string Version => \"1.2.3\";', or change the expression by hand.");
                var old = literal.Token.ValueText;
                var bumped = Next(old, part)
                    ?? throw new KilnException(DiagnosticCodes.BumpVersionNotLiteral, $"{file}({line}): the Version of '{type.Identifier.Text}' is '{old}', not MAJOR.MINOR.PATCH, so 'kiln bump' cannot raise it. Set the new version by hand.");
                var token = SyntaxFactory.Literal(bumped).WithTriviaFrom(literal.Token);
                var rewritten = root.ReplaceToken(literal.Token, token).ToFullString();
                File.WriteAllText(file, rewritten, new UTF8Encoding(encoderShouldEmitUTF8Identifier: text.Length > 0 && File.ReadAllBytes(file).AsSpan().StartsWith((byte[])[0xEF, 0xBB, 0xBF])));
                return (file, old, bumped);
            }
        }

        throw new KilnException(DiagnosticCodes.BumpSpecNotFound, $"No server spec named '{target}' with a Version property was found under '{projectDirectory}'. Pass the spec's .cs file, its class name, or its Name (as in kiln.lock.json), and --project for the spec project's directory.");
    }

    /// <summary>The property <paramref name="name"/> declared in the type itself.</summary>
    private static PropertyDeclarationSyntax? Property(ClassDeclarationSyntax type, string name) =>
        type.Members.OfType<PropertyDeclarationSyntax>().FirstOrDefault(p => p.Identifier.Text == name);

    /// <summary>The string literal a property returns: <c>=&gt; "x"</c>, <c>{ get; } = "x"</c> or <c>get { return "x"; }</c>.</summary>
    private static LiteralExpressionSyntax? Literal(PropertyDeclarationSyntax property)
    {
        var expression = Value(property);
        return expression is LiteralExpressionSyntax literal && literal.IsKind(SyntaxKind.StringLiteralExpression) ? literal : null;
    }

    private static ExpressionSyntax? Value(PropertyDeclarationSyntax property) =>
        property.ExpressionBody?.Expression
        ?? property.Initializer?.Value
        ?? property.AccessorList?.Accessors.FirstOrDefault(a => a.IsKind(SyntaxKind.GetAccessorDeclaration)) switch
        {
            { ExpressionBody: { } body } => body.Expression,
            { Body.Statements: [ReturnStatementSyntax { Expression: { } returned }] } => returned,
            _ => null,
        };

    /// <summary>MAJOR.MINOR.PATCH raised at <paramref name="part"/>, lower parts reset; null for anything else.</summary>
    internal static string? Next(string version, int part)
    {
        var parts = version.Split('.');
        if (parts.Length != 3 || !parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0')) || !parts.All(p => int.TryParse(p, out _)))
        {
            return null;
        }

        var numbers = parts.Select(int.Parse).ToArray();
        numbers[part]++;
        for (var i = part + 1; i < 3; i++)
        {
            numbers[i] = 0;
        }

        return string.Join('.', numbers);
    }

    /// <summary>The --json shape of <c>kiln bump</c>: the spec file rewritten and its Version before and after.</summary>
    internal sealed record BumpOutput(string File, string Old, string New);
}
