#!/usr/bin/env bash
# Refreshes the Debian archive signing keys that ship inside the engine (src/Kiln.Engine/Packages/debian-archive-keys.asc),
# the keys a Debian base's InRelease verifies against when the machine has no debian-archive-keyring (macOS, Windows,
# Ubuntu) and KilnDebianKeyring names none. They are taken from the debian-archive-keyring package's keyring:
#   build/refresh-debian-keys.sh [KEYRING]      (default /usr/share/keyrings/debian-archive-keyring.gpg)
# Only the archive, security-archive and stable-release keys of the suites listed below are kept. The script prints the
# fingerprints as the Markdown table of docs/msbuild.md ("The Debian archive keys Kiln ships"): paste it there, so that a
# reviewer can compare the keys with https://ftp-master.debian.org/keys.html.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keyring="${1:-/usr/share/keyrings/debian-archive-keyring.gpg}"
out="$repo/src/Kiln.Engine/Packages/debian-archive-keys.asc"
# The suites whose keys Kiln ships: Debian 11, 12 and 13. Add the next one here when it is released.
suites='(11/bullseye|12/bookworm|13/trixie)'

if [[ ! -r "$keyring" ]]; then
  echo "refresh-debian-keys: cannot read $keyring; install debian-archive-keyring (apt-get install debian-archive-keyring) or name a keyring" >&2
  exit 1
fi

home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export GNUPGHOME="$home"
gpg --quiet --batch --import "$keyring" 2>/dev/null

# --with-colons: "fpr" follows its "pub"; the primary uid follows. Keep a key when its uid names one of the suites.
mapfile -t selected < <(gpg --batch --with-colons --list-keys 2>/dev/null | awk -F: -v pattern="$suites" '
  $1 == "pub" { fpr = ""; want = 1; next }
  $1 == "fpr" && fpr == "" { fpr = $10; next }
  $1 == "uid" && fpr != "" && want { if ($10 ~ pattern) print fpr "\t" $10; want = 0 }
' | sort -t$'\t' -k2)

if [[ ${#selected[@]} -eq 0 ]]; then
  echo "refresh-debian-keys: no key of $suites in $keyring" >&2
  exit 1
fi

fingerprints=()
for line in "${selected[@]}"; do
  fingerprints+=("${line%%$'\t'*}")
done

# Armored, so that a refresh shows up in review as a readable diff; the engine reads armored and binary keyrings alike.
gpg --batch --armor --export-options export-minimal --export "${fingerprints[@]}" > "$out.tmp"
mv "$out.tmp" "$out"

echo "wrote ${#fingerprints[@]} keys to ${out#"$repo"/}"
echo
echo "| fingerprint | key |"
echo "|---|---|"
for line in "${selected[@]}"; do
  fpr="${line%%$'\t'*}"
  uid="${line#*$'\t'}"
  uid="${uid%% <*}"
  echo "| \`$fpr\` | $uid |"
done
