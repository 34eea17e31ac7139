#!/usr/bin/env bash
# Fails when the committed generated files (deepcopy, CRD, RBAC, deploy.yaml) differ from
# what controller-gen and render-deploy.sh make of the current sources.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r . "$work/"
make -C "$work" -s generate manifests >/dev/null
stale=()
for f in api/v1alpha1/zz_generated.deepcopy.go config/crd/bases config/rbac/role.yaml config/deploy.yaml; do
  diff -r -q "$f" "$work/$f" >/dev/null || stale+=("$f")
done
if [ "${#stale[@]}" -gt 0 ]; then
  echo "stale generated files: ${stale[*]} (run: make -C operator generate manifests)" >&2
  exit 1
fi
echo "generated files are current"
