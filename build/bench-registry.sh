#!/usr/bin/env bash
# Push and pull throughput of Kiln's registry client against skopeo, to loopback CNCF registries, in the same run,
# plus the blob bytes a second push of the unchanged image uploads (target: 0).
#
#   build/bench-registry.sh                 SIZE_MB=256 LAYERS=4 RUNS=3 build/bench-registry.sh
#
# The image is an OCI layout with LAYERS gzip layers of random content (SIZE_MB in total), written by python3. Each
# run starts fresh registries (docker-registry, own storage, free 127.0.0.1 port) so that no blob is already there:
# kiln pushes to one, skopeo to another, and each pulls back from the registry it pushed to, into an empty place.
# Registries are stopped by their process ids. Needs: docker-registry, skopeo, python3, the .NET SDK.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size_mb="${SIZE_MB:-256}"
layers="${LAYERS:-4}"
runs="${RUNS:-3}"
work="$(mktemp -d /tmp/kiln-bench-registry.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

for tool in docker-registry skopeo python3; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

echo "== building kiln (Release)"
dotnet build "$repo/src/Kiln.Cli/Kiln.Cli.csproj" -c Release -o "$work/kiln" -nologo -v:q >/dev/null
kiln=(dotnet "$work/kiln/kiln.dll")

echo "== writing a ${size_mb} MiB image in ${layers} layers"
python3 - "$work/image" "$size_mb" "$layers" <<'PY'
import gzip, hashlib, json, os, sys
root, size_mb, layers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
blobs = os.path.join(root, "oci", "blobs", "sha256"); os.makedirs(blobs)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, d), "wb").write(data)
    return "sha256:" + d, len(data)
descs, diffs = [], []
for i in range(layers):
    raw = os.urandom(size_mb * 1024 * 1024 // layers)
    diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
    d, n = put(gzip.compress(raw, compresslevel=1, mtime=0))
    descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n})
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": diffs}}, separators=(",", ":")).encode()
cd, cn = put(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn}, "layers": descs}, separators=(",", ":")).encode()
md, mn = put(manifest)
open(os.path.join(root, "oci", "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(root, "oci", "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn, "annotations": {"org.opencontainers.image.ref.name": "bench:1.0.0"}}]}))
open(os.path.join(root, "release.json"), "w").write(json.dumps({"kind": "KilnRelease", "schemaVersion": 1, "layout": "oci", "images": [{"name": "bench", "version": "1.0.0", "reference": "bench:1.0.0", "digest": md, "mediaType": "application/vnd.oci.image.manifest.v1+json", "size": mn}]}, indent=2))
print(md)
PY
digest="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["images"][0]["digest"])' "$work/image/release.json")"
bytes="$(du -sb "$work/image/oci/blobs" | cut -f1)"

start_registry() { # $1: name → prints host:port, records the pid
  local dir="$work/registry-$1" port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  mkdir -p "$dir/storage"
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$dir/storage" "$port" > "$dir/config.yml"
  docker-registry serve "$dir/config.yml" >/dev/null 2>&1 &
  pids+=("$!")
  echo "$!" > "$dir/pid"
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  echo "127.0.0.1:$port"
}
stop_registry() { kill "$(cat "$work/registry-$1/pid")" 2>/dev/null || true; wait "$(cat "$work/registry-$1/pid")" 2>/dev/null || true; rm -rf "$work/registry-$1"; }
now() { date +%s%N; }
mibps() { python3 -c "import sys; print(f'{int(sys.argv[1])/1048576/((int(sys.argv[3])-int(sys.argv[2]))/1e9):.1f}')" "$bytes" "$1" "$2"; }

declare -a kpush kpull spush spull
second_bytes=""
for run in $(seq "$runs"); do
  a="$(start_registry kiln)"; b="$(start_registry skopeo)"
  t0=$(now); "${kiln[@]}" push "$work/image" --registry "$a" --quiet >/dev/null; t1=$(now)
  kpush+=("$(mibps "$t0" "$t1")")
  second="$("${kiln[@]}" push "$work/image" --registry "$a" --quiet | tail -1)"
  second_bytes="$(sed -E 's/.*uploaded \(([^)]*)\).*/\1/' <<<"$second")"
  rm -rf "$work/cache"
  t0=$(now); "${kiln[@]}" pull "$a/bench:1.0.0@$digest" --cache-dir "$work/cache" >/dev/null; t1=$(now)
  kpull+=("$(mibps "$t0" "$t1")")
  t0=$(now); skopeo copy -q --dest-tls-verify=false "oci:$work/image/oci:bench:1.0.0" "docker://$b/bench:1.0.0"; t1=$(now)
  spush+=("$(mibps "$t0" "$t1")")
  rm -rf "$work/skopeo-pull"
  t0=$(now); skopeo copy -q --src-tls-verify=false "docker://$b/bench:1.0.0" "oci:$work/skopeo-pull:bench"; t1=$(now)
  spull+=("$(mibps "$t0" "$t1")")
  stop_registry kiln; stop_registry skopeo
  echo "run $run: kiln push ${kpush[-1]} MiB/s, skopeo push ${spush[-1]} MiB/s; kiln pull ${kpull[-1]} MiB/s, skopeo pull ${spull[-1]} MiB/s; second kiln push uploaded ${second_bytes}"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "image: $((bytes / 1048576)) MiB in ${layers} layers, ${runs} runs, loopback docker-registry, medians:"
echo "  push: kiln $(median "${kpush[@]}") MiB/s, skopeo $(median "${spush[@]}") MiB/s"
echo "  pull: kiln $(median "${kpull[@]}") MiB/s, skopeo $(median "${spull[@]}") MiB/s"
echo "  second push of the unchanged image: ${second_bytes} of blobs uploaded"
