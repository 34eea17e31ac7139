#!/usr/bin/env bash
# Builds the Kubernetes binaries (kubeadm, kubelet, kubectl and the control-plane and
# kube-proxy servers) of $KUBERNETES_VERSION from the Go module proxy.
# Output: $SUITE_CACHE/kubernetes/$KUBERNETES_VERSION/bin/
STEP=kubernetes
source "$(dirname "$0")/lib.sh"

V="$KUBERNETES_VERSION"
[[ "$V" =~ ^v1\.([0-9]+)\.([0-9]+)(-(alpha|beta|rc)\.[0-9]+)?$ ]] \
  || die "unknown Kubernetes version '$V' (want v1.MINOR.PATCH, or a pre-release v1.MINOR.PATCH-rc.N)"
MINOR="${BASH_REMATCH[1]}"
OUT="$SUITE_CACHE/kubernetes/$V"
GOTOOLCHAIN_WAS="${GOTOOLCHAIN:-$(go env GOTOOLCHAIN)}"
COMPONENTS=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)

build() {
  local work="$SUITE_CACHE/kubernetes/$V.work"
  rm -rf "$work" && mkdir -p "$work"
  local gomod got
  got=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$V" || true)
  if jq -er .Error <<<"$got" | grep -q "requires go >="; then
    # A release that asks for a newer Go than this machine's gets it from the Go module
    # proxy, as the go command fetches any toolchain (GO_NEXT_TOOLCHAIN, versions.env).
    log "k8s.io/kubernetes@$V: $(jq -r .Error <<<"$got"): GOTOOLCHAIN=$GO_NEXT_TOOLCHAIN"
    export GOTOOLCHAIN="$GO_NEXT_TOOLCHAIN"
    got=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$V" || true)
  fi
  gomod=$(jq -er .GoMod <<<"$got" 2>/dev/null) || die "k8s.io/kubernetes@$V: $(
    jq -r '.Error // "not served by the Go module proxy (unknown version?)"' <<<"$got" 2>/dev/null)"
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
  local refused="" borrowed=() c
  if ! got=$(cd "$work" && go get "${pkgs[@]/%/@$V}" 2>&1); then
    # the go command's own line for it: "...: reading <proxy>/<module>/@v/<v>.zip: 403 Forbidden"
    refused=$(grep -m1 -E ': reading .*: [0-9]{3} |not available|not found' <<<"$got" \
      | sed -E 's|reading [^ ]*/([^/@ ]+)/@v/([^ ]+)\.zip|\1@\2 zip|' || tail -1 <<<"$got")
    # A module the proxy does not serve: build what needs none of it, and take the rest
    # from STAND_IN_VERSION (versions.env), named as a stand-in (bin/STAND-INS).
    [ "$V" != "$STAND_IN_VERSION" ] || die "go get of k8s.io/kubernetes@$V failed: $refused"
    pkgs=()
    for c in "${COMPONENTS[@]}"; do
      if (cd "$work" && go get "k8s.io/kubernetes/cmd/$c@$V" >/dev/null 2>&1); then
        pkgs+=("k8s.io/kubernetes/cmd/$c")
      else
        borrowed+=("$c")
      fi
    done
    [[ " ${borrowed[*]} " != *" kubeadm "* ]] \
      || die "go get of k8s.io/kubernetes@$V failed, kubeadm too: $refused"
    log "the proxy refuses what ${borrowed[*]} of $V need ($refused): $STAND_IN_VERSION's stand in"
    GOTOOLCHAIN="$GOTOOLCHAIN_WAS" KUBERNETES_VERSION="$STAND_IN_VERSION" \
      bash "$IMAGES_DIR/kubernetes.sh" || die "building the stand-ins ($STAND_IN_VERSION) failed"
  fi
  local ldflags="-s -w" date
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$V -X $p.gitMajor=1 -X $p.gitMinor=$MINOR"
    ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done
  mkdir -p "$work/bin"
  (cd "$work" && go build -trimpath -ldflags "$ldflags" -o bin/ "${pkgs[@]}")
  "$work/bin/kubeadm" version -o short | grep -qx "$V" || die "kubeadm does not report $V"
  for c in "${borrowed[@]}"; do
    cp "$SUITE_CACHE/kubernetes/$STAND_IN_VERSION/bin/$c" "$work/bin/$c"
    echo "$c $STAND_IN_VERSION: $refused" >> "$work/bin/STAND-INS"
  done
  rm -rf "$OUT" && mkdir -p "$OUT" && mv "$work/bin" "$OUT/bin" && rm -rf "$work"
}

cached "kubernetes-$V" build
