#!/usr/bin/env bash
# npm.sh DIR: installs the exact dependency tree of DIR/package-lock.json
# (npm ci checks every tarball against the lock's integrity hash) into
# build/npm/<DIR>, and links DIR/node_modules to it. Re-runs only when the
# lock file changes.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: npm.sh DIR}
[ -f "$dir/package-lock.json" ] || { echo "npm.sh: $dir/package-lock.json missing" >&2; exit 1; }
dest=build/npm/$(echo "$dir" | tr '/' '_')
if ! cmp -s "$dir/package-lock.json" "$dest/package-lock.json" 2>/dev/null || [ ! -d "$dest/node_modules" ]; then
  echo "npm: installing $dir"
  rm -rf "$dest" && mkdir -p "$dest"
  cp "$dir/package.json" "$dir/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --ignore-scripts --legacy-peer-deps --loglevel=error)
fi
ln -sfn "$(realpath --relative-to="$dir" "$dest/node_modules")" "$dir/node_modules"
