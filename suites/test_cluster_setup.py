"""Section II, "Build k8s clusters": the cluster is one kubeadm set up, and it answers
`kubectl version` for its nodes' Kubernetes version, in today's format rather than the
tutorial's `version.Info{...}`."""

import re

import pytest
import yaml
from kubernetes import client

from tutorial_conformance.toolkit.commands import node_exec
from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.nodes import control_plane_nodes

CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
# What `kubectl version` prints since kubectl 1.28 (the --short form became the default).
TODAY = re.compile(
    r"Client Version: (?P<client>v1\.(?P<client_minor>\d+)\.\d+(-[a-z]+\.\d+)?)\n"
    r"Kustomize Version: v\d+\.\d+\.\d+\n"
    r"Server Version: (?P<server>v1\.(?P<server_minor>\d+)\.\d+(-[a-z]+\.\d+)?)\n?"
)


def require_kind(t: TestContext, why: str) -> None:
    if t.cluster.kind_name is None:
        pytest.skip(f"existing cluster: {why}")


@pytest.mark.claim("cluster-kubectl-version")
def test_kubectl_version_reports_the_node_image_kubernetes_version(t: TestContext):
    require_kind(t, "no kind node image to compare with")
    master = control_plane_nodes(t.core)[0].metadata.name
    with t.step("cat /kind/version on the control-plane node"):
        image_version = node_exec(master, "cat", "/kind/version").strip()
    with t.step("kubectl version -o json"):
        versions = t.kubectl.json("version")
    assert versions["serverVersion"]["gitVersion"] == image_version
    assert versions["clientVersion"]["gitVersion"].startswith("v1.")


@pytest.mark.claim("cluster-kubectl-version")
def test_kubectl_version_prints_plain_versions_not_version_info(t: TestContext):
    with t.step("kubectl version"):
        output = t.kubectl("version")
    old = "kubectl 1.28 prints the versions plainly; the version.Info{...} struct went"
    block = t.compare(41, 42, output, why={41: old, 42: old})
    # Pinned where it differs: each printed line against today's plain one, and the
    # Kustomize line between them, which the tutorial's kubectl did not print.
    assert [(d.printed_line, (d.today or "").split(":")[0]) for d in block.differences] == [
        (41, "Client Version"), (None, "Kustomize Version"), (42, "Server Version")], \
        block.render()
    assert all(d.printed.startswith(("Client Version: version.Info{",
                                     "Server Version: version.Info{"))
               for d in block.differences if d.printed), block.render()
    match = TODAY.fullmatch(output.strip() + "\n")
    assert match, f"not the plain Client/Kustomize/Server lines: {output!r}"
    # kubectl is supported within one minor of the apiserver (version skew policy).
    skew = int(match["client_minor"]) - int(match["server_minor"])
    assert abs(skew) <= 1, f"kubectl {match['client']} against a {match['server']} apiserver"


@pytest.mark.claim("cluster-kubeadm")
def test_kubeadm_set_up_the_cluster_and_runs_its_control_plane_as_static_pods(t: TestContext):
    require_kind(t, "built by whatever its owner chose, not necessarily kubeadm")
    with t.step("kubectl get configmap kubeadm-config -n kube-system -o yaml"):
        t.kubectl("get", "configmap", "kubeadm-config", "-n", "kube-system", "-o", "yaml")
        data = t.core.read_namespaced_config_map("kubeadm-config", "kube-system").data
    config = yaml.safe_load(data["ClusterConfiguration"])
    assert config["apiVersion"].startswith("kubeadm.k8s.io/")
    assert config["kind"] == "ClusterConfiguration"
    served = client.VersionApi(t.api).get_code().git_version
    assert config["kubernetesVersion"] == served

    master = control_plane_nodes(t.core)[0].metadata.name
    with t.step("ls /etc/kubernetes/manifests on the control-plane node"):
        static = node_exec(master, "ls", "/etc/kubernetes/manifests").split()
        t.evidence.add(f"ls /etc/kubernetes/manifests on {master}", "\n".join(static))
    assert sorted(static) == [f"{c}.yaml" for c in CONTROL_PLANE]
    with t.step("the control-plane pods' config.source"):
        for component in CONTROL_PLANE:
            pod = t.core.read_namespaced_pod(f"{component}-{master}", "kube-system")
            source = pod.metadata.annotations.get("kubernetes.io/config.source")
            t.evidence.add(f"{pod.metadata.name}", f"kubernetes.io/config.source: {source}")
            assert source == "file", f"{pod.metadata.name} is not a static pod (source {source})"


def reported_version(t: TestContext, pod: str, binary: str) -> str:
    """The version a component's binary reports (`BINARY --version`, in its own pod)."""
    out = t.exec(pod, binary, "--version", namespace="kube-system").strip()
    return out.rsplit(" ", 1)[-1]


@pytest.mark.claim("cluster-consistent-versions")
def test_every_component_reports_the_same_version(t: TestContext):
    versions: dict[str, str] = {}
    with t.step("kubectl version -o json"):
        both = t.kubectl.json("version")
        versions["kubectl"] = both["clientVersion"]["gitVersion"]
        versions["kube-apiserver"] = both["serverVersion"]["gitVersion"]
    with t.step("kubectl get nodes (each kubelet's version)"):
        for node in t.core.list_node().items:
            versions[f"kubelet on {node.metadata.name}"] = node.status.node_info.kubelet_version
    with t.step("--version of kube-proxy, kube-scheduler and kube-controller-manager"):
        for pod in t.core.list_namespaced_pod("kube-system").items:
            component = pod.metadata.labels.get("k8s-app") or pod.metadata.labels.get("component")
            if component in ("kube-proxy", "kube-scheduler", "kube-controller-manager"):
                versions[pod.metadata.name] = reported_version(t, pod.metadata.name, component)
    if t.cluster.kind_name is not None:
        with t.step("cat /kind/version on every node (the node image's Kubernetes)"):
            for node in t.core.list_node().items:
                name = node.metadata.name
                versions[f"{name} image"] = node_exec(name, "cat", "/kind/version").strip()
    t.evidence.add("versions", "\n".join(f"{k}: {v}" for k, v in versions.items()))
    assert {"kube-apiserver", "kubectl"} <= set(versions) and len(versions) > 4, versions
    by_version: dict[str, list[str]] = {}
    for component, version in versions.items():
        by_version.setdefault(version, []).append(component)
    assert len(by_version) == 1, "components of more than one version: " + "; ".join(
        f"{v}: {', '.join(c)}" for v, c in sorted(by_version.items(), key=lambda i: len(i[1])))
