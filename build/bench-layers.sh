#!/usr/bin/env bash
# Compares Kiln's LayerWriter with the shell pipelines it replaces, on the same tree, interleaved, several rounds:
#   gzip:  tar -c --sort=name | pigz -6 -p $(nproc) | sha256sum      versus   Kiln.Benchmarks layer <dir> 6 gzip
#   zstd:  tar -c --sort=name | zstd -3 -T0 | sha256sum               versus   Kiln.Benchmarks layer <dir> 3 zstd
# and prints each run, the medians and the median of the per-round ratios (Kiln / shell; below 1 = Kiln faster).
# Usage: build/bench-layers.sh [DIR]   (without DIR a ~290 MB mixed tree is generated in a temp dir)
# Environment: ROUNDS (default 7). Needs pigz (apt-get install pigz); the zstd rows need zstd (apt-get install zstd).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${ROUNDS:-7}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v pigz >/dev/null || { echo "pigz is not installed (apt-get install pigz)" >&2; exit 1; }
have_zstd=0
command -v zstd >/dev/null && have_zstd=1

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

echo "input: $(du -sh --apparent-size "$tree" | cut -f1), $(find "$tree" -type f | wc -l) files; $(nproc) cores; ${rounds} rounds"
echo "building Kiln.Benchmarks (Release) ..."
dotnet build -c Release "$repo/bench/Kiln.Benchmarks" -o "$work/bin" -v q -nologo >/dev/null

# Warm the page cache for every contestant (tar skips reading when writing to /dev/null, so cat).
find "$tree" -type f -exec cat {} + >/dev/null

tar_tree() { tar -C "$tree" -c --sort=name --format=gnu --mtime=@0 --owner=0 --group=0 --numeric-owner .; }
# time_of NAME: runs NAME (a function below, through bash so that /usr/bin/time counts every process of the pipeline),
# appends the wall seconds to $work/NAME and the CPU seconds (user + sys) to $work/NAME.cpu, echoes the wall seconds.
time_of() {
  local name="$1"
  /usr/bin/time -f '%e %U %S' -o "$work/$name.time" bash -c "$(declare -f tar_tree "$name"); tree='$tree'; work='$work'; $name" >"$work/$name.out"
  read -r wall user sys <"$work/$name.time"
  echo "$user + $sys" | bc -l >>"$work/$name.cpu"
  echo "$wall" | tee -a "$work/$name"
}
kiln_gzip() { dotnet "$work/bin/Kiln.Benchmarks.dll" layer "$tree" 6 gzip; }
shell_gzip() { tar_tree | pigz -6 -n -p "$(nproc)" | sha256sum; }
kiln_zstd() { dotnet "$work/bin/Kiln.Benchmarks.dll" layer "$tree" 3 zstd; }
shell_zstd() { tar_tree | zstd -3 -T0 -q -c | sha256sum; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

kinds=(gzip)
[[ $have_zstd == 1 ]] && kinds+=(zstd)
for ((round = 1; round <= rounds; round++)); do
  for kind in "${kinds[@]}"; do
    # Alternate who goes first, so that neither always runs right after the other's page-cache and CPU-frequency state.
    if ((round % 2)); then
      k=$(time_of "kiln_$kind"); s=$(time_of "shell_$kind")
    else
      s=$(time_of "shell_$kind"); k=$(time_of "kiln_$kind")
    fi
    ratio=$(echo "$k / $s" | bc -l)
    echo "$ratio" >>"$work/ratio_$kind"
    cpu_ratio=$(echo "$(tail -1 "$work/kiln_$kind.cpu") / $(tail -1 "$work/shell_$kind.cpu")" | bc -l)
    echo "$cpu_ratio" >>"$work/cpu_ratio_$kind"
    printf 'round %d %-4s  kiln %6.2f s (cpu %6.2f s)  shell %6.2f s (cpu %6.2f s)  ratio %.2f  cpu ratio %.2f  (load %s)\n' \
      "$round" "$kind" "$k" "$(tail -1 "$work/kiln_$kind.cpu")" "$s" "$(tail -1 "$work/shell_$kind.cpu")" "$ratio" "$cpu_ratio" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done

echo
for kind in "${kinds[@]}"; do
  echo "== $kind"
  grep -E '^(diff_id|digest|files)' "$work/kiln_$kind.out" | sed 's/^/kiln: /'
  printf 'shell sha256 of the compressed stream: %s\n' "$(cut -d' ' -f1 "$work/shell_$kind.out")"
  printf 'median kiln %.2f s, median shell %.2f s, median ratio kiln/shell %.2f (below 1 = kiln faster); median CPU-time ratio %.2f\n' \
    "$(median <"$work/kiln_$kind")" "$(median <"$work/shell_$kind")" "$(median <"$work/ratio_$kind")" "$(median <"$work/cpu_ratio_$kind")"
done
