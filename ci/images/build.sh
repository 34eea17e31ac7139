#!/usr/bin/env bash
# One command for the whole offline toolchain: engine, kind and kubectl, the kind node
# image of $KUBERNETES_VERSION, the add-on and workload images, and the registry mirror.
# Every step is cached by its versions under $SUITE_CACHE; a warm run skips them all.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
bash "$dir/../install-engine.sh"
steps=(debian-base kubernetes kind-base tools addons node-image operator loadbalancer workloads scaffold)
# Each step says its number when it builds something (lib.sh `cached`: its name, the last
# build's duration, and a heartbeat while it runs).
for i in "${!steps[@]}"; do
  STEP_NUMBER="$((i + 1))/${#steps[@]}" bash "$dir/${steps[$i]}.sh"
done
