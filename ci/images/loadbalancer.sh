#!/usr/bin/env bash
# The image of kind's load balancer (clusters with several control-plane nodes), under the
# name kind's source gives it (pkg/cluster/internal/loadbalancer/const.go): offline a
# stand-in (loadbalancer/), since no registry here serves envoyproxy/envoy. With internet
# kind pulls the real one: this step only builds what is missing.
STEP=loadbalancer
source "$(dirname "$0")/lib.sh"

CONST="$(go_module_dir "sigs.k8s.io/kind@$KIND_VERSION")/pkg/cluster/internal/loadbalancer/const.go"
IMAGE=$(sed -n 's/^const Image = "\(.*\)"$/\1/p' "$CONST")
[ -n "$IMAGE" ] || die "no load balancer image in $CONST"
build() { docker_build "$IMAGE" loadbalancer "$IMAGES_DIR/loadbalancer"; }
KEY="loadbalancer-${IMAGE##*/}-$(cat "$IMAGES_DIR"/loadbalancer/* | sha256sum | cut -c1-12)"
KEY=${KEY//:/-}
image_present "$IMAGE" || rm -f "$SUITE_CACHE/stamps/$KEY"
cached "$KEY" build
