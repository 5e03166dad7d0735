#!/usr/bin/env bash
# Measures what the Kiln analyzers add to compile time.
#
# Generates a project of N spec classes (default 300) in a temp directory, referencing Kiln.Spec from this
# repository, and builds it with and without Kiln.Analyzers.dll as an Analyzer item, alternating, several times
# in the same run. Every build recompiles (--no-incremental). Prints the median wall time of `dotnet build` and of
# its Csc task for each, their ratios, and then the per-rule times the compiler reports (-p:ReportAnalyzer=true).
#
# Builds use the shared compiler server (UseSharedCompilation=true, the SDK's default, which some sandboxes turn
# off through the environment): a cold csc process per build measures JIT, not analysis. A compiler server this
# script started is stopped, by its process id, at the end.
#
# With BASELINE_ANALYZERS=path/to/Kiln.Analyzers.dll (an earlier build of the analyzers, copied aside), each run
# also builds with that DLL, interleaved with the others, so that a change can be compared with what it replaces
# under the same load.
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
servers_before=$(pgrep -f VBCSCompiler || true)
cleanup() {
  for pid in $(pgrep -f VBCSCompiler || true); do
    grep -qx "$pid" <<<"$servers_before" || kill "$pid" 2>/dev/null || true
  done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

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
    <KilnAnalyzerDll Condition="'\$(KilnAnalyzerDll)' == ''">$analyzer_dll</KilnAnalyzerDll>
  </PropertyGroup>
  <ItemGroup>
    <Reference Include="Kiln.Spec" HintPath="$spec_dll" />
    <Analyzer Include="\$(KilnAnalyzerDll)" Condition="'\$(KilnAnalyzers)' == 'true'" />
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

build() { # $1 = true|false, $2.. extra properties; prints "wall-seconds csc-seconds", leaves the log in $work/last.log
  local start end analyzers=$1
  shift
  start=$(date +%s.%N)
  dotnet build "$work/Bench.Specs.csproj" --no-restore --no-incremental -nologo -c $configuration \
    -p:KilnAnalyzers="$analyzers" -p:UseSharedCompilation=true -v:n -clp:PerformanceSummary "$@" >"$work/last.log" 2>&1 || { tail -40 "$work/last.log"; exit 1; }
  end=$(date +%s.%N)
  local csc
  csc=$(grep -E '^\s+[0-9]+ ms\s+Csc\s' "$work/last.log" | head -1 | awk '{print $1 / 1000}')
  awk -v a="$start" -v b="$end" -v c="${csc:-0}" 'BEGIN { printf "%.3f %.3f\n", b - a, c }'
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

baseline=${BASELINE_ANALYZERS:-}
echo "Warming up (one build of each, not counted)..."
build false >/dev/null
build true >/dev/null
[ -z "$baseline" ] || build true -p:KilnAnalyzerDll="$baseline" >/dev/null

without=()
with=()
csc_without=()
csc_with=()
with_baseline=()
for ((r = 1; r <= runs; r++)); do
  read -r t0 c0 < <(build false)
  read -r t1 c1 < <(build true)
  without+=("$t0"); csc_without+=("$c0")
  with+=("$t1"); csc_with+=("$c1")
  printf 'run %d: without %.2fs (csc %.2fs)  with %.2fs (csc %.2fs)' "$r" "$t0" "$c0" "$t1" "$c1"
  if [ -n "$baseline" ]; then
    read -r t2 c2 < <(build true -p:KilnAnalyzerDll="$baseline")
    with_baseline+=("$t2")
    printf '  baseline %.2fs (csc %.2fs)' "$t2" "$c2"
  fi
  printf '  load %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
done

m0=$(printf '%s\n' "${without[@]}" | median)
m1=$(printf '%s\n' "${with[@]}" | median)
k0=$(printf '%s\n' "${csc_without[@]}" | median)
k1=$(printf '%s\n' "${csc_with[@]}" | median)
printf '\n%d spec classes, %d runs each (medians):\n' "$classes" "$runs"
awk -v a="$m0" -v b="$m1" 'BEGIN { printf "  dotnet build: without %.2fs, with %.2fs, ratio %.3f (%+.1f%%; target <= +15%%)\n", a, b, b / a, (b - a) / a * 100 }'
if [ -n "$baseline" ]; then
  m2=$(printf '%s\n' "${with_baseline[@]}" | median)
  awk -v a="$m0" -v b="$m2" 'BEGIN { printf "  baseline:     without %.2fs, with %.2fs, ratio %.3f (%+.1f%%)\n", a, b, b / a, (b - a) / a * 100 }'
fi
awk -v a="$k0" -v b="$k1" 'BEGIN { printf "  Csc task:     without %.2fs, with %.2fs, ratio %.3f (%+.1f%%)\n", a, b, b / a, (b - a) / a * 100 }'

build true -p:ReportAnalyzer=true -v:d >/dev/null
printf '\nTime inside the Kiln analyzers, as the compiler reports it (one more build, -p:ReportAnalyzer=true):\n'
grep -E '^\s+[0-9.<]+\s+[0-9<]+\s+Kiln\.Analyzers' "$work/last.log" | head -6 | sed 's/^ */  /' 
