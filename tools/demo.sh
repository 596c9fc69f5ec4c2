#!/usr/bin/env bash
# demo.sh - set up (packages and build, skipped when already done) and play
# the bundled demo: a short film with comments in several scripts. In a
# desktop session it opens a window; without a display it renders headless
# and prints where the screenshots are. Arguments go to the player.
#
#   tools/demo.sh [PLAYER OPTIONS]
set -euo pipefail

cd "$(dirname "$0")/.."
tools/bootstrap.sh build >/dev/null
exec build/renderer/player/danmaku "$@"
