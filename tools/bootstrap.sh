#!/usr/bin/env bash
# bootstrap.sh - install every Debian package danmaku needs, then build it.
# Safe to run again: packages already present are not fetched twice, and the
# build is incremental. Extra CMake arguments come from $DM_CMAKE_ARGS.
#
#   tools/bootstrap.sh [BUILD_DIR]      (default: build)
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${1:-build}

packages=(
  build-essential cmake pkg-config git python3
  clang libclang-rt-14-dev
  libexpat1-dev libcjson-dev libpcre2-dev libutf8proc-dev libcmocka-dev
  libprotobuf-c-dev protobuf-c-compiler
  libsdl2-dev libsdl2-ttf-dev libfontconfig-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev ffmpeg
  libwebsockets-dev libqrencode-dev libev-dev
  libnats-dev nats-server
  libass-dev libuchardet-dev
  chromium
  fonts-noto-cjk fonts-noto-color-emoji fonts-noto-core fonts-symbola fonts-dejavu-core
  xvfb xauth mpv
  help2man man-db desktop-file-utils
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (its npm then conflicts with
# Debian's): install Debian's only when there is no node and npm at all.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing ${missing[*]}"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The live feed's end-to-end tests drive the server with independent clients
# (the npm packages ws and playwright-core; @axe-core/playwright audits the
# pages), and the host console plots with uPlot, which the build copies from
# node_modules: all pinned by package-lock.json. Installed again only when the
# lock file changed.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# shellcheck disable=SC2086  # DM_CMAKE_ARGS is a list of arguments
cmake -S . -B "$build_dir" ${DM_CMAKE_ARGS:-}
cmake --build "$build_dir" -j"$(nproc)"
