#!/usr/bin/env bash
# The dev loop on the Shop sample, Kiln against its peers in the same run:
#
#   1. no-op `dotnet build samples/Shop` with Kiln and with -p:KilnEnabled=false;
#   2. one string literal changed in Shop.Api, then `dotnet build samples/Shop` (Kiln: publish + three images)
#      against a plain `dotnet publish` of the changed app (same configuration, runtime, self-contained);
#   3. the blob bytes that change added to the layout, and the bytes the following KilnPush uploads to a
#      docker-registry on 127.0.0.1;
#   4. edit-to-image against the .NET SDK's PublishContainer on the same app and the same base (Kiln's Debian base
#      for the Shop, pushed to the loopback registry, since the SDK pulls bases only from a registry), writing its
#      image with ContainerArchiveOutputPath: cold (the app's bin/obj removed), no-op, and one-line change.
#
#   build/bench-devloop.sh                  RUNS=5 build/bench-devloop.sh          KILN_FROM=source build/bench-devloop.sh
#   PLATFORMS=all build/bench-devloop.sh    COMPILER_SERVER=1 build/bench-devloop.sh    ENGINE_SERVER=0 build/bench-devloop.sh
#
# The Shop declares linux/amd64 and linux/arm64. Its peers make one linux-x64 image (the SDK) or one linux-x64 publish,
# so by default Kiln's builds are narrowed to the same platform (-p:KilnPlatforms=linux/amd64, as a developer narrows
# a local build); PLATFORMS=all builds every declared platform and compares against a plain publish per runtime.
# The environment decides whether C# compiles go to the shared compiler server (UseSharedCompilation); this machine's
# environment turns it off, so every compile starts csc afresh. COMPILER_SERVER=1 turns it on for the run, as on a
# developer's machine (the server's CPU time is then not counted: it is not a child of the timed build), and shuts the
# server down at the end.
#
# It measures a private snapshot of the sources (like build/bench-noop.sh), so the working tree and the committed
# kiln.lock.json are never touched; the snapshot builds Release (the lock updates itself there, with a warning).
# KILN_FROM=package (the default) builds a copy of the Shop against the Kiln.Build package packed from the snapshot,
# as a user's project gets Kiln; KILN_FROM=source builds samples/Shop as it is in the repository (Kiln's own projects
# built from source and walked by every build, its tasks in a separate task host process).
# Each timing prints wall time; CPU time (user + system, the build and every process it starts) is recorded beside it,
# because on a loaded machine the ratios of CPU seconds stay meaningful when wall times do not.
# Every command runs with --no-restore after one restoring preparation build. Rounds are interleaved (each round
# runs every variant once, in alternating order), so load from other processes falls on all alike; `uptime` is
# printed with every round. The registry is started on a free port and stopped by its PID.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${RUNS:-3}"
(( runs >= 1 )) || { echo "RUNS must be at least 1" >&2; exit 2; }
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0

for tool in docker-registry skopeo python3 jq /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

work="$(mktemp -d /tmp/kiln-bench-devloop.XXXXXX)"
registry_pid=""
# Kiln's engine server (KilnEngineServer, on by default): this run's own, its socket under $work, so that it is found
# by its command line and stopped by its PID at the end. ENGINE_SERVER=0 runs every image build in a process instead.
export XDG_RUNTIME_DIR="$work/runtime"
mkdir -m 700 "$XDG_RUNTIME_DIR"
if [[ "${ENGINE_SERVER:-}" == 0 ]]; then export KilnEngineServer=false; fi
engine_servers() {
  local cmdline pid
  for cmdline in /proc/[0-9]*/cmdline; do
    pid="${cmdline#/proc/}"; pid="${pid%/cmdline}"
    if tr '\0' ' ' < "$cmdline" 2>/dev/null | grep -q -- "engine-server --socket $XDG_RUNTIME_DIR/"; then echo "$pid"; fi
  done
}
cleanup() {
  local pid
  for pid in $(engine_servers); do kill "$pid" 2>/dev/null || true; done
  if [[ -n "$registry_pid" ]]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  if [[ "${COMPILER_SERVER:-}" == 1 ]]; then dotnet build-server shutdown --vbcscompiler >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [[ "${COMPILER_SERVER:-}" == 1 ]]; then unset UseSharedCompilation; fi
echo "== UseSharedCompilation=${UseSharedCompilation:-(unset: the compiler server is used)}"
echo "== KilnEngineServer=${KilnEngineServer:-(unset: image builds run in the engine server)}"

# shellcheck source=snapshot-sources.sh
source "$repo/build/snapshot-sources.sh"
snapshot_sources "$repo" "$work"
cd "$work/repo"

from="${KILN_FROM:-package}"
case "$from" in
  source)
    shop=samples/Shop ;;
  package)
    # The Shop as a user's repository holds it: its own directory, Kiln.Build from a feed, no Kiln sources around it.
    version="$(sed -nE 's:.*<Version>(.*)</Version>.*:\1:p' Directory.Build.props | head -1)"
    echo "== packing Kiln.Build $version (not timed)"
    dotnet pack src/Kiln.Build.Tasks -c Release -o "$work/feed" -nologo -v:q "-p:Version=$version" >"$work/pack.log" 2>&1 || { cat "$work/pack.log" >&2; exit 1; }
    shop="$work/shop"
    mkdir -p "$shop"
    cp -r samples/Shop/Specs samples/Shop/src samples/Shop/config samples/Shop/kiln.lock.json "$shop/"
    cat >"$shop/Shop.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <RootNamespace>Shop</RootNamespace>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <Deterministic>true</Deterministic>
    <DefaultItemExcludes>\$(DefaultItemExcludes);src/**;config/**</DefaultItemExcludes>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Kiln.Build" Version="$version" />
  </ItemGroup>
</Project>
XML
    # What samples/Directory.Build.props gives the apps, minus Kiln's own source paths.
    printf '<Project>\n  <PropertyGroup>\n    <Nullable>enable</Nullable>\n    <ImplicitUsings>enable</ImplicitUsings>\n    <Deterministic>true</Deterministic>\n  </PropertyGroup>\n</Project>\n' >"$shop/Directory.Build.props"
    printf '<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <packageSources>\n    <add key="kiln-bench" value="%s" />\n  </packageSources>\n</configuration>\n' "$work/feed" >"$shop/nuget.config"
    export NUGET_PACKAGES="$work/nuget-packages" # the freshly packed version, never one cached from another run
    ;;
  *) echo "KILN_FROM must be package or source" >&2; exit 2 ;;
esac
echo "== Kiln from: $from ($shop)"
app="$shop/src/Shop.Api"
program="$app/Program.cs"
grep -q '"' "$program" || { echo "no string literal in $program" >&2; exit 2; }

ms() { echo $(( ($2 - $1) / 1000000 )); }
now() { date +%s%N; }
load() { uptime | sed -E 's/.*load average: //'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# Runs "$@" quietly, prints its wall time in ms and leaves its CPU time (user + system of it and its children, in
# ms) in $work/last.cpu; the output goes to $work/last.log and is shown on failure.
timed() {
  local t0 t1
  t0=$(now)
  /usr/bin/time -f '%U %S' -o "$work/last.time" "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; echo "failed: $*" >&2; return 1; }
  t1=$(now)
  awk '{ printf "%d\n", ($1 + $2) * 1000 }' "$work/last.time" >"$work/last.cpu"
  ms "$t0" "$t1"
}
edits=0
# One changed string literal in Shop.Api: the first literal of Program.cs gets a new suffix.
edit() {
  edits=$((edits + 1))
  python3 - "$program" "$edits" <<'PY'
import re, sys
path, n = sys.argv[1], sys.argv[2]
text = open(path).read()
text, count = re.subn(r'"((?:[^"\\\n]|\\.)*?)(?: edit \d+)?"', lambda m: '"' + m.group(1) + ' edit ' + n + '"', text, count=1)
assert count == 1
open(path, "w").write(text)
PY
}
layout="$shop/bin/Release/kiln/oci"
blob_list() { find "$layout/blobs" -type f -printf '%f %s\n' 2>/dev/null | LC_ALL=C sort; }

kiln_build=(dotnet build "$shop" -c Release --no-restore -nologo -v:q)
plain_build=(dotnet build "$shop" -c Release --no-restore -nologo -v:q -p:KilnEnabled=false)
plain_publish=(dotnet publish "$app" -c Release -r linux-x64 --self-contained --no-restore -nologo -v:q -o "$work/plain-publish")
case "${PLATFORMS:-linux/amd64}" in
  all)
    # Every declared platform: the plain publish is one per runtime, as Kiln's build publishes one per platform.
    plain_publish=(bash -c 'set -e; for rid in linux-x64 linux-arm64; do dotnet publish "$1" -c Release -r "$rid" --self-contained --no-restore -nologo -v:q -o "$2/$rid"; done' _ "$app" "$work/plain-publish")
    platform_props=() ;;
  linux/amd64) platform_props=(-p:KilnPlatforms=linux/amd64) ;;
  *) echo "PLATFORMS must be linux/amd64 (the default) or all" >&2; exit 2 ;;
esac
echo "== Kiln platforms: ${PLATFORMS:-linux/amd64}"

echo "== preparing (restore and a full Release build, not timed)"
dotnet build "$shop" -c Release -nologo -v:q >"$work/prepare.log" 2>&1 || { cat "$work/prepare.log" >&2; exit 1; }
# The app's assets for the runtimes the timed commands publish (--no-restore everywhere after this).
restore_app() {
  if [[ "${PLATFORMS:-}" == all ]]; then dotnet restore "$app" "-p:RuntimeIdentifiers=linux-x64%3Blinux-arm64" -nologo -v:q
  else dotnet restore "$app" -r linux-x64 -nologo -v:q; fi
}
restore_app >>"$work/prepare.log" 2>&1

echo "== starting docker-registry on 127.0.0.1"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
registry="127.0.0.1:$port"
mkdir -p "$work/registry"
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' "$work/registry" "$registry" >"$work/registry.yml"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
export DOTNET_CONTAINER_INSECURE_REGISTRIES="$registry"
# The builds and the push name the same registry: settings that differ between them (the deployments pin images
# under KilnRegistry) would turn every build after a push into a rebuild. Each edit rebuilds the same version, so the
# push overwrites the bench's own tag deliberately (KILN1061).
registry_props=("-p:KilnRegistry=$registry" -p:KilnRepositoryPrefix=bench "-p:KilnInsecureRegistries=$registry" -p:KilnAllowTagOverwrite=true)
registry_props+=(${platform_props[@]+"${platform_props[@]}"})
kiln_build+=("${registry_props[@]}")
plain_build+=("${registry_props[@]}")
kiln_push=(dotnet build "$shop" -c Release --no-restore -nologo -v:n -t:KilnPush "${registry_props[@]}")

# The same base for the SDK: the base layers of Kiln's shop-api image (its Debian package base), as an image of their own.
python3 - "$shop/bin/Release/kiln" "$work/base" <<'PY'
import hashlib, json, os, shutil, sys
kiln, out = sys.argv[1], sys.argv[2]
import glob
# The newest shop-api manifest (the spec's version moves with every release of the sample).
newest = max(glob.glob(os.path.join(kiln, "manifests", "shop-api-*.json")), key=os.path.getmtime)
document = json.load(open(newest))
# A multi-platform server's Kiln manifest holds a section per platform: the SDK's base is the linux/amd64 one.
manifest = next(p["content"] for p in document["platforms"] if p["platform"] == "linux/amd64") if "platforms" in document else document["content"]
layers = [l for l in manifest["layers"] if l["source"].startswith("base:")]
blobs = os.path.join(out, "blobs", "sha256"); os.makedirs(blobs)
def put(data):
    d = hashlib.sha256(data).hexdigest(); open(os.path.join(blobs, d), "wb").write(data); return "sha256:" + d, len(data)
for l in layers:
    shutil.copy(os.path.join(kiln, "oci", "blobs", "sha256", l["digest"][7:]), os.path.join(blobs, l["digest"][7:]))
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
                     "rootfs": {"type": "layers", "diff_ids": [l["diffId"] for l in layers]}}, separators=(",", ":")).encode()
cd, cn = put(config)
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
                "layers": [{"mediaType": l["mediaType"], "digest": l["digest"], "size": l["size"]} for l in layers]}, separators=(",", ":")).encode()
md, mn = put(m)
open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(out, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn, "annotations": {"org.opencontainers.image.ref.name": "shop-base:1"}}]}))
PY
skopeo copy -q --dest-tls-verify=false "oci:$work/base:shop-base:1" "docker://$registry/shop-base:1"
sdk_container=(dotnet publish "$app" -c Release -r linux-x64 --self-contained --no-restore -nologo -v:q -t:PublishContainer
  "-p:ContainerBaseImage=$registry/shop-base:1" -p:ContainerRepository=shop-api -p:ContainerImageTag=bench
  "-p:ContainerArchiveOutputPath=$work/sdk-image.tar.gz")

echo "== warming up (one of each, not timed)"
timed "${sdk_container[@]}" >/dev/null
timed "${plain_publish[@]}" >/dev/null
timed "${kiln_build[@]}" >/dev/null
timed "${kiln_push[@]}" >/dev/null

declare -A series
# record NAME WALL_MS: the wall time, and the CPU time of the same command as NAME_cpu.
record() { series[$1]+="$2 "; series[$1_cpu]+="$(cat "$work/last.cpu") "; }
record_value() { series[$1]+="$2 "; }
for round in $(seq "$runs"); do
  echo "== round $round (load: $(load))"
  # No-op: Kiln on and off (and the SDK's PublishContainer, which always writes its archive).
  if (( round % 2 )); then
    record noop_kiln "$(timed "${kiln_build[@]}")"; record noop_plain "$(timed "${plain_build[@]}")"
  else
    record noop_plain "$(timed "${plain_build[@]}")"; record noop_kiln "$(timed "${kiln_build[@]}")"
  fi
  record noop_sdk "$(timed "${sdk_container[@]}")"

  # One changed line, each tool after its own edit (so none finds the other's compile up to date).
  before="$(blob_list)"
  edit; record edit_kiln "$(timed "${kiln_build[@]}")"
  new_bytes="$(LC_ALL=C comm -13 <(echo "$before") <(blob_list) | awk '{ s += $2 } END { print s + 0 }')"
  record_value blob_bytes "$new_bytes"
  timed "${kiln_push[@]}" >/dev/null
  pushed="$(grep -oE '[0-9]+ blob\(s\) uploaded \([0-9]+ bytes\)' "$work/last.log" | tail -1 | sed -E 's/.*\(([0-9]+) bytes\).*/\1/')"
  record_value push_bytes "${pushed:-0}"
  edit; record edit_publish "$(timed "${plain_publish[@]}")"
  edit; record edit_sdk "$(timed "${sdk_container[@]}")"

  # Cold: the app's bin/obj gone (NuGet cache, base and the tools' own builds warm), both tools from there.
  rm -rf "$app/bin" "$app/obj" "$shop/bin/Release/kiln" "$shop/obj/Release/kiln"
  restore_app >/dev/null
  record cold_kiln "$(timed "${kiln_build[@]}")"
  rm -rf "$app/bin" "$app/obj"
  restore_app >/dev/null
  record cold_sdk "$(timed "${sdk_container[@]}")"
  timed "${kiln_build[@]}" >/dev/null # back to a built state for the next round's no-op

  printf '   no-op: kiln %s ms, off %s ms, sdk %s ms | edit: kiln %s ms, publish %s ms, sdk %s ms | new blobs %s B, pushed %s B | cold: kiln %s ms, sdk %s ms\n' \
    "$(echo ${series[noop_kiln]} | awk '{print $NF}')" "$(echo ${series[noop_plain]} | awk '{print $NF}')" "$(echo ${series[noop_sdk]} | awk '{print $NF}')" \
    "$(echo ${series[edit_kiln]} | awk '{print $NF}')" "$(echo ${series[edit_publish]} | awk '{print $NF}')" "$(echo ${series[edit_sdk]} | awk '{print $NF}')" \
    "$new_bytes" "${pushed:-0}" \
    "$(echo ${series[cold_kiln]} | awk '{print $NF}')" "$(echo ${series[cold_sdk]} | awk '{print $NF}')"
done

m() { tr ' ' '\n' <<<"${series[$1]}" | grep . | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
layout_bytes="$(du -sb "$layout" | cut -f1)"
echo
echo "== medians of $runs round(s) (load now: $(load))"
echo "Kiln from $from; wall ms (CPU ms)"
echo "no-op dotnet build of the Shop:         Kiln $(m noop_kiln) ms ($(m noop_kiln_cpu)), KilnEnabled=false $(m noop_plain) ms ($(m noop_plain_cpu)), ratio $(ratio "$(m noop_kiln)" "$(m noop_plain)") (CPU $(ratio "$(m noop_kiln_cpu)" "$(m noop_plain_cpu)")) (target <= 1.05)"
echo "one line changed in Shop.Api:           Kiln build $(m edit_kiln) ms ($(m edit_kiln_cpu)), plain dotnet publish $(m edit_publish) ms ($(m edit_publish_cpu)), ratio $(ratio "$(m edit_kiln)" "$(m edit_publish)") (CPU $(ratio "$(m edit_kiln_cpu)" "$(m edit_publish_cpu)")) (target <= 1.15)"
echo "new blob bytes in the layout:           $(m blob_bytes) B (target <= 1 MB)"
echo "bytes uploaded by the following push:   $(m push_bytes) B (target <= 1 MB)"
echo "layout size (three images):             $layout_bytes B"
echo "edit-to-image vs SDK PublishContainer:  Kiln $(m edit_kiln) ms ($(m edit_kiln_cpu)), SDK $(m edit_sdk) ms ($(m edit_sdk_cpu)), ratio $(ratio "$(m edit_kiln)" "$(m edit_sdk)") (CPU $(ratio "$(m edit_kiln_cpu)" "$(m edit_sdk_cpu)")) (target <= 0.7)"
echo "no-op vs SDK PublishContainer:          Kiln $(m noop_kiln) ms, SDK $(m noop_sdk) ms ($(m noop_sdk_cpu)), ratio $(ratio "$(m noop_kiln)" "$(m noop_sdk)") (CPU $(ratio "$(m noop_kiln_cpu)" "$(m noop_sdk_cpu)"))"
echo "cold (app bin/obj removed) vs SDK:      Kiln $(m cold_kiln) ms ($(m cold_kiln_cpu); three images), SDK $(m cold_sdk) ms ($(m cold_sdk_cpu); one image), ratio $(ratio "$(m cold_kiln)" "$(m cold_sdk)") (CPU $(ratio "$(m cold_kiln_cpu)" "$(m cold_sdk_cpu)"))"
