#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
# ATLAS_SANITIZE=address (ASan+UBSan) or thread (TSan) runs it in a sanitizer
# build of its own (build-address/, build-thread/).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_packages
sanitize=${ATLAS_SANITIZE:-}
if [ -n "$sanitize" ]; then
  BUILD_DIR=${ATLAS_BUILD_DIR:-$ATLAS_ROOT/build-$sanitize}
  # Debian's gRPC/Abseil/RocksDB are not instrumented: TSan ignores their
  # accesses, and tests/tsan.supp lists what it cannot see into.
  export TSAN_OPTIONS="ignore_noninstrumented_modules=1 suppressions=$ATLAS_ROOT/tests/tsan.supp ${TSAN_OPTIONS:-}"
  export ASAN_OPTIONS="detect_leaks=1 ${ASAN_OPTIONS:-}"
  export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 ${UBSAN_OPTIONS:-}"
  build -DATLAS_SANITIZE="$sanitize"
else
  build
fi
cd "$BUILD_DIR"
ctest --output-on-failure -j "${ATLAS_TEST_JOBS:-2}" --timeout 900
