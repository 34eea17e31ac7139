#!/usr/bin/env bash
# Builds the images a kind node runs besides its base: the control-plane and kube-proxy
# images of $KUBERNETES_VERSION, and etcd, CoreDNS and pause at the tags that version's
# kubeadm asks for, plus the CNI (flannel) and storage (local-path) add-ons.
STEP=addons
source "$(dirname "$0")/lib.sh"

V="$KUBERNETES_VERSION"
KUBE_BIN="$SUITE_CACHE/kubernetes/$V/bin"
[ -x "$KUBE_BIN/kubeadm" ] || die "no Kubernetes binaries for $V: run kubernetes.sh first"

# image_step TAG KEY FUNCTION: runs FUNCTION (which builds TAG) unless cached and present.
image_step() {
  image_present "$1" || rm -f "$SUITE_CACHE/stamps/$2"
  cached "$2" "$3" "$1"
}

kubeadm_image() {  # kubeadm_image NAME: the image kubeadm of $V uses for NAME
  "$KUBE_BIN/kubeadm" config images list --kubernetes-version "$V" 2>/dev/null | grep -m1 "/$1:"
}

build_control_plane() {
  local c ctx
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    ctx=$(mktemp -d); mkdir "$ctx/bin"; cp "$KUBE_BIN/$c" "$ctx/bin/"
    docker_build "registry.k8s.io/$c:$V" static-binary "$ctx"; rm -rf "$ctx"
  done
  ctx=$(mktemp -d); mkdir "$ctx/bin"; cp "$KUBE_BIN/kube-proxy" "$ctx/bin/"
  docker_build "registry.k8s.io/kube-proxy:$V" kube-proxy "$ctx"; rm -rf "$ctx"
}

build_etcd() {  # tag like 3.6.5-0: the etcd release is the part before the dash
  local tag="$1" version ctx
  version="v${tag##*:}"; version="${version%-*}"
  ctx=$(mktemp -d)
  local ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$version"
  # go names a binary after the element before a /vN suffix: server, etcdctl.
  go_build_module "go.etcd.io/etcd/server/v3@$version" "$ctx/bin" -ldflags "$ldflags" .
  mv "$ctx/bin/server" "$ctx/bin/etcd"
  go_build_module "go.etcd.io/etcd/etcdctl/v3@$version" "$ctx/bin" -ldflags "$ldflags" .
  docker_build "$tag" static-binary "$ctx"; rm -rf "$ctx"
}

build_coredns() {
  local tag="$1" ctx
  ctx=$(mktemp -d)
  go_build_module "github.com/coredns/coredns@${tag##*:}" "$ctx/bin" -ldflags "-s -w" .
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
  docker_build "$tag" coredns "$ctx"; rm -rf "$ctx"
}

build_pause() {
  local tag="$1" ctx src
  ctx=$(mktemp -d); mkdir "$ctx/bin"
  src=$(go_module_dir "k8s.io/kubernetes@$V")/build/pause/linux/pause.c
  gcc -Os -Wall -Werror -static -DVERSION="v${tag##*:}" -o "$ctx/bin/pause" "$src"
  docker_build "$tag" pause "$ctx"; rm -rf "$ctx"
}

build_flannel() {
  local tag="$1" ctx
  ctx=$(mktemp -d)
  # Without the Tencent Cloud VPC backend, whose SDK the Go module proxy does not serve;
  # static with cgo, as flannel's Makefile builds it (its udp backend has C code).
  GO_MODULE_PATCH="sed -i '/pkg\/backend\/tencentvpc\"/d' main.go" CGO_ENABLED=1 \
    go_build_module "github.com/flannel-io/flannel@$FLANNEL_VERSION" "$ctx/bin" \
    -tags "netgo osusergo" -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$FLANNEL_VERSION -extldflags -static" \
    . ./cmd/install_conf
  # The flannel CNI plugin left containernetworking/plugins after v0.9.1 for a repository
  # the Go module proxy does not serve; v0.9.1's is the same plugin. It delegates to bridge.
  go_build_module "github.com/containernetworking/plugins@$FLANNEL_CNI_PLUGIN_VERSION" "$ctx/bin/cni" \
    -ldflags "-s -w" ./plugins/meta/flannel
  go_build_module "github.com/containernetworking/plugins@$CNI_PLUGINS_VERSION" "$ctx/bin/cni" \
    -ldflags "-s -w" ./plugins/main/bridge
  docker_build "$tag" flannel "$ctx"; rm -rf "$ctx"
}

build_local_path_provisioner() {
  local tag="$1" ctx
  ctx=$(mktemp -d)
  go_build_module "github.com/rancher/local-path-provisioner@$LOCAL_PATH_PROVISIONER_VERSION" "$ctx/bin" \
    -ldflags "-s -w -X main.VERSION=$LOCAL_PATH_PROVISIONER_VERSION" .
  docker_build "$tag" local-path-provisioner "$ctx"; rm -rf "$ctx"
}

build_local_path_helper() { docker_build "$1" local-path-helper "$(mktemp -d)"; }

# The sandbox image is the one kind's containerd config names, as kind's own build reads it.
PAUSE_IMAGE=$(sed -n 's/^ *sandbox_image = "\(.*\)"/\1/p' \
  "$(go_module_dir "sigs.k8s.io/kind@$KIND_VERSION")/images/base/files/etc/containerd/config.toml")
[ -n "$PAUSE_IMAGE" ] || die "no sandbox_image in kind's containerd config"
ETCD_IMAGE=$(kubeadm_image etcd)
COREDNS_IMAGE=$(kubeadm_image coredns)
image_step "registry.k8s.io/kube-apiserver:$V" "control-plane-$V" build_control_plane
image_step "registry.k8s.io/kube-proxy:$V" "control-plane-$V" build_control_plane
image_step "$ETCD_IMAGE" "etcd-${ETCD_IMAGE##*:}" build_etcd
image_step "$COREDNS_IMAGE" "coredns-${COREDNS_IMAGE##*:}" build_coredns
image_step "$PAUSE_IMAGE" "pause-${PAUSE_IMAGE##*:}" build_pause
image_step "$FLANNEL_IMAGE" "flannel-$FLANNEL_VERSION" build_flannel
image_step "$LOCAL_PATH_PROVISIONER_IMAGE" "local-path-provisioner-$LOCAL_PATH_PROVISIONER_VERSION" build_local_path_provisioner
image_step "$LOCAL_PATH_HELPER_IMAGE" "local-path-helper-$DEBIAN_SUITE" build_local_path_helper

# The binaries controller-runtime's envtest runs (operator/'s controller tests, `make test`
# without setup-envtest's download): kube-apiserver and kubectl of $V, and etcd from its image.
ENVTEST_DIR="$SUITE_CACHE/envtest/$V"
build_envtest() {
  local c
  mkdir -p "$ENVTEST_DIR"
  cp "$KUBE_BIN/kube-apiserver" "$KUBE_BIN/kubectl" "$ENVTEST_DIR/"
  c=$(docker create "$ETCD_IMAGE" /usr/local/bin/etcd)
  docker cp "$c:/usr/local/bin/etcd" "$ENVTEST_DIR/etcd" || { docker rm "$c" >/dev/null; die "no etcd in $ETCD_IMAGE"; }
  docker rm "$c" >/dev/null
}
[ -x "$ENVTEST_DIR/etcd" ] || rm -f "$SUITE_CACHE/stamps/envtest-$V-${ETCD_IMAGE##*:}"
cached "envtest-$V-${ETCD_IMAGE##*:}" build_envtest
