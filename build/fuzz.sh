#!/usr/bin/env bash
# Mutation fuzzing of every Kiln reader that takes outside bytes (tests/Kiln.Fuzz; docs/reliability.md).
# In-process and seeded: input i of a reader is a pure function of (seed, reader, i), so a failure replays from the
# three numbers it prints; its input is also written to a file.
#
#   build/fuzz.sh                                   every reader, 100,000 inputs each, seed 20261130
#   build/fuzz.sh --jobs 2                          the same, one process per reader, two at a time
#   build/fuzz.sh --reader deb,layer-tar --iterations 5000 --seed 7
#   build/fuzz.sh --reader deb --seed 7 --iteration 4242          replay one input (prints the exception)
#   build/fuzz.sh --reader deb --replay /tmp/kiln-fuzz-failures/deb-seed7-iter4242.bin
#   build/fuzz.sh --list                            the readers
# Other options: --time-limit SECONDS (per input, default 20; a hang ends the run with exit code 3),
# --failures DIR (where failing inputs go, default $TMPDIR/kiln-fuzz-failures).
# Exit code 0 when every input ended in a result or a coded error.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

jobs=1
readers=""
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --reader) readers="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

# Release: the JIT optimises, so the run measures the readers and not the debugger support.
if ! build_log="$(dotnet build "$repo/tests/Kiln.Fuzz" -c Release -v q 2>&1)"; then
  echo "$build_log" >&2
  exit 2
fi
exe="$repo/tests/Kiln.Fuzz/bin/Release/net10.0/Kiln.Fuzz"

if [[ "$jobs" -le 1 ]]; then
  exec "$exe" ${readers:+--reader "$readers"} "${args[@]}"
fi

# One process per reader, $jobs at a time; each writes its own log, the summary is printed at the end.
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
if [[ -z "$readers" ]]; then
  readers="$("$exe" --list | awk '{print $1}' | paste -sd, -)"
fi
start=$SECONDS
status=0
tr ',' '\n' <<<"$readers" | xargs -P "$jobs" -I{} sh -c 'exe="$0" reader="$1" logs="$2"; shift 2; "$exe" --reader "$reader" "$@" > "$logs/$reader.log" 2>&1; echo $? > "$logs/$reader.rc"' "$exe" {} "$logs" "${args[@]}" || true
for rc in "$logs"/*.rc; do
  reader="$(basename "$rc" .rc)"
  grep -v '^kiln fuzz:\|^total:' "$logs/$reader.log" || true
  [[ "$(cat "$rc")" == 0 ]] || status=1
done
echo "total: readers=$(ls "$logs"/*.rc | wc -l) jobs=$jobs wall=$((SECONDS - start))s exit=$status"
exit $status
