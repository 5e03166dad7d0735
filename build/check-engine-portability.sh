#!/usr/bin/env bash
# The packed engine's ReadyToRun code is platform-specific, the engine is not: Kiln.Build packs Kiln's libraries and
# System.CommandLine compiled for one RID (KilnEngineReadyToRunRuntime, linux-x64 by default) under
# tools/engine/runtimes/<rid>/ beside their IL, and a host of another platform must run the IL. This packs the engine
# both for this machine's RID and for a foreign one (linux-arm64 on x64, linux-x64 elsewhere), checks which assemblies
# carry native code for which machine, and runs both engines here: --version, a usage error, and, when the Shop sample
# has been built (dotnet build samples/Shop -c Release), an `engine evaluate` of it. Their outputs must be identical.
#
#   build/check-engine-portability.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/kiln-engine-portability.XXXXXX)
trap 'rm -rf "$work"' EXIT
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_NOLOGO=1
case "$(uname -m)" in x86_64) native=linux-x64 foreign=linux-arm64 ;; *) native=linux-arm64 foreign=linux-x64 ;; esac

for rid in "$native" "$foreign"; do
  dotnet pack "$root/src/Kiln.Build.Tasks" -c Release -o "$work/feed-$rid" -p:Version=0.1.0 -p:KilnEngineReadyToRunRuntime=$rid -nologo -v:q >/dev/null
  mkdir -p "$work/$rid" && (cd "$work/$rid" && unzip -q "$work/feed-$rid/Kiln.Build.0.1.0.nupkg" 'tools/engine/*')
  python3 - "$work/$rid/tools/engine" <<'PY'
import os, struct, sys
machines = {0x14C: "IL", 0x8664 ^ 0x7B79: "linux-x64", 0xAA64 ^ 0x7B79: "linux-arm64"}
for folder, _, files in sorted(os.walk(sys.argv[1])):
    for name in sorted(f for f in files if f.endswith(".dll") and not f.endswith(".resources.dll")):
        data = open(os.path.join(folder, name), "rb").read(4096)
        machine = struct.unpack_from("<H", data, struct.unpack_from("<I", data, 0x3C)[0] + 4)[0]
        if machine != 0x14C or "runtimes" in folder:
            print(f"  {os.path.relpath(os.path.join(folder, name), sys.argv[1])}: {machines.get(machine, hex(machine))}")
PY
done

run() { # engine-dir arguments...
  local engine=$1; shift
  (cd "$root/samples/Shop" && dotnet exec "$engine/kiln.dll" "$@" 2>&1; echo "exit $?")
}
checks=("--version" "engine build --assembly x.dll")
shop=$root/samples/Shop/obj/Release/net10.0/Shop.dll
if [[ -f $shop ]]; then
  checks+=("engine evaluate --assembly $shop --project-dir $root/samples/Shop --output $work/out/ --intermediate $work/obj/ --configuration Release --platform linux/amd64 --publish-list $work/publish-list.txt")
fi
for check in "${checks[@]}"; do
  # shellcheck disable=SC2086
  a=$(run "$work/$native/tools/engine" $check); b=$(run "$work/$foreign/tools/engine" $check)
  if [[ "$a" != "$b" ]]; then
    printf 'DIFFERENT: kiln %s\n--- %s ReadyToRun:\n%s\n--- %s ReadyToRun (IL here):\n%s\n' "$check" "$native" "$a" "$foreign" "$b"
    exit 1
  fi
  printf 'same: kiln %s -> %s\n' "${check:0:60}" "$(tail -1 <<<"$a")"
done
