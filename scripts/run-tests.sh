#!/usr/bin/env bash
# Sets up (packages, build) and runs the whole test suite: unit tests, then the integration
# tests against real LXC containers on a private bus. Run as root. Extra arguments go to ctest
# (e.g. -R mount, -L unit).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${SC_BUILD_DIR:-$top/build}

"$top/scripts/setup.sh"
cd "$build_dir"
ctest --output-on-failure --timeout 900 "$@"
