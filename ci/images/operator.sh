#!/usr/bin/env bash
# Builds the image of the tutorial's Memcached operator (operator/) from its sources.
STEP=operator
source "$(dirname "$0")/lib.sh"

IMAGE="tutorial-suite/memcached-operator:v0.0.1"
SRC="$IMAGES_DIR/../../operator"
HASH=$( (cd "$SRC" && find . -name '*.go' -o -name go.mod -o -name go.sum | sort | xargs cat
  cat "$IMAGES_DIR/operator/Dockerfile") | sha256sum | cut -c1-12)

build() {
  local ctx
  ctx=$(mktemp -d)
  (cd "$SRC" && go build -trimpath -ldflags "-s -w" -o "$ctx/bin/manager" ./cmd)
  docker_build "$IMAGE" operator "$ctx"
  rm -rf "$ctx"
}

image_present "$IMAGE" || rm -f "$SUITE_CACHE/stamps/operator-$HASH"
cached "operator-$HASH" build
