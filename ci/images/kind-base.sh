#!/usr/bin/env bash
# Builds kind's base image: kind's files and package list, with containerd, runc, crictl
# CNI plugins and containerd-fuse-overlayfs built from the Go module proxy at the versions
# kind pins, on Debian trixie as kind's own base.
STEP=kind-base
source "$(dirname "$0")/lib.sh"

KEY="kind-base-$KIND_VERSION-containerd-$CONTAINERD_VERSION-runc-$RUNC_VERSION-crictl-$CRICTL_VERSION-cni-$CNI_PLUGINS_VERSION-fuse-$FUSE_OVERLAYFS_SNAPSHOTTER_VERSION-$KIND_BASE_DEBIAN_SUITE-$(sha256sum "$IMAGES_DIR/kind-base/Dockerfile" | cut -c1-12)"
IMAGE="tutorial-suite/kind-base:$KIND_VERSION"

build_binaries() {
  local bin="$1"
  # Static binaries: they must not depend on the build host's C library.
  go_build_module "github.com/containerd/containerd/v2@$CONTAINERD_VERSION" "$bin" \
    -tags "no_aufs no_zfs no_btrfs no_devmapper" \
    -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
    ./cmd/containerd ./cmd/ctr ./cmd/containerd-shim-runc-v2
  CGO_ENABLED=1 go_build_module "github.com/opencontainers/runc@$RUNC_VERSION" "$bin" \
    -tags "seccomp netgo osusergo" \
    -ldflags "-s -w -X main.version=${RUNC_VERSION#v} -extldflags -static" .
  go_build_module "sigs.k8s.io/cri-tools@$CRICTL_VERSION" "$bin" \
    -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" ./cmd/crictl
  go_build_module "github.com/containernetworking/plugins@$CNI_PLUGINS_VERSION" "$bin/cni" \
    -ldflags "-s -w" ./plugins/ipam/host-local ./plugins/main/loopback ./plugins/main/ptp ./plugins/meta/portmap
  go_build_module "github.com/containerd/fuse-overlayfs-snapshotter/v2@$FUSE_OVERLAYFS_SNAPSHOTTER_VERSION" "$bin" \
    -ldflags "-s -w" ./cmd/containerd-fuse-overlayfs-grpc
}

build() {
  local ctx
  ctx=$(mktemp -d)
  cp -r "$(go_module_dir "sigs.k8s.io/kind@$KIND_VERSION")/images/base/files" "$ctx/files"
  chmod -R u+w "$ctx/files"
  build_binaries "$ctx/bin"
  BASE_SUITE="$KIND_BASE_DEBIAN_SUITE" docker_build "$IMAGE" kind-base "$ctx"
  rm -rf "$ctx"
}

image_present "$IMAGE" || rm -f "$SUITE_CACHE/stamps/$KEY"
cached "$KEY" build
