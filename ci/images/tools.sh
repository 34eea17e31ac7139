#!/usr/bin/env bash
# Builds the kind binary from the Go module proxy and installs it, with the kubectl of
# $KUBERNETES_VERSION (as kubectl and as kubectl-$KUBERNETES_VERSION, for runs on several
# versions), into $SUITE_CACHE/bin.
STEP=tools
source "$(dirname "$0")/lib.sh"

BIN="$SUITE_CACHE/bin"
build_kind() { go_build_module "sigs.k8s.io/kind@$KIND_VERSION" "$BIN" -ldflags "-s -w" .; }
[ -x "$BIN/kind" ] || rm -f "$SUITE_CACHE/stamps/kind-$KIND_VERSION"
cached "kind-$KIND_VERSION" build_kind
install -m 0755 "$SUITE_CACHE/kubernetes/$KUBERNETES_VERSION/bin/kubectl" "$BIN/kubectl"
install -m 0755 "$BIN/kubectl" "$BIN/kubectl-$KUBERNETES_VERSION"
log "$("$BIN/kind" version)"
