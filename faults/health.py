"""Is the cluster whole again? What every fault checks after its restore, what
ci/fault-demo.sh checks between claims, and the repair of what a killed run left (each
kind of leftover in faults/leftovers.py).

    python -m tutorial_conformance.faults.health --kubeconfig PATH --kind-name NAME \
        [--wait SECONDS] [--repair]
"""

import argparse
import sys
from pathlib import Path

from kubernetes import client

from tutorial_conformance.faults.leftovers import LEFTOVERS, SYSTEM_NAMESPACES
from tutorial_conformance.toolkit.cluster import api_client
from tutorial_conformance.toolkit.deployments import rolled_out
from tutorial_conformance.toolkit.nodes import is_ready
from tutorial_conformance.toolkit.pods import is_running_and_ready
from tutorial_conformance.toolkit.timeouts import INTERVALS, TIMEOUTS
from tutorial_conformance.toolkit.waiting import wait_until


def problems(api: client.ApiClient, kind_name: str) -> list[str]:
    """What is not as a fresh cluster has it; empty when healthy."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    found: list[str] = []
    nodes = core.list_node().items
    for node in nodes:
        name = node.metadata.name
        if not is_ready(node):
            found.append(f"node {name} is not Ready")
        if node.spec.unschedulable:
            found.append(f"node {name} is cordoned")
        taints = [t.key for t in node.spec.taints or []
                  if t.key != "node-role.kubernetes.io/control-plane"]
        if taints:
            found.append(f"node {name} is tainted {taints}")

    for namespace in SYSTEM_NAMESPACES:
        for pod in core.list_namespaced_pod(namespace).items:
            if pod.metadata.deletion_timestamp:
                found.append(f"pod {namespace}/{pod.metadata.name} is terminating")
            elif not is_running_and_ready(pod):
                found.append(f"pod {namespace}/{pod.metadata.name} is not ready "
                             f"({pod.status.phase})")
        for kind, items in (("deployment", apps.list_namespaced_deployment(namespace).items),
                            ("daemonset", apps.list_namespaced_daemon_set(namespace).items)):
            for obj in items:
                done, seen = rolled_out(obj)
                if not done:
                    found.append(f"{kind} {namespace}/{obj.metadata.name} is not rolled out "
                                 f"({seen})")

    for node in client.CoreV1Api(api).list_node(
            label_selector="node-role.kubernetes.io/control-plane").items:
        taints = {(t.key, t.effect) for t in node.spec.taints or []}
        if ("node-role.kubernetes.io/control-plane", "NoSchedule") not in taints:
            found.append(f"{node.metadata.name} lacks its control-plane NoSchedule taint")
    for leftover in LEFTOVERS:
        found += leftover.find(api, kind_name)
    return found


def wait_healthy(
    api: client.ApiClient, kind_name: str, timeout: float = TIMEOUTS.cluster_ready
) -> None:
    def probe() -> tuple[bool, list[str]]:
        found = problems(api, kind_name)
        return not found, found

    wait_until("the cluster to be healthy again", probe, timeout=timeout,
               interval=INTERVALS.slow)


def repair(api: client.ApiClient, kind_name: str) -> list[str]:
    """Undoes what faults leave when their run is killed. Returns what it did."""
    return [line for leftover in LEFTOVERS for line in leftover.repair(api, kind_name)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutorial_conformance.faults.health",
                                     description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--kind-name", required=True)
    parser.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                        help="wait up to this long for the cluster to be healthy")
    parser.add_argument("--repair", action="store_true",
                        help="first undo whatever faults of a killed run left behind")
    args = parser.parse_args(argv)
    api = api_client(Path(args.kubeconfig))
    if args.repair:
        for line in repair(api, args.kind_name):
            print(f"repaired: {line}")
    if args.wait:
        try:
            wait_healthy(api, args.kind_name, args.wait)
        except AssertionError as exc:
            print(f"unhealthy: {exc}", file=sys.stderr)
            return 1
        print("healthy")
        return 0
    found = problems(api, args.kind_name)
    for line in found:
        print(f"unhealthy: {line}", file=sys.stderr)
    if not found:
        print("healthy")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
