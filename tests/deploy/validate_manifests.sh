#!/usr/bin/env bash
# Offline validation of the Kubernetes manifests in deploy/k8s.
#
#   tests/deploy/validate_manifests.sh
#       renders the base and every overlay (kubectl kustomize, or kustomize
#       build) and validates each object against the Kubernetes schemas
#       (kubernetes-models@4), rejects unknown fields (@kubernetes/client-node@1
#       round trip) and checks deploy/k8s' own rules (atlas_policy.mjs).
#   tests/deploy/validate_manifests.sh [--policy] FILE...
#       validates plain manifest files (no kustomize); --policy adds the rules.
#   tests/deploy/validate_manifests.sh [--policy] --expect-invalid REGEX FILE...
#       succeeds only if the validator rejects FILE (exit 1) with a message
#       matching REGEX (grep -E): the check of the check.
#
# The node programs' dependencies are installed with `npm ci` into
# tests/deploy/node_modules when missing or out of date (needs the npm
# registry once; offline afterwards). Exit status 77 (skipped) when node/npm,
# or for overlays a kustomize renderer, is not installed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ATLAS_ROOT=$(cd "$HERE/../.." && pwd)
K8S="$ATLAS_ROOT/deploy/k8s"

skip() { echo "SKIP: validate_manifests: $*"; exit 77; }
die() { echo "validate_manifests: $*" >&2; exit 2; }

POLICY=()
EXPECT=""
EXPECT_SET=0
FILES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --policy) POLICY=(--atlas-policy); shift ;;
    --expect-invalid) EXPECT=${2?--expect-invalid needs a REGEX}; EXPECT_SET=1; shift 2 ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) FILES+=("$1"); shift ;;
  esac
done
[ "$EXPECT_SET" = 0 ] || [ ${#FILES[@]} -gt 0 ] || die "--expect-invalid needs FILE arguments"

command -v node >/dev/null || skip "node not installed"
command -v npm >/dev/null || skip "npm not installed"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || skip "node $(node --version) is older than 20"

# npm ci when node_modules is missing or older than the lockfile; one at a
# time (ctest runs several of these checks in parallel).
install_dependencies() {
  local stamp="$HERE/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ ! "$HERE/package-lock.json" -nt "$stamp" ]; then return 0; fi
  echo "validate_manifests: npm ci in $HERE" >&2
  (cd "$HERE" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error >&2) ||
    die "npm ci failed (the npm registry is needed for the first install)"
  touch "$stamp"
}
exec 9>"$HERE/.npm-ci.lock"
if command -v flock >/dev/null; then flock 9; fi
install_dependencies
exec 9>&-

VALIDATOR=(node "$HERE/validate_manifests.mjs")

if [ ${#FILES[@]} -gt 0 ]; then
  if [ "$EXPECT_SET" = 0 ]; then
    exec "${VALIDATOR[@]}" "${POLICY[@]}" "${FILES[@]}"
  fi
  set +e
  output=$("${VALIDATOR[@]}" "${POLICY[@]}" "${FILES[@]}" 2>&1)
  status=$?
  set -e
  printf '%s\n' "$output"
  if [ $status -ne 1 ]; then
    echo "FAIL: expected the validator to reject ${FILES[*]} (exit 1), got exit $status" >&2
    exit 1
  fi
  if ! grep -qE -- "$EXPECT" <<<"$output"; then
    echo "FAIL: rejected, but no message matches /$EXPECT/" >&2
    exit 1
  fi
  echo "PASS: ${FILES[*]} rejected as expected (/$EXPECT/)"
  exit 0
fi

# Overlays: render with kustomize (kubectl's built-in one, or the standalone).
if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
  RENDER=(kubectl kustomize)
elif command -v kustomize >/dev/null; then
  RENDER=(kustomize build)
else
  skip "neither kubectl (kubectl kustomize) nor kustomize installed"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/atlas-manifests.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
targets=("$K8S/base")
for overlay in "$K8S"/overlays/*/; do targets+=("${overlay%/}"); done
[ ${#targets[@]} -ge 3 ] || die "expected deploy/k8s/overlays/dev and prod"

failed=0
for target in "${targets[@]}"; do
  label=${target#"$ATLAS_ROOT/"}
  out="$WORK/$(echo "$label" | tr / _).yaml"
  if ! "${RENDER[@]}" "$target" >"$out" 2>"$out.err"; then
    cat "$out.err" >&2
    echo "INVALID $label: ${RENDER[*]} failed" >&2
    failed=1
    continue
  fi
  "${VALIDATOR[@]}" --atlas-policy --label "$label" "$out" || failed=1
done
if [ $failed -ne 0 ]; then
  echo "FAIL: validate_manifests" >&2
  exit 1
fi
echo "PASS: validate_manifests (${#targets[@]} kustomizations, rendered with ${RENDER[*]})"
