#!/usr/bin/env bash
# Times a no-op `dotnet build samples/Shop --no-restore` with Kiln (the default) and without it
# (-p:KilnEnabled=false), in the same run, and prints both medians and their ratio.
#
#   build/bench-noop.sh [--in-place] [extra dotnet build arguments...]     e.g. build/bench-noop.sh -c Release
#   RUNS=9 WARMUP=3 build/bench-noop.sh
#
# By default it measures a private snapshot of the sources (src/, samples/, analyzers/ and the root build files,
# without bin/ and obj/) in a temp directory, as a fresh clone would have them: the sample builds Kiln from src/
# through ProjectReferences, so an edit or a build in the working tree during the run would otherwise turn a no-op
# into real work. --in-place measures the working tree itself.
#
# Both variants are warmed up first (the first build after a switch of global properties may do real work), then
# timed RUNS times each, interleaved and in alternating order, so that load from other processes on the machine
# falls on both alike. Each run is timed by hyperfine when it is installed (apt-get install -y hyperfine), else by
# date +%s%N around the process. The script checks that release.json was not rewritten while it measured: a run
# that builds images is not a no-op.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
in_place=false
if [[ "${1:-}" == --in-place ]]; then
  in_place=true
  shift
fi

runs="${RUNS:-7}"
warmup="${WARMUP:-2}"
(( runs >= 5 )) || { echo "RUNS must be at least 5" >&2; exit 2; }
extra=("$@")

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

with_kiln=(dotnet build samples/Shop --no-restore -nologo -v:q "${extra[@]}")
without_kiln=(dotnet build samples/Shop --no-restore -nologo -v:q -p:KilnEnabled=false "${extra[@]}")

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if $in_place; then
  cd "$repo"
else
  # shellcheck source=snapshot-sources.sh
  source "$repo/build/snapshot-sources.sh"
  snapshot_sources "$repo" "$work"
  cd "$work/repo"
fi

if command -v hyperfine >/dev/null && command -v jq >/dev/null; then
  timer="hyperfine"
else
  timer="date +%s%N"
fi

# Prints the wall time of one run of "$@" in milliseconds; the build's own output goes to $work/last.log.
time_once() {
  if [[ "$timer" == hyperfine ]]; then
    # -N: no intermediate shell, so nothing but the build is timed. The command is split on whitespace.
    hyperfine -N --style none --runs 1 --export-json "$work/run.json" --output "$work/last.log" -- "$*" >/dev/null \
      || { cat "$work/last.log" >&2; return 1; }
    jq -r '.results[0].mean * 1000 | floor' "$work/run.json"
  else
    local start end
    start=$(date +%s%N)
    "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; return 1; }
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
  fi
}

median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

echo "preparing: dotnet build samples/Shop${extra[*]:+ ${extra[*]}} (restore and a full build, not timed)"
dotnet build samples/Shop -nologo -v:q "${extra[@]}" >"$work/prepare.log" 2>&1 || { cat "$work/prepare.log" >&2; exit 1; }

echo "warming up: $warmup run(s) of each variant"
for _ in $(seq "$warmup"); do
  time_once "${without_kiln[@]}" >/dev/null
  time_once "${with_kiln[@]}" >/dev/null
done

release="$(find samples/Shop/bin -path '*/kiln/release.json' -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2)"
release_stamp="$(stat -c %Y.%y "$release" 2>/dev/null || echo none)"

echo "timing: $runs run(s) of each, interleaved (timer: $timer)"
printf '%4s %12s %12s\n' run "with Kiln" "without"
: >"$work/with"; : >"$work/without"
for i in $(seq "$runs"); do
  if (( i % 2 )); then
    a=$(time_once "${with_kiln[@]}"); b=$(time_once "${without_kiln[@]}")
  else
    b=$(time_once "${without_kiln[@]}"); a=$(time_once "${with_kiln[@]}")
  fi
  echo "$a" >>"$work/with"; echo "$b" >>"$work/without"
  printf '%4d %9d ms %9d ms\n' "$i" "$a" "$b"
done

if [[ "$(stat -c %Y.%y "$release" 2>/dev/null || echo none)" != "$release_stamp" ]]; then
  echo "warning: $release was rewritten while timing: the 'no-op' builds did image work" >&2
fi

with_median=$(median <"$work/with")
without_median=$(median <"$work/without")
echo
echo "command:         ${with_kiln[*]}   vs   ... -p:KilnEnabled=false"
echo "median with Kiln:    $with_median ms"
echo "median without Kiln: $without_median ms"
awk -v a="$with_median" -v b="$without_median" 'BEGIN {
  printf "ratio with/without: %.3f (Kiln adds %+.1f%%; target: at most +10%%)\n", a / b, (a / b - 1) * 100 }'
