# Shared helpers for the offline image build. Source it; do not run it.
# shellcheck shell=bash
set -euo pipefail

IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$IMAGES_DIR/versions.env"
SUITE_CACHE="${SUITE_CACHE:-/var/cache/tutorial-suite}"
mkdir -p "$SUITE_CACHE"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf '[%s] %s\n' "${STEP:-images}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# cached KEY CMD...: runs CMD unless a stamp for KEY exists; stamps only on success. A
# build says when it starts its step's number (STEP_NUMBER, from build.sh), what it builds
# and how long that took last time (any version: $SUITE_CACHE/durations), then every
# HEARTBEAT seconds how long it has run, against that.
HEARTBEAT=${HEARTBEAT:-60}
cached() {
  local key="$1"; shift
  local stamp="$SUITE_CACHE/stamps/$key"
  if [ -f "$stamp" ]; then log "cached: $key"; return 0; fi
  local record last="" t0 beat rc=0
  record="$SUITE_CACHE/durations/$(sed 's/-v[0-9].*//' <<<"$key")"
  [ ! -f "$record" ] || last=$(cat "$record")
  log "step ${STEP_NUMBER:-?}: building $key${last:+ (last time ${last}s)}"
  t0=$(date +%s)
  ( while sleep "$HEARTBEAT" </dev/null >/dev/null 2>&1; do  # the sleep holds no pipe
      log "  still building $key: $(( $(date +%s) - t0 ))s${last:+ of about ${last}s last time}"
    done ) &
  beat=$!
  # The step in a subshell: its `die` ends the step, not this shell, which then stops the
  # heartbeat (left running, its sleep held a reader's pipe open: the reader hung).
  ( "$@" ) || rc=$?
  kill "$beat" 2>/dev/null || true
  wait "$beat" 2>/dev/null || true
  [ "$rc" = 0 ] || return "$rc"
  mkdir -p "$(dirname "$stamp")" "$(dirname "$record")"
  echo "$(( $(date +%s) - t0 ))" | tee "$stamp" > "$record"
  log "built: $key in $(cat "$stamp")s"
}

# docker_build TAG DOCKERFILE_DIR CONTEXT [ARGS...]: builds TAG FROM our Debian base (of
# $BASE_SUITE, default $DEBIAN_SUITE); the build's log goes to $SUITE_CACHE/logs, and its
# end to stderr when it fails.
docker_build() {
  local tag="$1" dir="$2" ctx="$3"; shift 3
  local logfile="$SUITE_CACHE/logs/${tag//[\/:]/_}.log"
  mkdir -p "$SUITE_CACHE/logs"
  if ! docker build --progress=plain --build-arg "BASE_IMAGE=tutorial-suite/debian:${BASE_SUITE:-$DEBIAN_SUITE}" \
      -t "$tag" -f "$IMAGES_DIR/$dir/Dockerfile" "$@" "$ctx" >"$logfile" 2>&1; then
    tail -40 "$logfile" >&2
    die "building $tag failed (log: $logfile)"
  fi
  log "image $tag"
}

# image_present REF: the local docker engine has REF.
image_present() { docker image inspect "$1" >/dev/null 2>&1; }

# go_module_dir MODULE@VERSION: downloads a module from the Go module proxy, prints its dir.
go_module_dir() {
  local out
  out=$(cd "$(mktemp -d)" && go mod download -json "$1") || true
  jq -er .Dir <<<"$out" 2>/dev/null || die "$1 is not served by the Go module proxy: $(jq -r .Error <<<"$out" 2>/dev/null)"
}

# go_build_module MODULE@VERSION OUTDIR [GO BUILD ARGS...] PACKAGES...
# Builds packages of a module as its own main module, as its upstream build does, so its
# replace and exclude directives apply. Replaces that point at sibling directories
# (monorepos such as etcd) are dropped: the siblings come from the proxy at the versions
# the go.mod requires. GO_MODULE_PATCH, if set, is a shell command run in the module's
# copy before the build.
go_build_module() {
  local mod="$1" out="$2"; shift 2
  local src work
  src=$(go_module_dir "$mod")
  work=$(mktemp -d)
  cp -r "$src/." "$work" && chmod -R u+w "$work"
  local path
  for path in $(cd "$work" && go mod edit -json | jq -r '.Replace[]? | select(.New.Version == null) | .Old.Path'); do
    (cd "$work" && go mod edit -dropreplace "$path")
  done
  if [ -n "${GO_MODULE_PATCH:-}" ]; then (cd "$work" && bash -c "$GO_MODULE_PATCH"); fi
  mkdir -p "$out"
  (cd "$work" && GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -o "$out/" "$@")
  rm -rf "$work"
}
