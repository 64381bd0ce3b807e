#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang-14 (ASan+UBSan) in
# build-fuzz/ and runs each for a bounded time.
#
#   tests/fuzz/run_fuzzers.sh [--time SECONDS] [TARGET...]
#
# --time: seconds per target (default 60). TARGET: requests, commit,
# documents (default: all). Each run starts from the committed seeds
# (corpus/TARGET/) and saved regressions (regressions/TARGET/); what it
# learns goes to build-fuzz/corpus/TARGET/, so later runs start further on.
# An input that breaks a property is written to build-fuzz/crashes/TARGET/
# (and printed as base64 with a command that replays it, for CI logs) and
# fails the script: fix the bug, then copy the input to
# regressions/TARGET/, where the fuzz_replay_TARGET ctest replays it in every
# build.
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local/common.sh"

seconds=60
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) seconds=$2; shift 2 ;;
    --time=*) seconds=${1#--time=}; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(requests commit documents)

ensure_packages clang-14 libclang-rt-14-dev
BUILD_DIR=${ATLAS_FUZZ_BUILD_DIR:-$ATLAS_ROOT/build-fuzz}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S "$ATLAS_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++-14 -DATLAS_FUZZ=ON -DBUILD_TESTING=OFF >&2
fi
cmake --build "$BUILD_DIR" -j "${ATLAS_JOBS:-2}" \
  --target "${targets[@]/#/fuzz_}" >&2

fuzz_dir=$ATLAS_ROOT/tests/fuzz
# Leaks and UB stop the run like crashes do.
export ASAN_OPTIONS="detect_leaks=1 ${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 ${UBSAN_OPTIONS:-}"
failed=()
for target in "${targets[@]}"; do
  binary=$BUILD_DIR/tests/fuzz/fuzz_$target
  [ -x "$binary" ] || { echo "run_fuzzers: no target $target" >&2; exit 2; }
  corpus=$BUILD_DIR/corpus/$target
  crashes=$BUILD_DIR/crashes/$target
  mkdir -p "$corpus" "$crashes"
  dict=()
  [ -f "$fuzz_dir/$target.dict" ] && dict=(-dict="$fuzz_dir/$target.dict")
  seeds=("$fuzz_dir/corpus/$target")
  [ -d "$fuzz_dir/regressions/$target" ] &&
    seeds+=("$fuzz_dir/regressions/$target")
  echo "run_fuzzers: $target for ${seconds}s" >&2
  # The first corpus directory receives new inputs; the committed ones are
  # only read.
  if ! "$binary" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2560 \
      -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" \
      "$corpus" "${seeds[@]}" 2>"$BUILD_DIR/fuzz-$target.log"; then
    tail -n 60 "$BUILD_DIR/fuzz-$target.log" >&2
    # CI runs in a clone that is thrown away: print the input itself, so it
    # can be replayed from the log alone.
    for input in "$crashes"/*; do
      [ -f "$input" ] || continue
      if [ "$(stat -c %s "$input")" -le 65536 ]; then
        echo "run_fuzzers: input $(basename "$input"), to replay:" \
          "echo '$(base64 -w0 "$input")' | base64 -d > input &&" \
          "$binary input" >&2
      else
        echo "run_fuzzers: input $input is over 64 KiB; not printed" >&2
      fi
    done
    failed+=("$target")
  else
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE' \
      "$BUILD_DIR/fuzz-$target.log" >&2 || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run_fuzzers: FAILED: ${failed[*]} (inputs in $BUILD_DIR/crashes/)" >&2
  exit 1
fi
echo "run_fuzzers: all targets ran ${seconds}s without a finding" >&2
