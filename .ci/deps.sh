#!/usr/bin/env bash
# Fetches the pinned third-party sources into build/deps/, verified by checksum.
# Usage: .ci/deps.sh sqlite|cjson DEST_DIR
#
# Nothing fetched here is ever committed. Each source comes from a registry this
# project's machines reach by name (npm, Debian), so no host is written down:
# the Debian mirror is whichever one this machine's apt is configured with.
set -euo pipefail

# SQLite: the amalgamation inside better-sqlite3's npm tarball (3.53.2).
# Why this source: Debian bookworm's source package is 3.40.1, whose unix VFS
# does not build for WASI; trixie's 3.46.1 ships the canonical source tree, not
# the amalgamation, and needs a Tcl build step. The npm tarball holds the
# amalgamation as released (plus one constant-folding patch of its own, which we
# do not apply), is immutable once published, and npm is already a dependency
# for the browser package.
SQLITE_NPM=better-sqlite3@12.11.1
SQLITE_SHA256=ebf0ed75a7a59dbcb3b24bbd014ef49d9f15bc328e4adcbf516f2a8fadfa2835

# cJSON: Debian trixie's source package 1.7.18 (bookworm has 1.7.15, which
# lacks fixes for CVE-2023-50471/50472). Debian's patch series is applied.
CJSON_DEB=cjson
CJSON_ORIG=cjson_1.7.18.orig.tar.gz
CJSON_ORIG_SHA256=3aa806844a03442c00769b83e99970be70fbef03735ff898f4811dd03b9f5ee5

verify() { # file sha256
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$got" != "$2" ]; then
    echo "deps: checksum mismatch for $1: expected $2, got $got" >&2
    rm -f "$1"
    exit 1
  fi
}

what=$1 dest=$2
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case "$what" in
sqlite)
  (cd "$work" && npm pack --silent "$SQLITE_NPM" >/dev/null 2>&1) || {
    echo "deps: npm pack $SQLITE_NPM failed (is the npm registry reachable?)" >&2; exit 1; }
  verify "$work"/better-sqlite3-*.tgz "$SQLITE_SHA256"
  tar -xzf "$work"/better-sqlite3-*.tgz -C "$work" package/deps/sqlite3
  cp "$work"/package/deps/sqlite3/sqlite3.c "$work"/package/deps/sqlite3/sqlite3.h \
     "$work"/package/deps/sqlite3/sqlite3ext.h "$dest"/
  ;;
cjson)
  # A private apt configuration: a deb-src entry for trixie built from the
  # mirror this machine already uses, with its own lists, so the system's apt
  # state is left as it was.
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$uri" ] || { echo "deps: no Debian mirror configured in apt" >&2; exit 1; }
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  printf 'deb-src %s trixie main\n' "$uri" > "$work/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=-"
            -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
            -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
  apt-get "${apt_opts[@]}" -qq update >/dev/null
  (cd "$work" && apt-get "${apt_opts[@]}" -qq source --download-only "$CJSON_DEB" >/dev/null)
  verify "$work/$CJSON_ORIG" "$CJSON_ORIG_SHA256"
  tar -xzf "$work/$CJSON_ORIG" -C "$work"
  tar -xJf "$work"/cjson_1.7.18-*.debian.tar.xz -C "$work"
  src=$(ls -d "$work"/cJSON-1.7.18)
  if [ -f "$work/debian/patches/series" ]; then
    while read -r p; do
      case "$p" in ''|'#'*) continue;; esac
      [ -f "$work/debian/patches/$p" ] && patch -s -d "$src" -p1 < "$work/debian/patches/$p"
    done < "$work/debian/patches/series"
  fi
  cp "$src/cJSON.c" "$src/cJSON.h" "$dest"/
  ;;
*) echo "usage: $0 sqlite|cjson DEST" >&2; exit 2 ;;
esac
echo "deps: $what ready in ${dest#"$PWD"/}"
