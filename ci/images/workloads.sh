#!/usr/bin/env bash
# Builds the images the tutorial's workloads and the suite run, under the names the
# tutorial uses (redis, memcached), and pushes them to the local registry mirror.
STEP=workloads
source "$(dirname "$0")/lib.sh"

REGISTRY="localhost:$REGISTRY_PORT"

# name of image -> Dockerfile directory
declare -A WORKLOADS=(
  [redis:latest]=redis
  [memcached:latest]=memcached
  ["$DEBUG_IMAGE"]=debug
  ["$REGISTRY_IMAGE"]=registry
)

build_image() { docker_build "$1" "$2" "$IMAGES_DIR/$2"; }

for tag in "${!WORKLOADS[@]}"; do
  dir="${WORKLOADS[$tag]}"
  key="workload-$dir-$DEBIAN_SUITE-$(cat "$IMAGES_DIR/$dir"/* | sha256sum | cut -c1-12)"
  image_present "$tag" || rm -f "$SUITE_CACHE/stamps/$key"
  cached "$key" build_image "$tag" "$dir"
done

# The registry: Debian's docker-registry in a container, kept across runs like a cache.
if [ "$(docker inspect -f '{{.State.Running}}' "$REGISTRY_NAME" 2>/dev/null)" != true ]; then
  docker rm -f "$REGISTRY_NAME" >/dev/null 2>&1 || true
  mkdir -p "$SUITE_CACHE/registry"
  docker run -d --restart=always --name "$REGISTRY_NAME" -p "127.0.0.1:$REGISTRY_PORT:5000" \
    -v "$SUITE_CACHE/registry:/var/lib/docker-registry" "$REGISTRY_IMAGE" >/dev/null
  for _ in $(seq 1 30); do curl -fs "http://$REGISTRY/v2/" >/dev/null && break; sleep 1; done
  curl -fs "http://$REGISTRY/v2/" >/dev/null || die "registry did not answer on $REGISTRY"
  log "registry $REGISTRY_NAME serving on $REGISTRY"
fi

# Mirror paths: docker.io/library/redis is served as $REGISTRY/library/redis.
push() {
  local tag="$1" path="$2"
  docker tag "$tag" "$REGISTRY/$path"
  docker push -q "$REGISTRY/$path" >/dev/null
  docker rmi "$REGISTRY/$path" >/dev/null
  log "pushed $tag as $REGISTRY/$path"
}
push redis:latest library/redis:latest
push memcached:latest library/memcached:latest
push "$DEBUG_IMAGE" "$DEBUG_IMAGE"
