#!/usr/bin/env bash
# With internet: installs kind (KIND_VERSION) and kubectl into $SUITE_CACHE/bin when they
# are not there yet: kubectl-VERSION of the given version (default: the first official
# node image's) and, without an argument, the same as `kubectl`. Both come from
# their release downloads, checked against the published SHA-256 sums. Offline, the
# toolchain builds both (ci/images/tools.sh) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=images/versions.env
source ci/images/versions.env
BIN="${SUITE_CACHE:-/var/cache/tutorial-suite}/bin"
mkdir -p "$BIN"
arch=$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')

fetch() {  # fetch URL SHA256_URL DEST
  local tmp; tmp=$(mktemp)
  curl -fsSL --retry 3 -o "$tmp" "$1" || { echo "install-tools: cannot download $1" >&2; exit 1; }
  local want; want=$(curl -fsSL --retry 3 "$2" | awk '{print $1}')
  echo "$want  $tmp" | sha256sum -c --quiet - || { echo "install-tools: checksum mismatch for $1" >&2; exit 1; }
  install -m 0755 "$tmp" "$3" && rm -f "$tmp"
}

if ! "$BIN/kind" version 2>/dev/null | grep -q "kind $KIND_VERSION "; then
  url="https://kind.sigs.k8s.io/dl/$KIND_VERSION/kind-linux-$arch"
  fetch "$url" "$url.sha256sum" "$BIN/kind"
fi
newest_official=$(sed -n 's|^kindest/node:\(v[^@]*\)@.*|\1|p' <<<"$OFFICIAL_NODE_IMAGES" | head -1)
kubectl_version=${1:-$newest_official}
if [ ! -x "$BIN/kubectl-$kubectl_version" ]; then
  url="https://dl.k8s.io/release/$kubectl_version/bin/linux/$arch/kubectl"
  fetch "$url" "$url.sha256" "$BIN/kubectl-$kubectl_version"
fi
[ $# -gt 0 ] || install -m 0755 "$BIN/kubectl-$kubectl_version" "$BIN/kubectl"
echo "[install-tools] $("$BIN/kind" version); kubectl $kubectl_version in $BIN" >&2
