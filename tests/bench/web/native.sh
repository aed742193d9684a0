#!/usr/bin/env bash
# native.sh: builds better-sqlite3's native addon (mem0ai/oss stores its
# vectors with it) inside the bench's npm tree, offline: npm.sh installs with
# --ignore-scripts, so its install script (a prebuilt download, else
# node-gyp, which fetches Node's headers) never runs. Here node-gyp compiles
# the package's own bundled SQLite against the headers of the Node that runs
# the bench (Debian's libnode-dev when the nodejs package lacks them).
#
# The addon lives in build/npm/tests_bench_web/node_modules/better-sqlite3/
# build/, so it is redone only when npm.sh reinstalls (lock changed) or it no
# longer loads (another Node). Run after `npm.sh tests/bench/web`.
set -euo pipefail
cd "$(dirname "$0")/../../.."
pkg=build/npm/tests_bench_web/node_modules/better-sqlite3
[ -d "$pkg" ] || { echo "native.sh: $pkg missing (run .ci/npm.sh tests/bench/web first)" >&2; exit 1; }

loads() { (cd "$pkg" && node -e 'new (require("./lib"))(":memory:").close()') >/dev/null 2>&1; }
loads && exit 0

abi=$(node -p process.versions.modules)
headers_ok() {   # $1: a prefix holding include/node for this very Node (same module ABI)
  [ -f "$1/include/node/common.gypi" ] && [ -f "$1/include/node/node_api.h" ] &&
    grep -Eq "define NODE_MODULE_VERSION $abi\b" "$1/include/node/node_version.h" 2>/dev/null
}
prefix=$(dirname "$(dirname "$(realpath "$(command -v node)")")")
nodedir=
for d in "$prefix" /usr /usr/local; do headers_ok "$d" && { nodedir=$d; break; }; done
if [ -z "$nodedir" ]; then
  # Debian's nodejs keeps them in libnode-dev: installed as .ci/toolchain.sh
  # installs packages, and only when its version is this Node's (NodeSource
  # builds ship them in their nodejs package; bookworm's libnode-dev is 18).
  major=$(node -p 'process.versions.node.split(".")[0]')
  cand=$(apt-cache policy libnode-dev 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*\).*/\1/p')
  if [ "$cand" = "$major" ] && ! dpkg-query -W -f='${Status}' libnode-dev 2>/dev/null | grep -q 'ok installed'; then
    echo "native.sh: Node's headers missing: installing libnode-dev"
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libnode-dev >/dev/null
  fi
  for d in "$prefix" /usr; do headers_ok "$d" && { nodedir=$d; break; }; done
fi
[ -n "$nodedir" ] || { echo "native.sh: no headers for Node $(node --version) (module ABI $abi) under $prefix or /usr" >&2; exit 1; }

# node-gyp: Debian's (package node-gyp) or the one npm bundles.
if command -v node-gyp >/dev/null; then gyp=(node-gyp)
else
  npmdir=$(dirname "$(dirname "$(realpath "$(command -v npm)")")")
  [ -f "$npmdir/node_modules/node-gyp/bin/node-gyp.js" ] || { echo "native.sh: node-gyp not found (neither on PATH nor in $npmdir)" >&2; exit 1; }
  gyp=(node "$npmdir/node_modules/node-gyp/bin/node-gyp.js")
fi

echo "native.sh: building better-sqlite3 $(node -p "require('./$pkg/package.json').version") against $nodedir/include/node (Node $(node --version))"
t0=$(date +%s)
(cd "$pkg" && "${gyp[@]}" rebuild --release --nodedir="$nodedir" --jobs="$(nproc)" --loglevel=warn) > build/npm/better-sqlite3.log 2>&1 ||
  { tail -20 build/npm/better-sqlite3.log >&2; echo "native.sh: node-gyp failed (log: build/npm/better-sqlite3.log)" >&2; exit 1; }
loads || { echo "native.sh: built, but the addon does not load" >&2; exit 1; }
echo "native.sh: better-sqlite3 built in $(( $(date +%s) - t0 )) s"
