using Kiln.Analyzers.CodeFixes;
using Kiln.Analyzers.Rules;

namespace Kiln.Analyzers.Tests.Rules;

public sealed class SettablePropertyAnalyzerTests
{
    [Fact]
    public Task SettableProperty_OnSpec_Reports() =>
        Verify<SettablePropertyAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public int Replicas { get; {|KILN0001:set|}; }
                public static string Region { get; private {|KILN0001:set|}; } = "eu";
            }
            """);

    [Fact]
    public Task InitOnlyOrSettableOutsideSpec_DoesNotReport() =>
        Verify<SettablePropertyAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public int Replicas { get; init; }
                public int Computed => Replicas * 2;
            }

            public sealed class NotASpec
            {
                public int Replicas { get; set; }
            }
            """);

    [Fact]
    public Task SettableProperty_FixInit_UsesInit() =>
        Verify<SettablePropertyAnalyzer>.CodeFixAsync<SettablePropertyCodeFix>(
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public int Replicas { get; {|KILN0001:set|}; }
            }
            """,
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public int Replicas { get; init; }
            }
            """,
            "KILN0001.init");

    [Fact]
    public Task SettableProperty_FixGetOnly_RemovesSetter() =>
        Verify<SettablePropertyAnalyzer>.CodeFixAsync<SettablePropertyCodeFix>(
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public int Replicas { get; {|KILN0001:set|}; } = 3;
            }
            """,
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public int Replicas { get; } = 3;
            }
            """,
            "KILN0001.getonly");
}

public sealed class MutableFieldAnalyzerTests
{
    [Fact]
    public Task MutableFields_OnSpec_Report() =>
        Verify<MutableFieldAnalyzer>.AnalyzerAsync("""
            public static class Settings
            {
                public static int Port = 8080;
            }

            public sealed class Api : ServerSpec
            {
                private int {|KILN0002:_replicas|} = 2;
                private static string {|KILN0002:s_region|} = "eu";
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<Port> Ports => [Port.Tcp({|KILN0002:Settings.Port|})];
            }
            """);

    [Fact]
    public Task ReadonlyAndConstFields_DoNotReport() =>
        Verify<MutableFieldAnalyzer>.AnalyzerAsync("""
            public static class Settings
            {
                public const int Port = 8080;
                public static readonly string Region = "eu";
                public static int Mutable = 1;
            }

            public sealed class Api : ServerSpec
            {
                private readonly int _replicas = 2;
                private const string Region = "eu";
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override ImmutableArray<Port> Ports => [Port.Tcp(Settings.Port)];
            }

            public sealed class NotASpec
            {
                private int _count;
                public int Next() => Settings.Mutable + _count++;
            }
            """);

    [Fact]
    public Task MutableField_Fix_AddsReadonly() =>
        Verify<MutableFieldAnalyzer>.CodeFixAsync<MutableFieldCodeFix>(
            """
            public sealed class Api : ServerSpec
            {
                private static string {|KILN0002:s_region|} = "eu";
                public override string Name => "api";
                public override string Version => "1.0.0";
            }
            """,
            """
            public sealed class Api : ServerSpec
            {
                private static readonly string s_region = "eu";
                public override string Name => "api";
                public override string Version => "1.0.0";
            }
            """);
}

public sealed class MutableCollectionAnalyzerTests
{
    [Fact]
    public Task MutableCollections_OnSpec_Report() =>
        Verify<MutableCollectionAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public {|KILN0003:List<string>|} Hosts { get; } = ["a", "b"];
                public {|KILN0003:string[]|} Flags => ["--quiet"];
                private readonly {|KILN0003:Dictionary<string, string>|} _map = new() { ["a"] = "b" };
            }
            """);

    [Fact]
    public Task ImmutableCollectionsAndNonSpecs_DoNotReport() =>
        Verify<MutableCollectionAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public ImmutableArray<string> Hosts { get; } = ["a", "b"];
                public IReadOnlyList<string> Flags => ["--quiet"];
                public override ImmutableArray<string> Volumes => ["/data"];
            }

            public sealed class NotASpec
            {
                public List<string> Hosts { get; } = [];
            }
            """);

    [Fact]
    public Task ListWithInitializer_Fix_UsesImmutableArrayAndCollectionExpression() =>
        Verify<MutableCollectionAnalyzer>.CodeFixAsync<MutableCollectionCodeFix>(
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public {|KILN0003:List<string>|} Hosts { get; } = new List<string> { "a", "b" };
                public {|KILN0003:string[]|} Flags => new[] { "--quiet" };
            }
            """,
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public ImmutableArray<string> Hosts { get; } = ["a", "b"];
                public ImmutableArray<string> Flags => ["--quiet"];
            }
            """);

    [Fact]
    public Task Array_FixWithoutImmutableNamespace_AddsUsing() =>
        Verify<MutableCollectionAnalyzer>.CodeFixAsync<MutableCollectionCodeFix>(
            """
            namespace Shop;

            public sealed class Api : Kiln.Spec.ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public {|KILN0003:string[]|} Flags { get; } = ReadFlags();
                private static string[] ReadFlags() => ["--quiet"];
            }
            """,
            """
            using System.Collections.Immutable;

            namespace Shop;

            public sealed class Api : Kiln.Spec.ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public ImmutableArray<string> Flags { get; } = ReadFlags().ToImmutableArray();
                private static string[] ReadFlags() => ["--quiet"];
            }
            """,
            withGlobalUsings: false);

    [Fact]
    public Task Dictionary_Fix_UsesImmutableDictionary() =>
        Verify<MutableCollectionAnalyzer>.CodeFixAsync<MutableCollectionCodeFix>(
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                private readonly {|KILN0003:Dictionary<string, string>|} _map = new() { ["a"] = "b" };
            }
            """,
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                private readonly ImmutableDictionary<string, string> _map = new Dictionary<string, string> { ["a"] = "b" }.ToImmutableDictionary();
            }
            """);
}
