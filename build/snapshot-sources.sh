# Sourced by the benchmarks: copies what a build of the Shop sample reads (no bin/ or obj/) from the repository
# $1 into $2/repo, so that a benchmark edits and builds a snapshot and never touches the working tree or the lock.
snapshot_sources() {
  local repo="$1" work="$2" entry
  local sources=()
  for entry in src samples analyzers global.json Directory.Build.props Directory.Build.targets Directory.Packages.props \
               NuGet.config nuget.config .editorconfig; do
    [[ -e "$repo/$entry" ]] && sources+=("$entry")
  done
  mkdir "$work/repo"
  tar -C "$repo" --exclude=bin --exclude=obj -cf - "${sources[@]}" | tar -xf - -C "$work/repo"
  echo "snapshot of the sources: $work/repo"
}
