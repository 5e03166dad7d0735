#!/usr/bin/env bash
# Runs a target of the Cake build (build/build.cake) from the repository root, whatever the current directory.
#   build/build.sh [Target] [extra Cake arguments...]     e.g. build/build.sh Verify --verbosity=diagnostic
# Targets: Build, Test, Images, Verify, CI (what CI calls), Default (= Build + Test), Outdated, Pack (the NuGet packages
# into artifacts/packages/; --package-version=X overrides the version). See build/build.cake.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

target="Default"
if [[ $# -gt 0 && "$1" != -* ]]; then
  target="$1"
  shift
fi

export DOTNET_NOLOGO=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! restore_log="$(dotnet tool restore 2>&1)"; then
  printf '%s\n' "$restore_log" >&2
  exit 1
fi
exec dotnet cake build/build.cake --target="$target" "$@"
