#!/usr/bin/env bash
# Builds the Atlas container image (default tag atlas:dev) with buildah, from
# scratch: atlas-server, atlasctl, the shared libraries ldd finds for them,
# the WTO dataset (/usr/share/atlas/wto) and a non-root user (65532).
#
#   deploy/container/build-image.sh [--tag NAME:TAG] [--build-dir DIR]
#                                   [--server BIN --ctl BIN] [--version V]
#                                   [--no-strip] [--keep-context DIR]
#
# Binaries: --server/--ctl, else DIR/services/atlas-server and
# DIR/clients/atlasctl, where DIR (--build-dir, default build-deploy) is
# configured (Release) and built if they are missing.
#
# Storage: containers/storage with the vfs driver (works without overlayfs
# or fuse), in the default location, so `podman --storage-driver=vfs` sees the
# image; ATLAS_CONTAINER_ROOT=DIR uses DIR/storage and DIR/run instead (the
# tests do), ATLAS_STORAGE_DRIVER another driver (e.g. overlay, if your
# storage already uses it). Needs buildah (apt-get install buildah podman runc).
set -euo pipefail

ATLAS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONTEXT_SRC="$ATLAS_ROOT/deploy/container"
TAG=atlas:dev
BUILD_DIR="$ATLAS_ROOT/build-deploy"
SERVER_BIN=""
CTL_BIN=""
VERSION=dev
STRIP=1
KEEP_CONTEXT=""
IMAGE_UID=65532
IMAGE_GID=65532

die() { echo "build-image: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG=${2:?}; shift 2 ;;
    --build-dir) BUILD_DIR=${2:?}; shift 2 ;;
    --server) SERVER_BIN=${2:?}; shift 2 ;;
    --ctl) CTL_BIN=${2:?}; shift 2 ;;
    --version) VERSION=${2:?}; shift 2 ;;
    --no-strip) STRIP=0; shift ;;
    --keep-context) KEEP_CONTEXT=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

command -v buildah >/dev/null || die "buildah not found (apt-get install buildah podman runc)"
command -v ldd >/dev/null || die "ldd not found"

# Container storage options shared with podman (see the header).
STORAGE_OPTS=(--storage-driver="${ATLAS_STORAGE_DRIVER:-vfs}")
if [ -n "${ATLAS_CONTAINER_ROOT:-}" ]; then
  STORAGE_OPTS+=(--root "$ATLAS_CONTAINER_ROOT/storage" --runroot "$ATLAS_CONTAINER_ROOT/run")
fi

# --- binaries -------------------------------------------------------------
if [ -z "$SERVER_BIN" ] || [ -z "$CTL_BIN" ]; then
  [ -z "$SERVER_BIN$CTL_BIN" ] || die "give both --server and --ctl, or neither"
  SERVER_BIN="$BUILD_DIR/services/atlas-server"
  CTL_BIN="$BUILD_DIR/clients/atlasctl"
  if [ ! -x "$SERVER_BIN" ] || [ ! -x "$CTL_BIN" ]; then
    echo "build-image: building atlas-server and atlasctl in $BUILD_DIR" >&2
    if [ ! -f "$BUILD_DIR/build.ninja" ]; then
      cmake -S "$ATLAS_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
    fi
    ninja -C "$BUILD_DIR" -j "${ATLAS_JOBS:-2}" atlas-server atlasctl >&2
  fi
fi
for bin in "$SERVER_BIN" "$CTL_BIN"; do
  [ -x "$bin" ] || die "$bin is not an executable"
done

# --- stage the root file system ---------------------------------------------
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/atlas-image.XXXXXX")
cleanup() { rm -rf "$STAGE"; }
trap cleanup EXIT
ROOTFS="$STAGE/rootfs"
DATAFS="$STAGE/datafs"
mkdir -p "$ROOTFS"/{etc,tmp,usr/bin,usr/lib,usr/share/atlas} "$DATAFS/var/lib/atlas"
chmod 1777 "$ROOTFS/tmp"
chmod 0750 "$DATAFS/var/lib/atlas"
# Merged /usr, as on Debian: /lib and /lib64 point into /usr.
ln -s usr/lib "$ROOTFS/lib"

install_binary() {  # SRC NAME
  local dest="$ROOTFS/usr/bin/$2"
  if [ "$STRIP" = 1 ] && command -v strip >/dev/null; then
    strip --strip-unneeded -o "$dest" "$1"
  else
    cp "$1" "$dest"
  fi
  chmod 0755 "$dest"
}
install_binary "$SERVER_BIN" atlas-server
install_binary "$CTL_BIN" atlasctl

# Shared libraries: every path ldd resolves (including the dynamic loader),
# copied with symlinks resolved to the same path under /usr.
copy_library() {  # ABSOLUTE_PATH
  local path=$1 rel
  rel=${path#/}
  rel=${rel#usr/}
  case "$rel" in
    lib/*|lib64/*|lib32/*) ;;
    *) die "unexpected library location $path" ;;
  esac
  if [ "${rel%%/*}" != lib ] && [ ! -e "$ROOTFS/${rel%%/*}" ]; then
    ln -s "usr/${rel%%/*}" "$ROOTFS/${rel%%/*}"
  fi
  mkdir -p "$ROOTFS/usr/$(dirname "$rel")"
  cp -L "$path" "$ROOTFS/usr/$rel"
  chmod 0755 "$ROOTFS/usr/$rel"
}
LIBS=()
for bin in "$SERVER_BIN" "$CTL_BIN"; do
  if ldd "$bin" | grep -q 'not found'; then
    ldd "$bin" >&2
    die "$bin has unresolved libraries"
  fi
  # "libx.so.1 => /path/libx.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  while read -r lib; do LIBS+=("$lib"); done < <(
    ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
done
mapfile -t LIBS < <(printf '%s\n' "${LIBS[@]}" | sort -u)
for lib in "${LIBS[@]}"; do copy_library "$lib"; done

# Users: root (owner of the files) and atlas (65532, runs the server).
cat > "$ROOTFS/etc/passwd" <<EOF
root:x:0:0:root:/root:/usr/sbin/nologin
atlas:x:$IMAGE_UID:$IMAGE_GID:Atlas server:/var/lib/atlas:/usr/sbin/nologin
EOF
cat > "$ROOTFS/etc/group" <<EOF
root:x:0:
atlas:x:$IMAGE_GID:
EOF
# glibc's host lookups (files and dns are built into libc).
printf 'hosts: files dns\n' > "$ROOTFS/etc/nsswitch.conf"
chmod 0644 "$ROOTFS"/etc/*

# The dataset the server seeds an empty store with.
mkdir -p "$ROOTFS/usr/share/atlas/wto"
cp "$ATLAS_ROOT"/data/wto/*.yaml "$ROOTFS/usr/share/atlas/wto/"
chmod 0755 "$ROOTFS/usr/share/atlas" "$ROOTFS/usr/share/atlas/wto"
chmod 0644 "$ROOTFS"/usr/share/atlas/wto/*.yaml

# Check that the staged root runs the binaries with only what it holds.
if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null; then
  chroot "$ROOTFS" /usr/bin/atlas-server --help >/dev/null ||
    die "atlas-server does not start inside the staged root"
  chroot "$ROOTFS" /usr/bin/atlasctl --help >/dev/null ||
    die "atlasctl does not start inside the staged root"
fi

# Owners are set in the archives, so building needs no root.
EPOCH=${SOURCE_DATE_EPOCH:-0}
# shellcheck disable=SC2054 # the commas belong to --pax-option
TAR_OPTS=(--sort=name --mtime="@$EPOCH" --numeric-owner --format=posix
          --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
tar -C "$ROOTFS" "${TAR_OPTS[@]}" --owner=0 --group=0 -cf "$STAGE/rootfs.tar" .
tar -C "$DATAFS" "${TAR_OPTS[@]}" --owner="$IMAGE_UID" --group="$IMAGE_GID" \
    -cf "$STAGE/data.tar" ./var/lib/atlas
cp "$CONTEXT_SRC/Containerfile" "$STAGE/Containerfile"
rm -rf "$ROOTFS" "$DATAFS"
if [ -n "$KEEP_CONTEXT" ]; then
  mkdir -p "$KEEP_CONTEXT"
  cp "$STAGE"/{Containerfile,rootfs.tar,data.tar} "$KEEP_CONTEXT/"
fi

# --- build ---------------------------------------------------------------
echo "build-image: ${#LIBS[@]} libraries; building $TAG" >&2
BUD_OPTS=(--isolation=chroot --layers=false --build-arg "VERSION=$VERSION")
# Reproducible: SOURCE_DATE_EPOCH also fixes the image's creation time.
[ -z "${SOURCE_DATE_EPOCH:-}" ] || BUD_OPTS+=(--timestamp "$SOURCE_DATE_EPOCH")
buildah "${STORAGE_OPTS[@]}" bud "${BUD_OPTS[@]}" \
  -f "$STAGE/Containerfile" -t "$TAG" "$STAGE" >&2
buildah "${STORAGE_OPTS[@]}" inspect --type image --format '{{.FromImageID}}' "$TAG"
