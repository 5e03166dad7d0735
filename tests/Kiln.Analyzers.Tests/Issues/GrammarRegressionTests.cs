using Kiln.Analyzers.Rules;

namespace Kiln.Analyzers.Tests.Issues;

/// <summary>Regressions of the name and version grammars, which the analyzers now share with evaluation (src/Shared/Grammar.cs).</summary>
public sealed class GrammarRegressionTests
{
    /// <summary>
    /// Regression: a valid version was once reported as KILN0023 on a loaded machine, because a regex timeout counted as
    /// "no match". The grammar is now a linear scan with no timeout (see GrammarTests in Kiln.Engine.Tests for inputs that
    /// made the expression backtrack).
    /// </summary>
    [Fact]
    public Task VersionNotSemVer_ValidVersion_IsNeverReported() =>
        Verify<VersionNotSemVerAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "2.0.0";
            }

            public sealed class Long : ServerSpec
            {
                public override string Name => "long";
                public override string Version => "1.0.0-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a";
            }
            """);

    /// <summary>Regression: the analyzer accepted "shop/api-v2" that evaluation refused (KILN2003); a name is one path component.</summary>
    [Fact]
    public Task InvalidImageName_NameWithSlash_ReportedLikeEvaluation() =>
        Verify<InvalidImageNameAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => {|KILN0025:"shop/api-v2"|};
                public override string Version => "1.0.0";
            }
            """);
}
