"""Section II, "Build k8s clusters": the cluster answers `kubectl version` for its nodes'
Kubernetes version."""

import pytest
from kubernetes import client

from fixtures.kubectl import Kubectl
from fixtures.nodes import control_plane_nodes, node_exec
from fixtures.plugin import Cluster


@pytest.mark.claim("cluster-kubectl-version")
def test_kubectl_version_reports_the_node_image_kubernetes_version(
    cluster: Cluster, core_v1: client.CoreV1Api, kubectl: Kubectl
):
    if cluster.kind_name is None:
        pytest.skip("existing cluster: no kind node image to compare with")
    master = control_plane_nodes(core_v1)[0].metadata.name
    image_version = node_exec(master, "cat", "/kind/version").strip()
    versions = kubectl.json("version")
    assert versions["serverVersion"]["gitVersion"] == image_version
    assert versions["clientVersion"]["gitVersion"].startswith("v1.")
