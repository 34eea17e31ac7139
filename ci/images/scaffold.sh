#!/usr/bin/env bash
# What section VI's workflow (suites/test_operator_workflow.py) needs offline:
# - kubebuilder (its go/v4 plugin is operator-sdk's Go scaffold; operator-sdk itself is
#   not served by the Go module proxy) into $SUITE_CACHE/bin;
# - stand-ins for the two base images of the scaffold's Dockerfile, under the names that
#   kubebuilder's Dockerfile template gives them (read from its source): the Go builder
#   (the Go toolchain from the Go module proxy on our Debian base) and distroless/static
#   (an empty root with a nonroot user, 65532);
# - the registry image with htpasswd, for the registry that requires a login.
# With internet, a user has operator-sdk (or kubebuilder) and pulls the real base images:
# this step only builds what is missing.
STEP=scaffold
source "$(dirname "$0")/lib.sh"
# shellcheck source=operator-workflow.env
source "$IMAGES_DIR/operator-workflow.env"

BIN="$SUITE_CACHE/bin"
# `go install module@version` (its go.mod has no replace) records the version in the
# binary's build info: kubebuilder reports it, and writes it into PROJECT as cliVersion.
build_kubebuilder() {
  GOBIN="$BIN" GOFLAGS=-trimpath go install -ldflags "-s -w" \
    "sigs.k8s.io/kubebuilder/v4@$KUBEBUILDER_VERSION"
}
[ -x "$BIN/kubebuilder" ] || rm -f "$SUITE_CACHE/stamps/kubebuilder-installed-$KUBEBUILDER_VERSION"
cached "kubebuilder-installed-$KUBEBUILDER_VERSION" build_kubebuilder

# The scaffold's base images, as kubebuilder's Dockerfile template names them.
TEMPLATE="$(go_module_dir "sigs.k8s.io/kubebuilder/v4@$KUBEBUILDER_VERSION")/$DOCKERFILE_TEMPLATE"
GO_IMAGE=$(sed -n 's/^ARG BASE_IMAGE=\(\S*\)$/\1/p' "$TEMPLATE")
DISTROLESS_IMAGE=$(sed -n 's/^FROM \(\S*distroless\S*\)$/\1/p' "$TEMPLATE")
[ -n "$GO_IMAGE" ] && [ -n "$DISTROLESS_IMAGE" ] || die "no base images in $TEMPLATE"
[ "${GO_IMAGE##*:}" = "${GO_IMAGE_VERSION%.*}" ] || die "kubebuilder $KUBEBUILDER_VERSION builds FROM $GO_IMAGE: pin GO_IMAGE_VERSION to a $GO_IMAGE release"

digest() { cat "$IMAGES_DIR/$1/Dockerfile" "$IMAGES_DIR/operator-workflow.env" | sha256sum | cut -c1-12; }

build_golang() {
  local src ctx
  src=$(go_module_dir "golang.org/toolchain@v0.0.1-go$GO_IMAGE_VERSION.linux-amd64")
  ctx=$(mktemp -d)
  cp -r "$src" "$ctx/go" && chmod -R u+w "$ctx/go"
  # The module's zip keeps no file modes; the go command sets these when it uses one.
  chmod 0755 "$ctx"/go/bin/* "$ctx"/go/pkg/tool/*/*
  # The machine's trusted CAs (as its Go proxy settings): where egress goes through a TLS
  # proxy, `go mod download` in the image must trust what the host trusts.
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
  docker_build "$GO_IMAGE" golang "$ctx" --build-arg "GOLANG_VERSION=$GO_IMAGE_VERSION" \
    --build-arg "GOPROXY=$(go env GOPROXY)" --build-arg "GOSUMDB=$(go env GOSUMDB)"
  rm -rf "$ctx"
}
key="golang-$GO_IMAGE_VERSION-$(digest golang)"
image_present "$GO_IMAGE" || rm -f "$SUITE_CACHE/stamps/$key"
cached "$key" build_golang

build_distroless() { docker_build "$DISTROLESS_IMAGE" distroless-static "$IMAGES_DIR/distroless-static"; }
key="distroless-static-$(digest distroless-static)"
image_present "$DISTROLESS_IMAGE" || rm -f "$SUITE_CACHE/stamps/$key"
cached "$key" build_distroless

build_registry_auth() {
  image_present "$REGISTRY_IMAGE" || die "$REGISTRY_IMAGE is missing: run ci/images/workloads.sh first"
  docker_build "$REGISTRY_AUTH_IMAGE" registry-auth "$IMAGES_DIR/registry-auth" \
    --build-arg "REGISTRY_IMAGE=$REGISTRY_IMAGE"
}
key="registry-auth-$(digest registry-auth)"
image_present "$REGISTRY_AUTH_IMAGE" || rm -f "$SUITE_CACHE/stamps/$key"
cached "$key" build_registry_auth

# What section VI's workflow compiles, compiled once here, so that its first run costs
# about what a warm run does: the scaffold's image (`make docker-build`: BuildKit keeps
# its `go mod download` and `go build` layers, keyed by the sources, which are operator/'s:
# ci/operator_source.py checks), and the tools its Makefile `go install`s (Go's module
# and build caches keep them). Not stamped: a pruned cache is warmed again, and a warm
# one costs seconds.
warm_workflow() {
  local makefile="$IMAGES_DIR/../../operator/Makefile" bin tag=tutorial-suite/workflow-warm:scratch
  docker build -q -t "$tag" "$IMAGES_DIR/../../operator" >/dev/null
  docker rmi -f "$tag" >/dev/null
  bin=$(mktemp -d)
  GOBIN="$bin" go install "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_TOOLS_VERSION"
  GOBIN="$bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$(sed -n 's/^KUSTOMIZE_VERSION ?= //p' "$makefile")"
  rm -rf "$bin"
}
t0=$(date +%s)
warm_workflow
log "section VI's builds warm in $(( $(date +%s) - t0 ))s"
