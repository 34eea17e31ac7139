#!/usr/bin/env bash
# Measures the offline toolchain and the suite, and writes the figures to ci/BENCHMARKS.md:
# cold image build (empty caches, no images, no build cache), warm rebuild, kind cluster
# creation, and the suite's wall time per module. Takes about half an hour.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=ci/BENCHMARKS.md
bench=$(mktemp -d /var/tmp/tutorial-suite-bench.XXXXXX)
trap 'rm -rf "$bench"' EXIT
export SUITE_CACHE="$bench/cache" GOCACHE="$bench/go-build" GOMODCACHE="$bench/go-mod"

bash ci/install-engine.sh
# shellcheck source=images/versions.env
source ci/images/versions.env
elapsed() { local t0=$SECONDS; "$@" >"$bench/log" 2>&1 || { tail -30 "$bench/log"; exit 1; }; echo $((SECONDS - t0)); }

echo "[benchmark] cold build: removing the toolchain's images and the build cache" >&2
docker images --format '{{.Repository}}:{{.Tag}}' \
  | grep -E '^(tutorial-suite/|registry\.k8s\.io/|redis:|memcached:)' \
  | xargs -r docker rmi -f >/dev/null
docker builder prune -af >/dev/null
cold=$(elapsed bash ci/images/build.sh)
warm=$(elapsed bash ci/images/build.sh)
steps=$(for f in "$SUITE_CACHE"/stamps/*; do printf '| %s | %s s |\n' "$(basename "$f")" "$(cat "$f")"; done)

export PATH="$SUITE_CACHE/bin:$PATH"
name=tutorial-suite-bench
create=$(elapsed .venv/bin/python - "$name" <<'PY'
import sys
from pathlib import Path

from fixtures.cluster import ClusterOptions, bring_up_kind, api_client, wait_for_cluster_ready
from fixtures.toolchain import find_binary, pinned

name = sys.argv[1]
opts = ClusterOptions(
    name=name, kubernetes_version=pinned("KUBERNETES_VERSION"), node_image=None,
    image_source="offline", keep=True, kubeconfig=Path(f".pytest-kind/{name}/kubeconfig"),
    kind_path=find_binary("kind"), kubectl_path=find_binary("kubectl"),
)
bring_up_kind(opts)
wait_for_cluster_ready(api_client(opts.kubeconfig))
PY
)
t0=$SECONDS
.venv/bin/pytest -q -p no:cacheprovider --cluster-name="$name" --image-source=offline \
  --junitxml="$bench/junit.xml" >"$bench/log" 2>&1 || true
suite=$((SECONDS - t0))
per_module=$(.venv/bin/python - "$bench/junit.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict

times: dict[str, float] = defaultdict(float)
outcomes: dict[str, list[str]] = defaultdict(list)
for case in ET.parse(sys.argv[1]).iter("testcase"):
    module = case.get("classname", "").rsplit(".", 1)[-1] if "." in case.get("classname", "") else case.get("classname")
    times[module] += float(case.get("time", 0))
    failed = case.find("failure") is not None or case.find("error") is not None
    skipped = case.find("skipped") is not None
    outcomes[module].append("failed" if failed else "skipped" if skipped else "passed")
for module in sorted(times):
    counts = {o: outcomes[module].count(o) for o in ("passed", "failed", "skipped")}
    summary = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
    print(f"| {module} | {times[module]:.1f} s | {summary} |")
PY
)
kind delete cluster --name "$name" >/dev/null 2>&1 || true

cat > "$OUT" <<MD
# Benchmarks

Measured by \`bash ci/benchmark.sh\` on $(date -u +%Y-%m-%d) on this machine
($(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, Docker $(docker version --format '{{.Server.Version}}'),
Kubernetes $KUBERNETES_VERSION, kind $KIND_VERSION). The cold build starts from empty
caches, none of the toolchain's images and no BuildKit cache; it excludes installing the
Docker engine and the Python environment.

| what | wall time |
| --- | --- |
| cold image build (\`ci/images/build.sh\`) | ${cold} s |
| warm rebuild (everything cached) | ${warm} s |
| kind cluster creation (1 control plane, 2 workers, until nodes Ready and DNS up) | ${create} s |
| whole suite on that cluster (pytest wall time) | ${suite} s |

## Cold build, per step

| step | time |
| --- | --- |
$steps

## Suite, per module (sum of test durations, setup and teardown included)

| module | time | outcome |
| --- | --- | --- |
$per_module
MD
echo "[benchmark] wrote $OUT" >&2
