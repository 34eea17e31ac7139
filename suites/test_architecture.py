"""Section I, "k8s architecture": what runs on the master and on the nodes."""

from kubernetes import client

from fixtures.kubectl import Kubectl
from fixtures.nodes import control_plane_nodes, is_ready
from fixtures.pods import is_running_and_ready

CONTROL_PLANE_COMPONENTS = {"kube-apiserver", "kube-scheduler", "kube-controller-manager", "etcd"}


def test_control_plane_runs_apiserver_scheduler_controller_manager_and_etcd(
    core_v1: client.CoreV1Api, kubectl: Kubectl
):
    masters = control_plane_nodes(core_v1)
    assert masters, "no node carries the control-plane role"
    master = masters[0].metadata.name
    kubectl("get", "pods", "-n", "kube-system", "-l", "tier=control-plane", "-o", "wide")
    pods = core_v1.list_namespaced_pod(
        "kube-system", label_selector="tier=control-plane", field_selector=f"spec.nodeName={master}"
    ).items
    running = {p.metadata.labels.get("component") for p in pods if is_running_and_ready(p)}
    assert running >= CONTROL_PLANE_COMPONENTS, (
        f"on {master}, missing or not ready: {sorted(CONTROL_PLANE_COMPONENTS - running)}"
    )


def test_every_node_runs_kubelet_and_kube_proxy(core_v1: client.CoreV1Api, kubectl: Kubectl):
    kubectl("get", "nodes", "-o", "wide")
    nodes = core_v1.list_node().items
    assert len(nodes) >= 2, "the tutorial's cluster has a master and at least one node"
    # A node is Ready only while its kubelet reports; kubeletVersion is what it runs.
    not_ready = [n.metadata.name for n in nodes if not is_ready(n)]
    assert not not_ready, f"kubelet does not report Ready on {not_ready}"
    for node in nodes:
        assert node.status.node_info.kubelet_version.startswith("v1.")

    kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-proxy", "-o", "wide")
    proxies = core_v1.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-proxy").items
    with_proxy = {p.spec.node_name for p in proxies if is_running_and_ready(p)}
    without = sorted({n.metadata.name for n in nodes} - with_proxy)
    assert not without, f"no ready kube-proxy on {without}"
