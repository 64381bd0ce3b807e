#!/usr/bin/env bash
# Builds the Atlas image with deploy/container/build-image.sh and runs it with
# podman: image contents and metadata, gRPC health, the seeded
# organizations/wto (atlasctl on the host and inside the image), an apply,
# a graceful stop, then a new container on the same volume (read-only root,
# no capabilities, the ConfigMap's flags: as on Kubernetes) that still has
# the change, and a `podman restart`; then the dev overlay's pod spec under
# `podman kube play`.
#
#   tests/deploy/container_test.sh [--server BIN --ctl BIN]
#
# Exit status 77 (skipped) when buildah, podman or runc is missing, or when
# not run as root (rootless podman needs subuid setup this test does not
# make). Everything lives in a private containers/storage root (vfs driver)
# under a temporary directory, removed at the end.
set -euo pipefail

ATLAS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SERVER_BIN=""
CTL_BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --server) SERVER_BIN=${2:?}; shift 2 ;;
    --ctl) CTL_BIN=${2:?}; shift 2 ;;
    *) echo "container_test: unknown argument $1" >&2; exit 2 ;;
  esac
done

skip() { echo "SKIP: container_test: $*"; exit 77; }
for tool in buildah podman runc; do
  command -v "$tool" >/dev/null || skip "$tool not installed (apt-get install buildah podman runc)"
done
[ "$(id -u)" = 0 ] || skip "needs root (rootless podman is not set up here)"

BUILD_ARGS=()
if [ -n "$SERVER_BIN$CTL_BIN" ]; then
  BUILD_ARGS=(--server "$SERVER_BIN" --ctl "$CTL_BIN")
else
  CTL_BIN="$ATLAS_ROOT/build-deploy/clients/atlasctl"  # build-image.sh builds it
fi

STEP=0
step() { STEP=$((STEP + 1)); echo "--- [$STEP] $*"; }
fail() { echo "FAIL: container_test: $*" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/atlas-ct.XXXXXX")
export ATLAS_CONTAINER_ROOT="$WORK/c"
PODMAN=(podman --storage-driver=vfs --runtime runc
        --root "$ATLAS_CONTAINER_ROOT/storage" --runroot "$ATLAS_CONTAINER_ROOT/run"
        --tmpdir "$ATLAS_CONTAINER_ROOT/tmp" --events-backend=file)
TAG=localhost/atlas:test
NAME=atlas-ct-$$
VOLUME=atlas-ct-data-$$

cleanup() {
  local rc=$?
  set +e
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    echo "--- container logs" >&2
    "${PODMAN[@]}" logs "$NAME" >&2 2>&1 || true
  fi
  "${PODMAN[@]}" pod rm -f -t 0 atlas-kube-play >/dev/null 2>&1 || true
  "${PODMAN[@]}" rm -f -t 0 "$NAME" "$NAME-export" >/dev/null 2>&1 || true
  "${PODMAN[@]}" volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  "${PODMAN[@]}" rmi -f "$TAG" >/dev/null 2>&1 || true
  # Anything podman left mounted under the private root goes before rm -rf.
  findmnt -rn -o TARGET 2>/dev/null | grep -F "$WORK/" | sort -r |
    while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

# podman's default ulimits (nofile 1048576, ...) may exceed this machine's
# hard limits, which runc cannot raise: explicit ones.
NOFILE=$(ulimit -Hn)
if [ "$NOFILE" = unlimited ] || [ "$NOFILE" -gt 65536 ]; then NOFILE=65536; fi
RUN_OPTS=(--ulimit "nofile=$NOFILE:$NOFILE" --ulimit nproc=4096:4096)

PYTHON=/usr/bin/python3
HEALTH="$ATLAS_ROOT/tests/deploy/grpc_health_check.py"
free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Waits for SERVING (server and atlas.v1.Atlas), like the Kubernetes probes.
wait_healthy() {  # ADDRESS
  if "$PYTHON" -c 'import grpc' 2>/dev/null; then
    "$PYTHON" "$HEALTH" "$1" --wait 60 || fail "server not SERVING at $1"
    "$PYTHON" "$HEALTH" "$1" atlas.v1.Atlas || fail "atlas.v1.Atlas not SERVING at $1"
  else
    echo "(python3-grpcio missing: waiting for atlasctl instead of grpc.health.v1)"
    local _
    for _ in $(seq 120); do
      "$CTL_BIN" --server "$1" --timeout 2 get organizations/wto >/dev/null 2>&1 && return 0
      sleep 0.5
    done
    fail "server not answering at $1"
  fi
}
ctl() { "$CTL_BIN" --server "127.0.0.1:$PORT" "$@"; }
expect_contains() {  # TEXT NEEDLE WHAT
  grep -qF -- "$2" <<<"$1" || { printf '%s\n' "$1" >&2; fail "$3: no '$2'"; }
}
start() {  # EXTRA_RUN_OPTIONS...
  PORT=$(free_port)
  "${PODMAN[@]}" run -d --name "$NAME" "${RUN_OPTS[@]}" "$@" \
    -p "127.0.0.1:$PORT:50051" -v "$VOLUME:/var/lib/atlas" "$TAG" >/dev/null
  wait_healthy "127.0.0.1:$PORT"
}
graceful_stop() {
  "${PODMAN[@]}" stop -t 30 "$NAME" >/dev/null
  local code
  code=$("${PODMAN[@]}" inspect "$NAME" --format '{{.State.ExitCode}}')
  [ "$code" = 0 ] || fail "atlas-server exited with $code after SIGTERM"
}

SECONDS=0
step "build the image ($TAG)"
"$ATLAS_ROOT/deploy/container/build-image.sh" --tag "$TAG" "${BUILD_ARGS[@]}" >/dev/null
[ -x "$CTL_BIN" ] || fail "atlasctl not found at $CTL_BIN"

step "image metadata"
config=$("${PODMAN[@]}" image inspect "$TAG" \
  --format '{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Volumes}}|{{.Config.StopSignal}}')
echo "$config"
expect_contains "$config" "65532:65532|" "user"
expect_contains "$config" '["/usr/bin/atlas-server","--listen","0.0.0.0:50051","--data_dir","/var/lib/atlas","--seed_dir","/usr/share/atlas/wto"]' "entrypoint"
expect_contains "$config" '"/var/lib/atlas"' "volume"
expect_contains "$config" "SIGTERM" "stop signal"

step "image contents: binaries, libraries, dataset, user; no shell"
"${PODMAN[@]}" create --name "$NAME-export" "${RUN_OPTS[@]}" "$TAG" >/dev/null
files=$("${PODMAN[@]}" export "$NAME-export" | tar -tv --numeric-owner)
"${PODMAN[@]}" rm "$NAME-export" >/dev/null
for path in usr/bin/atlas-server usr/bin/atlasctl usr/share/atlas/wto/organization.yaml \
            etc/passwd "lib64 -> usr/lib64" "65532/65532 " ; do
  expect_contains "$files" "$path" "image file list"
done
if grep -qE ' (\./)?(usr/)?bin/(ba|da)?sh( |$)' <<<"$files"; then fail "the image has a shell"; fi
top=$(awk '{ print $6 }' <<<"$files" | sed 's#^\./##' | cut -d/ -f1 | grep -v '^$' | sort -u |
      paste -sd' ')
[ "$top" = "etc lib lib64 tmp usr var" ] || fail "unexpected top-level entries: $top"
echo "$(wc -l <<<"$files") entries; top level: $top"

step "first start on a new volume: health, seeded data (host and in-image atlasctl)"
"${PODMAN[@]}" volume create "$VOLUME" >/dev/null
start
expect_contains "$(ctl get organizations/wto)" "World Trade Organization" "atlasctl get"
expect_contains "$("${PODMAN[@]}" exec "$NAME" /usr/bin/atlasctl get organizations/wto)" \
  "World Trade Organization" "atlasctl in the image"
user=$("${PODMAN[@]}" top "$NAME" huser comm | awk '$2 == "atlas-server" { print $1 }')
[ "$user" = 65532 ] || fail "atlas-server runs as '$user', not 65532"

step "apply a change"
cat > "$WORK/note.yaml" <<'EOF'
name: documents/container-test-note
title: "Container test note"
topics: [cybersecurity]
document:
  document_type: DOCUMENT_TYPE_REPORT
  date: "2025-06"
  authors: Atlas container test
  summary: "Written before the restart."
EOF
expect_contains "$(ctl apply -f "$WORK/note.yaml")" "documents/container-test-note created" "apply"
revision=$(ctl get documents/container-test-note -o json | "$PYTHON" -c \
  'import json, sys; print(json.load(sys.stdin)["update_revision"])')

step "graceful stop (SIGTERM), then a new container on the same volume, as on Kubernetes"
# Read-only root (/tmp a tmpfs), no capabilities, no privilege escalation,
# and the flags of deploy/k8s' ConfigMap as ATLAS_* variables.
graceful_stop
"${PODMAN[@]}" rm "$NAME" >/dev/null
start --read-only --cap-drop=ALL --security-opt=no-new-privileges \
  --env-file "$ATLAS_ROOT/deploy/k8s/base/atlas.env"
# Log lines are JSON objects: the ConfigMap's ATLAS_LOG_FORMAT=json arrived.
# (Only the format is checked: the messages belong to the server.)
grep -q '^{' <<<"$("${PODMAN[@]}" logs "$NAME" 2>&1)" ||
  fail "no JSON log line: ATLAS_LOG_FORMAT=json from the ConfigMap was not applied"
after=$(ctl get documents/container-test-note -o json | "$PYTHON" -c \
  'import json, sys; print(json.load(sys.stdin)["update_revision"])')
[ "$after" = "$revision" ] || fail "the change moved from revision $revision to $after"
expect_contains "$(ctl get documents/container-test-note)" "Container test note" "change after restart"
expect_contains "$(ctl get organizations/wto)" "World Trade Organization" "seeded data after restart"

step "podman restart"
"${PODMAN[@]}" restart -t 30 "$NAME" >/dev/null
wait_healthy "127.0.0.1:$PORT"
expect_contains "$(ctl get documents/container-test-note)" "Container test note" "change after podman restart"
graceful_stop
"${PODMAN[@]}" rm "$NAME" >/dev/null

step "the dev overlay's pod under podman kube play"
# deploy/k8s/overlays/dev rendered, its StatefulSet's pod template run as a
# Pod with its ConfigMap: securityContext (uid 65532, read-only root, no
# capabilities), envFrom, the /tmp emptyDir and the data claim, as written.
# Needs kubectl (or kustomize), python3-yaml and catatonit (the pod's pause
# process); podman ignores the gRPC probes.
KUBE_PLAY_SKIP=""
if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
  RENDER=(kubectl kustomize)
elif command -v kustomize >/dev/null; then
  RENDER=(kustomize build)
else
  KUBE_PLAY_SKIP="no kubectl or kustomize"
fi
"$PYTHON" -c 'import yaml' 2>/dev/null || KUBE_PLAY_SKIP="no python3-yaml"
command -v catatonit >/dev/null || KUBE_PLAY_SKIP="no catatonit (apt-get install catatonit)"
if [ -n "$KUBE_PLAY_SKIP" ]; then
  echo "(skipped: $KUBE_PLAY_SKIP)"
else
  "${RENDER[@]}" "$ATLAS_ROOT/deploy/k8s/overlays/dev" >"$WORK/dev.yaml"
  PORT=$(free_port)
  HEALTH_PORT=$(free_port)
  "$PYTHON" "$ATLAS_ROOT/tests/deploy/statefulset_to_pod.py" "$WORK/dev.yaml" "$TAG" "$PORT" \
    "$WORK/pod.yaml" "$WORK/configmaps.yaml" "$HEALTH_PORT"
  # kube play has no --ulimit: the same limits as containers.conf defaults.
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=4096:4096"]\n' \
    "$NOFILE" "$NOFILE" >"$WORK/containers.conf"
  CONTAINERS_CONF="$WORK/containers.conf" "${PODMAN[@]}" kube play \
    --configmap "$WORK/configmaps.yaml" "$WORK/pod.yaml" >/dev/null
  NAME=atlas-kube-play-atlas-server  # for the logs on failure
  wait_healthy "127.0.0.1:$PORT"
  # What the kubelet's probes ask (podman runs no gRPC probes): the health
  # port of the manifests answers, in plaintext.
  if "$PYTHON" -c 'import grpc' 2>/dev/null; then
    wait_healthy "127.0.0.1:$HEALTH_PORT"
  else
    echo "(python3-grpcio missing: the probes' health port is not checked)"
  fi
  expect_contains "$(ctl get organizations/wto)" "World Trade Organization" "kube play: atlasctl get"
  info=$("${PODMAN[@]}" inspect "$NAME" \
    --format '{{.Config.User}} ro={{.HostConfig.ReadonlyRootfs}} caps=[{{.EffectiveCaps}}]')
  echo "$info"
  [ "$info" = "65532:65532 ro=true caps=[[]]" ] || fail "kube play: unexpected user/rootfs/caps: $info"
  if grep -q '^{' <<<"$("${PODMAN[@]}" logs "$NAME" 2>&1)"; then
    fail "kube play: JSON logs, but the dev ConfigMap sets ATLAS_LOG_FORMAT=text"
  fi
  "${PODMAN[@]}" pod rm -f -t 30 atlas-kube-play >/dev/null
fi

echo "PASS: container_test (${SECONDS}s)"
