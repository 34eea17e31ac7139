"""Section III.2, "pod and Deployment": when a node goes down, a Deployment's pod moves to
another node, while a bare Pod is not moved: it is evicted from the dead node after its
toleration and nothing recreates it. Its binding (spec.nodeName) cannot change."""

import json
import time
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from toolkit.cluster import Cluster
from toolkit.deployments import wait_ready_pods
from toolkit.evidence import Evidence
from toolkit.kubectl import Kubectl
from toolkit.manifests import manifest
from toolkit.nodes import is_ready, node_down
from toolkit.pods import wait_running_and_ready
from toolkit.timeouts import TIMEOUTS
from toolkit.waiting import Unrecoverable, wait_until


@pytest.mark.disruptive
@pytest.mark.claim("deployment-survives-node-failure", "pod-bound-to-its-node")
def test_a_deployment_pod_moves_off_a_failed_node_while_a_bare_pod_is_evicted(
    cluster: Cluster, core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str,
    evidence: Evidence,
):
    if cluster.kind_name is None:
        pytest.skip("needs a kind cluster: a node is taken down by pausing its container")
    kubectl("create", "-n", namespace, "-f", manifest("redis/deployment-fast-eviction.yaml"))
    (moved,) = wait_ready_pods(core_v1, namespace, "app=redis-deployment", 1)
    node = moved.spec.node_name
    assert node != f"{cluster.kind_name}-control-plane"
    overrides = yaml.safe_load(Path(manifest("redis/bare-pod-overrides.yaml")).read_text())
    overrides["spec"]["nodeName"] = node
    kubectl("run", "redis", "--image=redis", "-n", namespace,
            f"--overrides={json.dumps(overrides)}")
    wait_running_and_ready(core_v1, namespace, "redis")

    started = time.monotonic()
    with node_down(core_v1, node, evidence):
        (replacement,) = wait_ready_pods(
            core_v1, namespace, "app=redis-deployment", 1, timeout=TIMEOUTS.slow_start,
            exclude=frozenset({moved.metadata.name}),
        )
        evidence.measure("Deployment pod Ready on another node after the node went down",
                         time.monotonic() - started)
        kubectl("get", "pods", "-n", namespace, "-o", "wide")
        kubectl("get", "nodes")
        assert replacement.spec.node_name != node

        assert not is_ready(core_v1.read_node(node)), f"{node} still reports Ready"

        def evicted() -> tuple[bool, str]:
            """The bare pod marked for deletion by the taint eviction, still on its node."""
            bare = core_v1.read_namespaced_pod("redis", namespace)
            if bare.spec.node_name != node:
                raise Unrecoverable(f"pod redis is on {bare.spec.node_name}, not on {node}")
            return bare.metadata.deletion_timestamp is not None, (
                f"pod redis on {node}, deletionTimestamp={bare.metadata.deletion_timestamp}")

        wait_until(f"the bare pod's eviction from {node} (toleration 20 s)", evicted,
                   timeout=TIMEOUTS.pod_start)
        evidence.measure("bare pod marked for deletion after the node went down",
                         time.monotonic() - started)
        kubectl("get", "pods", "-n", namespace, "-o", "wide")
        others = [p.metadata.name for p in core_v1.list_namespaced_pod(
            namespace, label_selector="run=redis").items]
        assert others == ["redis"], "something replaced the bare pod"

    def gone() -> tuple[bool, str]:
        pods = core_v1.list_namespaced_pod(namespace, label_selector="run=redis").items
        return not pods, str([(p.metadata.name, p.spec.node_name) for p in pods])

    # Back on its node, kubelet finishes the deletion: the pod is gone for good.
    wait_until("the evicted bare pod to be gone once its node is back", gone,
               timeout=TIMEOUTS.pod_change)


@pytest.mark.claim("pod-bound-to-its-node")
def test_a_pods_binding_to_its_node_cannot_change(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence,
):
    """The tutorial's "pod.spec.node field is modified": the field is spec.nodeName, set
    once by a Binding (the scheduler's); an update of it is refused, and so is a second
    Binding."""
    kubectl("run", "redis", "--image=redis", "-n", namespace)
    pod = wait_running_and_ready(core_v1, namespace, "redis")
    node = pod.spec.node_name
    other = next(n.metadata.name for n in core_v1.list_node().items
                 if n.metadata.name != node and is_ready(n))
    patch = json.dumps({"spec": {"nodeName": other}})
    refused = kubectl.run("patch", "pod", "redis", "-n", namespace, "-p", patch, check=False)
    assert refused.returncode != 0, f"spec.nodeName changed from {node} to {other}"
    assert "Forbidden: pod updates may not change fields" in refused.stderr
    binding = client.V1Binding(
        metadata=client.V1ObjectMeta(name="redis"),
        target=client.V1ObjectReference(kind="Node", name=other, api_version="v1"))
    with pytest.raises(ApiException) as conflict:
        core_v1.create_namespaced_binding(namespace, binding, _preload_content=False)
    evidence.add(f"a second Binding of pod redis to {other}",
                 f"HTTP {conflict.value.status}: {conflict.value.body}")
    assert conflict.value.status == 409
    assert core_v1.read_namespaced_pod("redis", namespace).spec.node_name == node
