#!/usr/bin/env bash
# Measures what the Kiln analyzers add to compile time.
#
# Generates a project of N spec classes (default 300) in a temp directory, referencing Kiln.Spec from this
# repository, and builds it with and without Kiln.Analyzers.dll as an Analyzer item, alternating, several times
# in the same run. Every build recompiles (--no-incremental). Prints the median wall time of `dotnet build` for
# each, their ratio, and the analyzer time the compiler itself reports (-p:ReportAnalyzer=true).
#
#   build/bench-analyzers.sh [classes=300] [runs=5]
set -euo pipefail

classes=${1:-300}
runs=${2:-5}
repo=$(cd "$(dirname "$0")/.." && pwd)
configuration=Release

echo "Building Kiln.Spec and the analyzers ($configuration)..."
dotnet build "$repo/src/Kiln.Spec/Kiln.Spec.csproj" -c $configuration -v:q -nologo >/dev/null
dotnet build "$repo/analyzers/Kiln.Analyzers.CodeFixes/Kiln.Analyzers.CodeFixes.csproj" -c $configuration -v:q -nologo >/dev/null
spec_dll="$repo/src/Kiln.Spec/bin/$configuration/net10.0/Kiln.Spec.dll"
analyzer_dll="$repo/analyzers/Kiln.Analyzers/bin/$configuration/netstandard2.0/Kiln.Analyzers.dll"

work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-analyzers.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# Keep the generated project free of the repository's Directory.Build.props (it lives outside the repo anyway).
echo '<Project />' > "$work/Directory.Build.props"
echo '<Project />' > "$work/Directory.Build.targets"
cat > "$work/Bench.Specs.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <GenerateDocumentationFile>false</GenerateDocumentationFile>
  </PropertyGroup>
  <ItemGroup>
    <Reference Include="Kiln.Spec" HintPath="$spec_dll" />
    <Analyzer Include="$analyzer_dll" Condition="'\$(KilnAnalyzers)' == 'true'" />
  </ItemGroup>
</Project>
XML

for ((i = 0; i < classes; i++)); do
  cat > "$work/Server$i.cs" <<CS
using System.Collections.Immutable;
using Kiln.Spec;

namespace Bench.Specs;

/// <summary>Generated server $i.</summary>
public sealed class Server$i : ServerSpec
{
    private const int HttpPort = $((8000 + i % 1000));
    private static readonly ImmutableArray<string> Flags = ["--urls", "http://+:$((8000 + i % 1000))"];

    public override string Name => "server-$i";
    public override string Version => "1.$((i % 7)).$((i % 13))";
    public override BaseImage Base => BaseImage.Registry("ghcr.io/acme/dotnet-runtime:10.0@sha256:$(printf '%064x' $i)");
    public override ImmutableArray<Layer> Layers =>
    [
        Layer.PublishOutput("../Server$i/Server$i.csproj", to: "/app"),
        Layer.File("config/server$i.json", to: "/app/appsettings.json"),
        Layer.Directory("static", "/app/wwwroot", include: ["**/*.css", "**/*.js"]),
    ];
    public override Account Account => Account.NonRoot("server$i", uid: $((10000 + i)));
    public override string WorkingDirectory => "/app";
    public override Entrypoint Entrypoint => new("/app/Server$i", [.. Flags]);
    public override ImmutableArray<EnvironmentVariable> Environment =>
    [
        new("ASPNETCORE_ENVIRONMENT", "Production"),
        new("SERVER_INDEX", "$i"),
        new("LOG_LEVEL", Level($i)),
    ];
    public override ImmutableArray<Port> Ports => [Port.Tcp(HttpPort, "http"), Port.Tcp($((9000 + i % 1000)), "metrics")];
    public override HealthCheck Health => HealthCheck.Http(HttpPort, "/healthz");
    public override Limits Limits => new() { OpenFiles = 65_536, Processes = 512 };
    public override ImmutableArray<Label> Labels => [new("org.opencontainers.image.title", "server-$i")];
    public override ImmutableArray<string> Volumes => ["/var/lib/server$i"];
    public override ImmutableArray<SecretReference> Secrets => [new("server$i-db", EnvironmentVariable: "DB_CONNECTION")];

    private static string Level(int index) => (index % 3) switch
    {
        0 => "Information",
        1 => "Warning",
        _ => "Error",
    };
}
CS
done

echo "Generated $classes spec classes in $work"
dotnet restore "$work/Bench.Specs.csproj" -v:q -nologo >/dev/null

build() { # $1 = true|false; prints seconds, leaves the build log in $work/last.log
  local start end
  start=$(date +%s.%N)
  dotnet build "$work/Bench.Specs.csproj" --no-restore --no-incremental -nologo -c $configuration \
    -p:KilnAnalyzers="$1" -p:ReportAnalyzer=true -v:d -clp:PerformanceSummary >"$work/last.log" 2>&1 || { tail -40 "$work/last.log"; exit 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

analyzer_seconds() { # Kiln's share of the analyzer time the compiler reports (ReportAnalyzer)
  grep -E '^\s+[0-9.<]+\s+[0-9]+\s+Kiln\.Analyzers, Version' "$work/last.log" | head -1 | awk '{print $1}'
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "Warming up (one build of each, not counted)..."
build false >/dev/null
build true >/dev/null

without=()
with=()
kiln=()
for ((r = 1; r <= runs; r++)); do
  t0=$(build false)
  t1=$(build true)
  k=$(analyzer_seconds)
  without+=("$t0")
  with+=("$t1")
  kiln+=("${k:-?}")
  printf 'run %d: without %.2fs  with %.2fs  (Kiln analyzers, as reported by the compiler: %ss)\n' "$r" "$t0" "$t1" "${k:-?}"
done

m0=$(printf '%s\n' "${without[@]}" | median)
m1=$(printf '%s\n' "${with[@]}" | median)
mk=$(printf '%s\n' "${kiln[@]}" | grep -v '?' | median || true)
ratio=$(awk -v a="$m0" -v b="$m1" 'BEGIN { print b / a }')
overhead=$(awk -v a="$m0" -v b="$m1" 'BEGIN { print (b - a) / a * 100 }')
printf '\n%d spec classes, %d runs each, median dotnet build time:\n' "$classes" "$runs"
printf '  without Kiln analyzers: %.2fs\n  with Kiln analyzers:    %.2fs\n  ratio: %.3f (%+.1f%%; target <= +15%%)\n' "$m0" "$m1" "$ratio" "$overhead"
[ -n "$mk" ] && printf '  Kiln analyzer execution time reported by the compiler (median): %ss\n' "$mk"
