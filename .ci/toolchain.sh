#!/usr/bin/env bash
# Installs, with apt-get, whatever the native build and tests need and this
# machine lacks. Quiet when everything is there.
set -euo pipefail
need=()
for t in cc:gcc make:make patch:patch xz:xz-utils node:nodejs npm:npm; do
  command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "toolchain: installing ${need[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
