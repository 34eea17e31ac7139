"""How the scheduler places pods. Section I: it scores the feasible nodes (a preferred
node wins though every worker fits). Section III.2: "in k8s, scheduling is scheduled
according to pod". With a 3.5 GiB and a 4 GiB node, a Pod of two 2 GiB containers goes to
the 4 GiB node, while the same containers as two Pods tied to one node, the first placed
on the 3.5 GiB node, leave the second unschedulable (Docker Swarm's failure in the
tutorial)."""

from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.utils import parse_quantity

from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.pods import wait_running_and_ready
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.waiting import wait_until

GI = 1 << 30
PODS_PER_NODE = 3  # all of them on their preferred node: not a coin's luck (1 in 2**6)


def allocatable_memory(node: client.V1Node) -> int:
    return int(parse_quantity(node.status.allocatable["memory"]))


def shaped_workers(t: TestContext) -> tuple[str, str]:
    """The 3.5 GiB and the 4 GiB worker (manifests/cluster/worker-memory.yaml)."""
    with t.step("the workers' allocatable memory"):
        t.kubectl("get", "nodes", "-o", "custom-columns=NAME:.metadata.name,"
                  "ALLOCATABLE:.status.allocatable.memory")
        workers = [n for n in t.core.list_node().items
                   if "node-role.kubernetes.io/control-plane" not in n.metadata.labels]
    small = [n for n in workers if 3 * GI <= allocatable_memory(n) < 4 * GI]
    large = [n for n in workers if 4 * GI <= allocatable_memory(n) < 5 * GI]
    if not (small and large):
        pytest.skip("the workers are not shaped to 3.5 and 4 GiB (existing cluster, or a "
                    "host with too little memory)")
    return small[0].metadata.name, large[0].metadata.name


@pytest.mark.claim("pod-scheduling-unit")
def test_a_pod_of_two_2gi_containers_lands_on_the_4gi_node(t: TestContext):
    small, large = shaped_workers(t)
    with t.step("kubectl create -f pod-two-2gi-containers.yaml"):
        t.kubectl("create", "-n", t.namespace, "-f",
                  manifest("scheduling/pod-two-2gi-containers.yaml"))
        pod = wait_running_and_ready(t.core, t.namespace, "redis-and-collector")
        t.kubectl("get", "pods", "-n", t.namespace, "-o", "wide")
    assert pod.spec.node_name == large, f"placed on {pod.spec.node_name}, not {large}"
    assert pod.spec.node_name != small


@pytest.mark.claim("pod-scheduling-unit")
def test_two_tied_2gi_pods_leave_the_second_unschedulable_on_the_3_5gi_node(t: TestContext):
    small, _ = shaped_workers(t)
    pods = Path(manifest("scheduling/separate-2gi-pods.yaml")).read_text()
    redis, collector = yaml.safe_load_all(pods)
    redis["spec"]["nodeSelector"] = {"kubernetes.io/hostname": small}
    with t.step("the redis pod on the 3.5 GiB node"):
        t.kubectl("create", "-n", t.namespace, "-f", "-", stdin=yaml.safe_dump(redis))
        assert wait_running_and_ready(t.core, t.namespace, "redis").spec.node_name == small
    with t.step("the log collector pod, tied to the same node"):
        t.kubectl("create", "-n", t.namespace, "-f", "-", stdin=yaml.safe_dump(collector))

    def unschedulable() -> tuple[bool, str]:
        pod = t.core.read_namespaced_pod("log-collector", t.namespace)
        conditions = [c for c in pod.status.conditions or [] if c.type == "PodScheduled"]
        if conditions and conditions[0].reason == "Unschedulable":
            return True, conditions[0].message
        return False, f"node={pod.spec.node_name} conditions={conditions}"

    with t.step("the scheduler finds no room for it"):
        message = wait_until("the log collector to be found unschedulable", unschedulable,
                             timeout=TIMEOUTS.api_change,
                             diagnose=lambda: t.diagnose.pods(t.namespace))
        t.evidence.add("scheduler's verdict on log-collector", message)
        t.kubectl("get", "pods", "-n", t.namespace, "-o", "wide")
    assert "Insufficient memory" in message
    assert t.core.read_namespaced_pod("log-collector", t.namespace).spec.node_name is None


@pytest.mark.claim("arch-scheduler-scores")
def test_the_scheduler_scores_feasible_nodes_and_picks_the_preferred_one(t: TestContext):
    workers = sorted(n.metadata.name for n in t.core.list_node().items
                     if "node-role.kubernetes.io/control-plane" not in n.metadata.labels)
    if len(workers) < 2:
        pytest.skip(f"needs two workers for the scheduler to choose from; the cluster has "
                    f"{workers}")
    template = Path(manifest("scheduling/preferred-node.yaml")).read_text()
    wanted = {}
    with t.step("pods that prefer one worker or the other"):
        for node in workers[:2]:
            for index in range(PODS_PER_NODE):
                pod = yaml.safe_load(template.replace("PREFERRED_NODE", node))
                pod["metadata"]["name"] = name = f"prefers-{node.rsplit('-', 1)[-1]}-{index}"
                t.kubectl("create", "-n", t.namespace, "-f", "-", stdin=yaml.safe_dump(pod))
                wanted[name] = node

    def all_bound() -> tuple[bool, dict[str, str | None]]:
        placed = {p.metadata.name: p.spec.node_name
                  for p in t.core.list_namespaced_pod(t.namespace).items}
        return all(placed.get(name) for name in wanted), placed

    with t.step("the scheduler binds each"):
        placed = wait_until("every pod to be bound to a node", all_bound,
                            timeout=TIMEOUTS.api_change,
                            diagnose=lambda: t.diagnose.pods(t.namespace))
        t.evidence.add("preferred node -> node the scheduler chose",
                       "\n".join(f"{name}: prefers {wanted[name]}, bound to {placed[name]}"
                                  for name in sorted(wanted)))
        t.kubectl("get", "pods", "-n", t.namespace, "-o", "wide")
    assert {name: placed[name] for name in wanted} == wanted
