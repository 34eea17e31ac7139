"""Section III.2, "pod and Deployment": when a node goes down, a Deployment's pod moves to
another node, while a bare Pod stays bound to the dead node (spec.nodeName)."""

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from kubernetes import client

from fixtures.deployments import wait_ready_pods
from fixtures.evidence import Evidence
from fixtures.kubectl import Kubectl
from fixtures.manifests import manifest
from fixtures.nodes import is_ready
from fixtures.plugin import Cluster
from fixtures.pods import wait_running_and_ready
from fixtures.waiting import wait_until


@contextmanager
def node_down(core: client.CoreV1Api, node: str, evidence: Evidence) -> Iterator[None]:
    """Freezes a kind node's container (every process on the host stops, its address
    stays), and brings it back afterwards, waiting until it is Ready again."""
    subprocess.run(["docker", "pause", node], check=True, capture_output=True, timeout=60)
    evidence.add("$ docker pause", node)
    try:
        yield
    finally:
        subprocess.run(["docker", "unpause", node], check=True, capture_output=True, timeout=60)
        evidence.add("$ docker unpause", node)

        def ready() -> tuple[bool, str]:
            return is_ready(core.read_node(node)), node

        wait_until(f"node {node} to be Ready again", ready, timeout=180)


@pytest.mark.claim("deployment-survives-node-failure", "pod-bound-to-its-node")
def test_a_deployment_pod_moves_off_a_failed_node_while_a_bare_pod_stays_bound(
    cluster: Cluster, core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str,
    evidence: Evidence,
):
    if cluster.kind_name is None:
        pytest.skip("needs a kind cluster: a node is taken down by pausing its container")
    kubectl("create", "-n", namespace, "-f", manifest("redis/deployment-fast-eviction.yaml"))
    (moved,) = wait_ready_pods(core_v1, namespace, "app=redis-deployment", 1)
    node = moved.spec.node_name
    assert node != f"{cluster.kind_name}-control-plane"
    overrides = json.dumps({"spec": {"nodeName": node}})
    kubectl("run", "redis", "--image=redis", "-n", namespace, f"--overrides={overrides}")
    wait_running_and_ready(core_v1, namespace, "redis")

    started = time.monotonic()
    with node_down(core_v1, node, evidence):
        (replacement,) = wait_ready_pods(
            core_v1, namespace, "app=redis-deployment", 1, timeout=240,
            exclude=frozenset({moved.metadata.name}),
        )
        evidence.measure("Deployment pod Ready on another node after the node went down",
                         time.monotonic() - started)
        kubectl("get", "pods", "-n", namespace, "-o", "wide")
        kubectl("get", "nodes")
        assert replacement.spec.node_name != node

        assert not is_ready(core_v1.read_node(node)), f"{node} still reports Ready"
        bare = core_v1.read_namespaced_pod("redis", namespace)
        assert bare.spec.node_name == node, "the bare pod was moved"
        others = [p.metadata.name for p in core_v1.list_namespaced_pod(
            namespace, label_selector="run=redis").items]
        assert others == ["redis"], "something replaced the bare pod"
