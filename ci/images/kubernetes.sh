#!/usr/bin/env bash
# Builds the Kubernetes binaries (kubeadm, kubelet, kubectl and the control-plane and
# kube-proxy servers) of $KUBERNETES_VERSION from the Go module proxy.
# Output: $SUITE_CACHE/kubernetes/$KUBERNETES_VERSION/bin/
STEP=kubernetes
source "$(dirname "$0")/lib.sh"

V="$KUBERNETES_VERSION"
[[ "$V" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "unknown Kubernetes version '$V' (want v1.MINOR.PATCH)"
MINOR="${BASH_REMATCH[1]}"
OUT="$SUITE_CACHE/kubernetes/$V"
COMPONENTS=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)

build() {
  local work="$SUITE_CACHE/kubernetes/$V.work"
  rm -rf "$work" && mkdir -p "$work"
  local gomod
  gomod=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$V" | jq -er .GoMod) \
    || die "k8s.io/kubernetes@$V is not served by the Go module proxy (unknown version?)"
  # k8s.io/kubernetes replaces its staging modules with local paths, which a dependent
  # module ignores: pin each to its published v0.MINOR.PATCH (kubernetes#79384).
  local staging_version="v0.${V#v1.}"
  {
    echo "module tutorial-suite/kubernetes-build"
    echo
    grep -E '^(go|godebug) ' "$gomod"
    echo
    echo "require k8s.io/kubernetes $V"
    echo
    echo "replace ("
    awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print "\t" $1 " => " $1 " '"$staging_version"'"}' "$gomod"
    echo ")"
  } > "$work/go.mod"
  local pkgs=()
  for c in "${COMPONENTS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$work" && go get "${pkgs[@]/%/@$V}")
  local ldflags="-s -w" date
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$V -X $p.gitMajor=1 -X $p.gitMinor=$MINOR"
    ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done
  mkdir -p "$work/bin"
  (cd "$work" && go build -trimpath -ldflags "$ldflags" -o bin/ "${pkgs[@]}")
  "$work/bin/kubeadm" version -o short | grep -qx "$V" || die "kubeadm does not report $V"
  rm -rf "$OUT" && mkdir -p "$OUT" && mv "$work/bin" "$OUT/bin" && rm -rf "$work"
}

cached "kubernetes-$V" build
