#!/usr/bin/env bash
# Installs, with apt-get, the Debian packages the builds and tests need and
# this machine lacks. Quiet when everything is there.
#   native: gcc make patch xz-utils, libcurl (the CLI's LLM client)
#   wasm:   emscripten (browser/Node package), binaryen, wabt
#   wasi:   clang-19 + lld-19 + wasi-libc + wasm32 compiler-rt (what wasi-sdk bundles)
#   tests:  nodejs npm, chromium (real headless browser)
set -euo pipefail
pkgs=(gcc make patch xz-utils ca-certificates pkg-config libcurl4-openssl-dev nodejs npm
      emscripten binaryen wabt clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32
      chromium)
need=()
for p in "${pkgs[@]}"; do
  # npm also comes inside other nodejs builds (NodeSource), which conflict with Debian's npm.
  [ "$p" = npm ] && command -v npm >/dev/null && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "toolchain: installing ${need[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
