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

from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.deployments import wait_ready_pods
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.nodes import is_ready, node_down
from tutorial_conformance.toolkit.pods import wait_running_and_ready
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.waiting import Unrecoverable, wait_until


@pytest.mark.disruptive
@pytest.mark.claim("deployment-survives-node-failure", "pod-bound-to-its-node")
def test_a_deployment_pod_moves_off_a_failed_node_while_a_bare_pod_is_evicted(t: TestContext):
    if t.cluster.kind_name is None:
        pytest.skip("needs a kind cluster: a node is taken down by pausing its container")
    with t.step("kubectl create -f deployment-fast-eviction.yaml"):
        t.kubectl("create", "-n", t.namespace, "-f",
                  manifest("redis/deployment-fast-eviction.yaml"))
        (moved,) = wait_ready_pods(t.core, t.namespace, "app=redis-deployment", 1)
    node = moved.spec.node_name
    assert node != f"{t.cluster.kind_name}-control-plane"
    overrides = yaml.safe_load(Path(manifest("redis/bare-pod-overrides.yaml")).read_text())
    overrides["spec"]["nodeName"] = node
    with t.step("kubectl run redis --image=redis (on the same node)"):
        t.kubectl("run", "redis", "--image=redis", "-n", t.namespace,
                  f"--overrides={json.dumps(overrides)}")
        wait_running_and_ready(t.core, t.namespace, "redis")

    started = time.monotonic()
    with t.step("the node goes down (docker pause)", node=node), \
            node_down(t.core, node, t.evidence):
        with t.step("the Deployment's pod is replaced on another node"):
            (replacement,) = wait_ready_pods(
                t.core, t.namespace, "app=redis-deployment", 1, timeout=TIMEOUTS.slow_start,
                exclude=frozenset({moved.metadata.name}), also=lambda: [t.diagnose.node(node)],
            )
            t.evidence.measure("Deployment pod Ready on another node after the node went down",
                               time.monotonic() - started)
            t.kubectl("get", "pods", "-n", t.namespace, "-o", "wide")
            t.kubectl("get", "nodes")
        assert replacement.spec.node_name != node
        assert not is_ready(t.core.read_node(node)), t.diagnose.node(node)

        def evicted() -> tuple[bool, str]:
            """The bare pod marked for deletion by the taint eviction, still on its node."""
            bare = t.core.read_namespaced_pod("redis", t.namespace)
            if bare.spec.node_name != node:
                raise Unrecoverable(f"pod redis is on {bare.spec.node_name}, not on {node}")
            return bare.metadata.deletion_timestamp is not None, (
                f"pod redis on {node}, deletionTimestamp={bare.metadata.deletion_timestamp}")

        with t.step("the bare pod is evicted, not moved"):
            wait_until(f"the bare pod's eviction from {node} (toleration 20 s)", evicted,
                       timeout=TIMEOUTS.pod_start,
                       diagnose=lambda: [t.diagnose.pod(t.namespace, "redis"),
                                         t.diagnose.node(node)])
            t.evidence.measure("bare pod marked for deletion after the node went down",
                               time.monotonic() - started)
            t.kubectl("get", "pods", "-n", t.namespace, "-o", "wide")
            others = [p.metadata.name for p in t.core.list_namespaced_pod(
                t.namespace, label_selector="run=redis").items]
        assert others == ["redis"], f"something replaced the bare pod: {others}"

    def gone() -> tuple[bool, str]:
        pods = t.core.list_namespaced_pod(t.namespace, label_selector="run=redis").items
        return not pods, str([(p.metadata.name, p.spec.node_name) for p in pods])

    # Back on its node, kubelet finishes the deletion: the pod is gone for good.
    with t.step("the node is back: the evicted pod is gone"):
        wait_until("the evicted bare pod to be gone once its node is back", gone,
                   timeout=TIMEOUTS.pod_change,
                   diagnose=lambda: t.diagnose.pods(t.namespace, "run=redis"))


@pytest.mark.claim("pod-bound-to-its-node")
def test_a_pods_binding_to_its_node_cannot_change(t: TestContext):
    """The tutorial's "pod.spec.node field is modified": the field is spec.nodeName, set
    once by a Binding (the scheduler's); an update of it is refused, and so is a second
    Binding."""
    with t.step("kubectl run redis --image=redis"):
        t.kubectl("run", "redis", "--image=redis", "-n", t.namespace)
        pod = wait_running_and_ready(t.core, t.namespace, "redis")
    node = pod.spec.node_name
    other = next(n.metadata.name for n in t.core.list_node().items
                 if n.metadata.name != node and is_ready(n))
    with t.step("kubectl patch pod redis: spec.nodeName to another node"):
        patch = json.dumps({"spec": {"nodeName": other}})
        refused = t.kubectl.run("patch", "pod", "redis", "-n", t.namespace, "-p", patch,
                                check=False)
    assert refused.returncode != 0, f"spec.nodeName changed from {node} to {other}"
    assert "Forbidden: pod updates may not change fields" in refused.stderr
    with t.step("a second Binding of pod redis"):
        binding = client.V1Binding(
            metadata=client.V1ObjectMeta(name="redis"),
            target=client.V1ObjectReference(kind="Node", name=other, api_version="v1"))
        with pytest.raises(ApiException) as conflict:
            t.core.create_namespaced_binding(t.namespace, binding, _preload_content=False)
        t.evidence.add(f"a second Binding of pod redis to {other}",
                       f"HTTP {conflict.value.status}: {conflict.value.body}")
    assert conflict.value.status == 409
    assert t.core.read_namespaced_pod("redis", t.namespace).spec.node_name == node
