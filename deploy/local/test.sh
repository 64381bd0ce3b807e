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
ctest_args=()
if [ -n "$sanitize" ]; then
  # Not run under a sanitizer: the deploy tests (label "deploy"). They check
  # the manifests and build the container image from the plain binaries, so
  # they run no Atlas code a sanitizer could check, and an instrumented
  # binary cannot start in the image (it holds no sanitizer runtime). The
  # plain run covers them.
  ctest_args+=(--label-exclude deploy)
fi
cd "$BUILD_DIR"
ctest --output-on-failure -j "${ATLAS_TEST_JOBS:-2}" --timeout 900 \
  "${ctest_args[@]}"
