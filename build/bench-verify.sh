#!/usr/bin/env bash
# Times `kiln verify` against mtree (Debian mtree-netbsd) and AIDE checking the same root file system of FILES files
# (default 20,000), in the same run, and prints each median and kiln's ratio to the fastest peer.
#
#   build/bench-verify.sh                 RUNS=7 FILES=50000 build/bench-verify.sh
#
# What each tool does per run is the same work: walk the tree, lstat every entry, hash every regular file (SHA-256)
# and compare type, mode, owner, size, link target and digest with a baseline made beforehand (kiln: the image's
# inventory; mtree: a spec from `mtree -c -k type,mode,uid,gid,size,link,sha256`; AIDE: a database from `aide --init`
# with the rule p+u+g+s+sha256+ftype). The tree is a real Kiln image (one Layer.Directory) built from this
# repository's source and unpacked by umoci, so kiln checks what it would check on an instance.
# Every tool runs once to warm the page cache, then RUNS times, interleaved, so load from other processes falls on
# all alike. kiln hashes in parallel (one thread per core); mtree and AIDE are single-threaded, so the script also
# times `kiln verify --threads 1` to show what comes from the algorithm and what from the cores.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
files="${FILES:-20000}"
runs="${RUNS:-5}"
for tool in mtree aide umoci python3 dotnet; do
  command -v "$tool" >/dev/null || { echo "bench-verify: '$tool' is not installed (apt-get install -y mtree-netbsd aide umoci python3)" >&2; exit 2; }
done

work="$(mktemp -d)"
trap '[[ -n "${KEEP:-}" ]] || rm -rf "$work"' EXIT   # KEEP=1 keeps it for a look
echo "== work directory: $work"

echo "== generating $files files"
python3 - "$work/proj/tree" "$files" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
per_dir = 200
for i in range(count):
    d = os.path.join(root, f"d{i // (per_dir * 50):03d}", f"s{(i // per_dir) % 50:03d}")
    os.makedirs(d, exist_ok=True)
    # Sizes like a runtime's tree: mostly small files, some tens of KiB.
    size = rng.choice([64, 512, 2048, 4096, 8192, 16384, 65536])
    with open(os.path.join(d, f"f{i:06d}.bin"), "wb") as f:
        f.write(rng.randbytes(size))
PY

echo "== building the image with Kiln from source"
cat > "$work/proj/Directory.Build.props" <<XML
<Project><PropertyGroup><KilnRepoRoot>$repo/</KilnRepoRoot><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup></Project>
XML
cat > "$work/proj/Directory.Build.targets" <<XML
<Project><Import Project="$repo/samples/Kiln.FromSource.targets" /></Project>
XML
cat > "$work/proj/Bench.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <Import Project="$repo/samples/Kiln.FromSource.props" />
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><DefaultItemExcludes>\$(DefaultItemExcludes);tree/**</DefaultItemExcludes></PropertyGroup>
</Project>
XML
cat > "$work/proj/Specs.cs" <<'CS'
using System.Collections.Immutable;
using Kiln.Spec;

namespace Bench;

public sealed class Tree : ServerSpec
{
    public override string Name => "bench-tree";
    public override string Version => "1.0.0";
    public override ImmutableArray<Layer> Layers => [Layer.Directory("tree", to: "/srv/tree")];
    public override Entrypoint Entrypoint => new("/srv/tree/run");
}
CS
dotnet build "$work/proj" -c Release -nologo -v:q -p:KilnLockMode=Update >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
out="$work/proj/bin/Release/kiln"
manifest="$out/manifests/bench-tree-1.0.0.json"
umoci unpack --image "$out/oci:bench-tree:1.0.0" "$work/bundle" >/dev/null
rootfs="$work/bundle/rootfs"
echo "   $(find "$rootfs" | wc -l) entries in $rootfs"

echo "== publishing the kiln CLI (Release)"
dotnet publish "$repo/src/Kiln.Cli" -c Release -o "$work/cli" -nologo -v:q >"$work/publish.log" 2>&1 || { cat "$work/publish.log"; exit 1; }
kiln=(dotnet "$work/cli/kiln.dll")

echo "== baselines for the peers"
mtree -c -k type,mode,uid,gid,size,link,sha256 -p "$rootfs" > "$work/tree.mtree"
cat > "$work/aide.conf" <<CONF
database_in=file:$work/aide.db
database_out=file:$work/aide.db.new
gzip_dbout=no
report_url=stdout
KilnRule = p+u+g+s+sha256+ftype
$rootfs KilnRule
CONF
aide --config "$work/aide.conf" --init >/dev/null 2>&1 || true
mv "$work/aide.db.new" "$work/aide.db"

declare -A cmd
cmd[kiln]="${kiln[*]} verify --manifest $manifest --root $rootfs"
cmd[kiln-1-thread]="${kiln[*]} verify --manifest $manifest --root $rootfs --threads 1"
cmd[mtree]="mtree -p $rootfs -f $work/tree.mtree"
cmd[aide]="aide --config $work/aide.conf --check"
order=(kiln mtree aide kiln-1-thread)

# Each must find the tree unchanged, else it timed a different job.
for name in "${order[@]}"; do
  if ! ${cmd[$name]} >"$work/$name.out" 2>&1; then
    echo "bench-verify: '$name' did not report a clean tree:"; tail -5 "$work/$name.out"; exit 1
  fi
done

declare -A times
for ((i = 0; i < runs; i++)); do
  for name in "${order[@]}"; do
    start=$(date +%s%N)
    ${cmd[$name]} >/dev/null 2>&1
    times[$name]+="$(( ($(date +%s%N) - start) / 1000000 )) "
  done
done

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "== medians of $runs runs over $files files (ms)"
for name in "${order[@]}"; do
  printf '%-15s %6s ms   (%s)\n' "$name" "$(median "${times[$name]}")" "${times[$name]% }"
done
k=$(median "${times[kiln]}"); k1=$(median "${times[kiln-1-thread]}"); m=$(median "${times[mtree]}"); a=$(median "${times[aide]}")
fastest=$(( m < a ? m : a )); peer=$([[ $m -lt $a ]] && echo mtree || echo aide)
awk -v k="$k" -v k1="$k1" -v f="$fastest" -v p="$peer" 'BEGIN {
  printf "kiln verify / %s (fastest peer) = %.2f   (kiln --threads 1 / %s = %.2f)\n", p, k / f, p, k1 / f }'
