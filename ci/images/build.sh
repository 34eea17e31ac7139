#!/usr/bin/env bash
# One command for the whole offline toolchain: engine, kind and kubectl, the kind node
# image of $KUBERNETES_VERSION, the add-on and workload images, and the registry mirror.
# Every step is cached by its versions under $SUITE_CACHE; a warm run skips them all.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
bash "$dir/../install-engine.sh"
# Kubernetes' compile, the longest step, runs beside the steps that need none of its
# binaries: its module downloads and single-threaded links leave a core idle, and the
# other lane's debootstrap, apt and docker work is mostly waiting. The steps that need its
# binaries follow. What each step builds is the same as one after the other.
beside=(debian-base workloads kind-base operator loadbalancer)
after=(tools addons node-image scaffold)
total=$((1 + ${#beside[@]} + ${#after[@]}))
# Each step says its number when it builds something (lib.sh `cached`: its name, the last
# build's duration, and a heartbeat while it runs).
step() { STEP_NUMBER="$1/$total" bash "$dir/$2.sh"; }
# Its own process group, so that a failure of the other lane (or Ctrl-C) stops all of it.
STEP_NUMBER="1/$total" setsid -w bash "$dir/kubernetes.sh" &
lane=$!
trap 'kill -TERM -- "-$lane" 2>/dev/null || true' EXIT
n=1
for s in "${beside[@]}"; do n=$((n + 1)); step "$n" "$s"; done
wait "$lane" || { echo "[images] error: building Kubernetes failed (above)" >&2; exit 1; }
trap - EXIT
for s in "${after[@]}"; do n=$((n + 1)); step "$n" "$s"; done
