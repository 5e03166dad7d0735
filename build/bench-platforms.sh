#!/usr/bin/env bash
# What a second platform costs: the Shop sample built for linux/amd64 + linux/arm64 (as its specs declare) against the
# same build narrowed to linux/amd64 (-p:KilnPlatforms=linux/amd64), in the same run, interleaved:
#
#   1. cold: the Shop's and its apps' bin/ and obj/ removed (the NuGet packages and Kiln's download cache under
#      ~/.cache/kiln stay warm, as on any developer machine after its first build: the network is not measured);
#   2. no-op: the same build again, nothing changed.
#
#   build/bench-platforms.sh                RUNS=5 build/bench-platforms.sh
#
# It measures a private snapshot of the sources (build/snapshot-sources.sh), so the working tree and the committed
# kiln.lock.json are never touched. The targets: two platforms cold <= 2.0x one platform cold; a no-op as cheap with
# two platforms as with one. Each timing prints wall time and CPU time (user + system of the build and its children).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${RUNS:-3}"
(( runs >= 1 )) || { echo "RUNS must be at least 1" >&2; exit 2; }
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
command -v /usr/bin/time >/dev/null || { echo "missing: /usr/bin/time (apt-get install -y time)" >&2; exit 2; }

work="$(mktemp -d /tmp/kiln-bench-platforms.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=snapshot-sources.sh
source "$repo/build/snapshot-sources.sh"
snapshot_sources "$repo" "$work"
cd "$work/repo"
shop=samples/Shop

now() { date +%s%N; }
load() { uptime | sed -E 's/.*load average: //'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
declare -A series
# timed NAME command...: records the wall time as NAME and the CPU time as NAME_cpu (both in ms).
timed() {
  local name="$1" t0 t1
  shift
  t0=$(now)
  /usr/bin/time -f '%U %S' -o "$work/last.time" "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; echo "failed: $*" >&2; return 1; }
  t1=$(now)
  series[$name]+="$(( (t1 - t0) / 1000000 )) "
  series[${name}_cpu]+="$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$work/last.time") "
}
m() { tr ' ' '\n' <<<"${series[$1]}" | grep . | median; }
clean() {
  rm -rf "$shop/bin" "$shop/obj" "$shop"/src/*/bin "$shop"/src/*/obj
  dotnet restore "$shop" -nologo -v:q >/dev/null
  for app in "$shop"/src/*/*.csproj; do dotnet restore "$app" -nologo -v:q >/dev/null; done
}

one=(dotnet build "$shop" -c Release --no-restore -nologo -v:q -p:KilnPlatforms=linux/amd64)
two=(dotnet build "$shop" -c Release --no-restore -nologo -v:q)

echo "== preparing (restore, both platforms built once so that downloads are cached; not timed)"
dotnet build "$shop" -c Release -nologo -v:q >"$work/prepare.log" 2>&1 || { cat "$work/prepare.log" >&2; exit 1; }
grep -q '"platforms"' "$shop/bin/Release/kiln/release.json" || echo "warning: release.json names no platforms: does the Shop declare two?" >&2

for round in $(seq "$runs"); do
  echo "== round $round (load: $(load))"
  if (( round % 2 )); then order=(one two); else order=(two one); fi
  for variant in "${order[@]}"; do
    clean
    if [[ "$variant" == one ]]; then timed cold_one "${one[@]}"; timed noop_one "${one[@]}"; else timed cold_two "${two[@]}"; timed noop_two "${two[@]}"; fi
  done
  printf '   cold: one platform %s ms, two %s ms | no-op: one %s ms, two %s ms\n' \
    "$(awk '{print $NF}' <<<"${series[cold_one]}")" "$(awk '{print $NF}' <<<"${series[cold_two]}")" \
    "$(awk '{print $NF}' <<<"${series[noop_one]}")" "$(awk '{print $NF}' <<<"${series[noop_two]}")"
done

echo
echo "== medians of $runs round(s) (load now: $(load)); wall ms (CPU ms)"
echo "cold Shop build:  linux/amd64 $(m cold_one) ms ($(m cold_one_cpu)), linux/amd64 + linux/arm64 $(m cold_two) ms ($(m cold_two_cpu)), ratio $(ratio "$(m cold_two)" "$(m cold_one)") (CPU $(ratio "$(m cold_two_cpu)" "$(m cold_one_cpu)")) (target <= 2.0)"
echo "no-op Shop build: linux/amd64 $(m noop_one) ms ($(m noop_one_cpu)), linux/amd64 + linux/arm64 $(m noop_two) ms ($(m noop_two_cpu)), ratio $(ratio "$(m noop_two)" "$(m noop_one)") (CPU $(ratio "$(m noop_two_cpu)" "$(m noop_one_cpu)")) (target: as cheap)"
