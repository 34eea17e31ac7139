#!/usr/bin/env bash
# One command for the whole offline toolchain: engine, kind and kubectl, the kind node
# image of $KUBERNETES_VERSION, the add-on and workload images, and the registry mirror.
# Every step is cached by its versions under $SUITE_CACHE; a warm run skips them all.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
bash "$dir/../install-engine.sh"
for step in debian-base kubernetes kind-base tools addons node-image operator loadbalancer workloads scaffold; do
  bash "$dir/$step.sh"
done
