using System.Text;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Tests;

/// <summary>
/// The analyzer part of docs/diagnostics.md is generated from the DiagnosticDescriptors, and the rule table of
/// docs/analyzers.md agrees with them: neither page can drift from what the IDE shows.
/// </summary>
public sealed class DiagnosticsPageTests
{
    private const string Begin = "<!-- analyzer-rules:begin (generated from the DiagnosticDescriptors; do not edit by hand) -->";
    private const string End = "<!-- analyzer-rules:end -->";

    private static readonly DiagnosticDescriptor[] Descriptors = [.. typeof(SpecAnalyzer).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
        .SelectMany(t => ((DiagnosticAnalyzer)Activator.CreateInstance(t)!).SupportedDiagnostics)
        .OrderBy(d => d.Id, StringComparer.Ordinal)];

    [Fact]
    public void DiagnosticsMarkdown_AnalyzerTable_IsGeneratedFromTheDescriptors()
    {
        var path = Path.Combine(RepoRoot, "docs", "diagnostics.md");
        var text = File.ReadAllText(path).ReplaceLineEndings("\n");
        var begin = text.IndexOf(Begin, StringComparison.Ordinal);
        var end = text.IndexOf(End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"docs/diagnostics.md has no '{Begin}' … '{End}' block.");

        var expected = text[..(begin + Begin.Length)] + "\n" + Table() + text[end..];
        if (expected != text && Environment.GetEnvironmentVariable("KILN_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, expected);
            text = expected;
        }

        Assert.True(
            expected == text,
            "docs/diagnostics.md's analyzer table differs from the DiagnosticDescriptors. Run "
            + "'KILN_UPDATE_DOCS=1 dotnet test tests/Kiln.Analyzers.Tests --filter DiagnosticsPageTests' and commit the page. Expected:\n" + Table());
    }

    [Fact]
    public void AnalyzersMarkdown_RuleTable_MatchesTheDescriptors()
    {
        var rows = File.ReadAllLines(Path.Combine(RepoRoot, "docs", "analyzers.md"))
            .Where(l => l.StartsWith("| [KILN", StringComparison.Ordinal))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries))
            .ToDictionary(cells => cells[1][1..9], cells => (Title: cells[2], Severity: cells[3]), StringComparer.Ordinal);

        Assert.Equal(Descriptors.Select(d => d.Id), rows.Keys.Order(StringComparer.Ordinal));
        Assert.All(Descriptors, d =>
        {
            Assert.Equal(d.Title.ToString(), rows[d.Id].Title);
            Assert.StartsWith(Severity(d), rows[d.Id].Severity, StringComparison.Ordinal);
        });
    }

    private static string Table()
    {
        var table = new StringBuilder("| id | title | default severity |\n|---|---|---|\n");
        foreach (var d in Descriptors)
        {
            table.Append($"| [{d.Id}](analyzers.md#{d.Id.ToLowerInvariant()}) | {d.Title} | {Severity(d)} |\n");
        }

        return table.ToString();
    }

    private static string Severity(DiagnosticDescriptor descriptor) => descriptor.DefaultSeverity.ToString().ToLowerInvariant();

    private static string RepoRoot => Repo.Root;
}
