#!/usr/bin/env bash
# Compares Kiln's LayerWriter with the shell pipeline it replaces, on the same tree, in the same run:
#   tar -c --sort=name | gzip -6 | sha256sum      versus      Kiln.Benchmarks layer <dir>
# Usage: build/bench-layers.sh [DIR]   (without DIR a ~240 MB mixed tree is generated in a temp dir)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ $# -ge 1 ]]; then
  tree="$(cd "$1" && pwd)"
else
  tree="$work/tree"
  echo "generating input tree in $tree ..."
  python3 - "$tree" <<'PY'
import os, random, sys
root = sys.argv[1]; rnd = random.Random(42)
words = "kiln image layer digest manifest config the a server deterministic tar gzip INFO WARN error request".split()
def text(n):
    out = []; size = 0
    while size < n:
        w = rnd.choice(words) + (" " if rnd.random() > 0.1 else "\n")
        if rnd.random() < 0.05: w += str(rnd.randrange(10**6)) + " "
        out.append(w); size += len(w)
    return "".join(out)[:n]
def write(path, data, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f: f.write(data)
for i in range(40):                       # 80 MB compressible text (logs, json, xml)
    write(f"{root}/share/doc/d{i%5}/text{i}.txt", text(2 << 20))
for i in range(40):                       # 80 MB incompressible binary
    write(f"{root}/lib/l{i%4}/blob{i}.bin", os.urandom(2 << 20), "wb")
for i in range(20000):                    # ~50 MB in 20,000 small files
    write(f"{root}/app/wwwroot/s{i%97}/f{i}.js", text(rnd.randrange(200, 5000)))
PY
  # plus real binaries: a copy of part of the .NET runtime (dlls compress ~2:1)
  dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  mkdir -p "$tree/dotnet" && cp -r "$dotnet_root/shared/Microsoft.NETCore.App" "$tree/dotnet/" 2>/dev/null || true
fi

echo "input: $(du -sh --apparent-size "$tree" | cut -f1), $(find "$tree" -type f | wc -l) files"
echo "building Kiln.Benchmarks (Release) ..."
dotnet build -c Release "$repo/bench/Kiln.Benchmarks" -o "$work/bin" -v q -nologo >/dev/null

# Warm the page cache for both contestants (tar skips reading when writing to /dev/null, so cat).
find "$tree" -type f -exec cat {} + >/dev/null

now() { date +%s.%N; }
t0=$(now)
shell_hash=$(tar -C "$tree" -c --sort=name --format=gnu --mtime=@0 --owner=0 --group=0 --numeric-owner . | gzip -6 -n | sha256sum | cut -d' ' -f1)
t1=$(now)
kiln_out=$(dotnet "$work/bin/Kiln.Benchmarks.dll" layer "$tree" 6)
t2=$(now)

shell_s=$(echo "$t1 - $t0" | bc -l)
kiln_s=$(echo "$t2 - $t1" | bc -l)
echo "$kiln_out"
printf 'shell pipeline (tar | gzip -6 | sha256sum): %.2f s  (sha256 %s)\n' "$shell_s" "$shell_hash"
printf 'kiln LayerWriter (process wall time, level 6): %.2f s\n' "$kiln_s"
printf 'ratio kiln/shell: %.2f (below 1 = kiln faster)\n' "$(echo "$kiln_s / $shell_s" | bc -l)"
