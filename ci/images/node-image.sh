#!/usr/bin/env bash
# Builds tutorial-suite/node:$KUBERNETES_VERSION the way `kind build node-image` does
# (sigs.k8s.io/kind pkg/build/nodeimage/buildcontext.go): a build container of the base
# image gets kubeadm, kubelet and kubectl, /kind/version and the default CNI and storage
# manifests, and every image the node runs imported into its containerd; then it is
# committed. kind pulls the non-Kubernetes images from registries inside the build
# container; here they are imported from the local engine instead.
STEP=node-image
source "$(dirname "$0")/lib.sh"

V="$KUBERNETES_VERSION"
KUBE_BIN="$SUITE_CACHE/kubernetes/$V/bin"
BASE_IMAGE="tutorial-suite/kind-base:$KIND_VERSION"
NODE_IMAGE="${NODE_IMAGE:-tutorial-suite/node:$V}"

kubeadm_images() {
  "$KUBE_BIN/kubeadm" config images list --kubernetes-version "$V" 2>/dev/null | grep -v /pause:
}

build() {
  local kind_dir
  kind_dir=$(go_module_dir "sigs.k8s.io/kind@$KIND_VERSION")
  local pause images
  pause=$(sed -n 's/^ *sandbox_image = "\(.*\)"/\1/p' "$kind_dir/images/base/files/etc/containerd/config.toml")
  mapfile -t images < <(kubeadm_images; echo "$pause"; echo "$FLANNEL_IMAGE"
    echo "$LOCAL_PATH_PROVISIONER_IMAGE"; echo "$LOCAL_PATH_HELPER_IMAGE")
  local image
  for image in "${images[@]}"; do image_present "$image" || die "missing image $image: run addons.sh"; done
  docker save -o "$work/images.tar" "${images[@]}"

  sed "s|FLANNEL_IMAGE|$FLANNEL_IMAGE|g" "$IMAGES_DIR/node/default-cni.yaml" > "$work/default-cni.yaml"
  python3 "$IMAGES_DIR/kind_manifest.py" "$kind_dir/pkg/build/nodeimage/const_storage.go" \
    defaultStorageManifest "storageProvisionerImage=$LOCAL_PATH_PROVISIONER_IMAGE" \
    "storageHelperImage=$LOCAL_PATH_HELPER_IMAGE" > "$work/default-storage.yaml"
  echo -n "$V" > "$work/version"

  docker run -d --entrypoint=sleep --name="$id" --security-opt seccomp=unconfined \
    "$BASE_IMAGE" infinity >/dev/null
  local bin
  for bin in kubeadm kubelet kubectl; do
    docker cp "$KUBE_BIN/$bin" "$id:/usr/bin/$bin"
    docker exec "$id" chown root:root "/usr/bin/$bin"
    docker exec "$id" chmod +x "/usr/bin/$bin"
  done
  docker exec "$id" mkdir -p /kind/manifests
  docker cp "$work/version" "$id:/kind/version"
  docker cp "$work/default-cni.yaml" "$id:/kind/manifests/default-cni.yaml"
  docker cp "$work/default-storage.yaml" "$id:/kind/manifests/default-storage.yaml"

  docker exec "$id" bash -c 'nohup containerd > /dev/null 2>&1 &'
  docker exec "$id" bash -c 'for i in $(seq 1 30); do [ -S /run/containerd/containerd.sock ] && break; sleep 1; done; ctr info >/dev/null' \
    || die "containerd did not become ready in the build container"
  docker exec -i "$id" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned \
    --all-platforms --no-unpack --digests - < "$work/images.tar" >/dev/null
  log "imported: $(docker exec "$id" ctr --namespace=k8s.io images list -q | grep -v '^sha256:' | tr '\n' ' ')"
  docker exec "$id" pkill containerd
  # sleep, the build container's PID 1, reaps nothing: a stopped containerd stays a zombie.
  docker exec "$id" bash -c 'for i in $(seq 1 30); do ps -C containerd -o stat= | grep -qv Z || exit 0; sleep 1; done; exit 1' \
    || die "containerd did not stop in the build container"

  docker commit \
    --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
    --change 'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""' \
    "$id" "$NODE_IMAGE" >/dev/null
}

# The build container and its files go away however the build ends.
work=$(mktemp -d)
id="tutorial-suite-build-$$"
trap 'docker rm -f -v "$id" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# Keyed by everything the image is made of (not by which versions the matrix runs).
KEY="node-$V-kind-$KIND_VERSION-$(cat "$IMAGES_DIR/node/default-cni.yaml" "$IMAGES_DIR/node-image.sh" \
  <(grep -v '_MATRIX_VERSIONS=' "$IMAGES_DIR/versions.env") | sha256sum | cut -c1-12)"
image_present "$NODE_IMAGE" || rm -f "$SUITE_CACHE/stamps/$KEY"
cached "$KEY" build
