#!/usr/bin/env bash
# test.sh - set up (if needed), build and run the whole test suite.
#
#   tools/test.sh [BUILD_DIR [CTEST_ARGS...]]   (default: build; e.g. -L shared)
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true
tools/bootstrap.sh "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)" "$@"
