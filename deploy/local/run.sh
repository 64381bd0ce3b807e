#!/usr/bin/env bash
# Installs what is missing, builds, and runs atlas-server on an embedded
# RocksDB in ./var/atlas, seeded with the WTO dataset when the store is empty.
# Extra arguments go to atlas-server (e.g. --listen 0.0.0.0:50051).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_packages
build
mkdir -p "$ATLAS_ROOT/var"
exec "$BUILD_DIR/services/atlas-server" \
  --data_dir "${ATLAS_DATA_DIR:-$ATLAS_ROOT/var/atlas}" \
  --seed_dir "${ATLAS_SEED_DIR:-$ATLAS_ROOT/data/wto}" "$@"
