#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_packages
build
cd "$BUILD_DIR"
ctest --output-on-failure -j "${ATLAS_TEST_JOBS:-2}" --timeout 900
