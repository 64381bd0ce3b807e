# Shared by run.sh and test.sh: install what is missing, then build.
# Source it; it sets ATLAS_ROOT and BUILD_DIR.

set -euo pipefail
ATLAS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${ATLAS_BUILD_DIR:-$ATLAS_ROOT/build}
# ccache keys objects by paths relative to the checkout (and not by the
# build directory), so a clone elsewhere, e.g. a CI workspace, reuses the
# cache; debug info may then name the other checkout's directory.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ATLAS_ROOT}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

ATLAS_PACKAGES=(
  g++ cmake ninja-build ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev librocksdb-dev libyaml-cpp-dev libcli11-dev
  prometheus-cpp-dev nlohmann-json3-dev libjemalloc2 libnghttp2-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev openssl
  python3-grpcio python3-grpc-tools python3-yaml
  buildah podman runc catatonit
)

ensure_packages() {
  local missing=()
  for pkg in "${ATLAS_PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "atlas: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

# build [extra cmake args...]: configure once, then incremental builds.
build() {
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S "$ATLAS_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >&2
  fi
  cmake --build "$BUILD_DIR" -j "${ATLAS_JOBS:-2}" >&2
}
