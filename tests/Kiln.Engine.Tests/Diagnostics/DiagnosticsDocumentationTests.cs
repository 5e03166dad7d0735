using System.Reflection;
using System.Text.RegularExpressions;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Tests.Diagnostics;

/// <summary>
/// Every KILN code a user can see is explained exactly once: engine and build codes in docs/diagnostics.md, analyzer
/// rules in docs/analyzers.md (diagnostics.md lists them in a table generated from the descriptors, checked by
/// Kiln.Analyzers.Tests' DiagnosticsPageTests); and no code is used for two meanings.
/// </summary>
public sealed partial class DiagnosticsDocumentationTests
{
    // A range in prose ("KILN0001-KILN0999", "KILN1xxx–5xxx") names no code; it is removed before codes are collected.
    [GeneratedRegex(@"KILN\d{4}\s*[-–]\s*(?:KILN)?\d{4}")]
    private static partial Regex CodeRange();

    [GeneratedRegex(@"KILN\d{4}")]
    private static partial Regex Code();

    [GeneratedRegex(@"^## (KILN\d{4})\b", RegexOptions.Multiline)]
    private static partial Regex CodeHeading();

    [GeneratedRegex(@"^KILN[1-5]\d{3}$")]
    private static partial Regex EngineCode();

    [Fact]
    public void DiagnosticsMarkdown_EveryCodeUsedInSources_HasASection()
    {
        var documented = DocumentedCodes();
        var used = CodesUsedIn("src", "analyzers");

        var missing = used.Where(u => !documented.Contains(u.Key)).Select(u => $"{u.Key} (used in {string.Join(", ", u.Value)})").ToList();

        Assert.True(used.Count > 0, "No KILN code found under src/ or analyzers/; the repository root is probably wrong.");
        Assert.True(missing.Count == 0, "Codes without a '## KILNnnnn' section in docs/diagnostics.md (or docs/analyzers.md):\n" + string.Join("\n", missing));
    }

    [Fact]
    public void DiagnosticsMarkdown_EveryDiagnosticCodesConstant_HasASection()
    {
        var documented = DocumentedCodes();

        var missing = Constants().Select(c => c.Value).Where(code => !documented.Contains(code)).ToList();

        Assert.Empty(missing);
    }

    [Fact]
    public void DiagnosticsMarkdown_Sections_AreNotDuplicated()
    {
        // One section per code across both pages: a rule explained in analyzers.md and again here would drift apart.
        var headings = new[] { "diagnostics.md", "analyzers.md" }
            .SelectMany(name => CodeHeading().Matches(File.ReadAllText(DocPath(name))).Select(m => m.Groups[1].Value));

        var duplicated = headings.GroupBy(h => h, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();

        Assert.True(duplicated.Count == 0, "Codes with more than one '## KILNnnnn' section in docs/diagnostics.md and docs/analyzers.md:\n" + string.Join("\n", duplicated));
    }

    [Fact]
    public void DiagnosticsMarkdown_AnalyzerRules_AreOnTheirOwnPageOnly()
    {
        var text = File.ReadAllText(DocPath("diagnostics.md"));
        var analyzerSections = CodeHeading().Matches(text).Select(m => m.Groups[1].Value).Where(code => !EngineCode().IsMatch(code)).ToList();

        Assert.Contains("<!-- analyzer-rules:begin", text, StringComparison.Ordinal);
        Assert.Contains("<!-- analyzer-rules:end -->", text, StringComparison.Ordinal);
        Assert.True(analyzerSections.Count == 0, "Analyzer rules are explained in docs/analyzers.md; docs/diagnostics.md only lists them: " + string.Join(", ", analyzerSections));
    }

    [Fact]
    public void DiagnosticCodes_Constants_HaveNoDuplicateValues()
    {
        var duplicated = Constants()
            .GroupBy(c => c.Value, StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(c => c.Name))}")
            .ToList();

        Assert.True(duplicated.Count == 0, "Codes used by two constants:\n" + string.Join("\n", duplicated));
    }

    [Fact]
    public void DiagnosticCodes_Constants_AreEngineCodesInTheirRanges()
    {
        var constants = Constants();

        Assert.NotEmpty(constants);
        Assert.All(constants, c => Assert.Matches(EngineCode(), c.Value));
    }

    [Fact]
    public void DiagnosticCodes_CodesWrittenAsLiteralsInSources_AreAlsoConstants()
    {
        // KILN3001 and KILN4003 are logged by the netstandard2.0 tasks, which cannot reference the engine: their
        // literals must still match a DiagnosticCodes constant, so the two never drift apart.
        var constants = Constants().Select(c => c.Value).ToHashSet(StringComparer.Ordinal);

        var strays = CodesUsedIn("src").Keys.Where(code => EngineCode().IsMatch(code) && !constants.Contains(code)).ToList();

        Assert.Empty(strays);
    }

    private static List<(string Name, string Value)> Constants() =>
    [
        .. typeof(DiagnosticCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f is { IsLiteral: true, IsInitOnly: false } && f.FieldType == typeof(string))
            .Select(f => (f.Name, (string)f.GetRawConstantValue()!)),
    ];

    /// <summary>Codes with a '## KILNnnnn' heading in docs/diagnostics.md or (analyzer rules) docs/analyzers.md.</summary>
    private static HashSet<string> DocumentedCodes()
    {
        var documented = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in new[] { "diagnostics.md", "analyzers.md" })
        {
            var path = DocPath(name);
            if (File.Exists(path))
            {
                documented.UnionWith(CodeHeading().Matches(File.ReadAllText(path)).Select(m => m.Groups[1].Value));
            }
        }

        return documented;
    }

    /// <summary>Every code in the C# sources under the given top-level folders, with the files that use it.</summary>
    private static SortedDictionary<string, SortedSet<string>> CodesUsedIn(params string[] folders)
    {
        var codes = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            var root = Path.Combine(RepoRoot, folder);
            if (!Directory.Exists(root))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(RepoRoot, file).Replace('\\', '/');
                if (relative.Contains("/bin/", StringComparison.Ordinal) || relative.Contains("/obj/", StringComparison.Ordinal))
                {
                    continue;
                }

                var text = CodeRange().Replace(File.ReadAllText(file), "");
                foreach (var code in Code().Matches(text).Select(m => m.Value))
                {
                    if (!codes.TryGetValue(code, out var files))
                    {
                        codes[code] = files = new SortedSet<string>(StringComparer.Ordinal);
                    }

                    files.Add(relative);
                }
            }
        }

        return codes;
    }

    private static string DocPath(string name) => Path.Combine(RepoRoot, "docs", name);

    private static string RepoRoot => Repo.Root;
}
