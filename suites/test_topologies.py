"""Claims of sections I and IV about topologies the suite's cluster lacks, checked on a
cluster of their own (fixtures/topology.py): etcd outside the control plane, and
apiservers scaled horizontally behind a load balancer."""

import pytest
from kubernetes import client

from toolkit.commands import docker, node_exec
from toolkit.evidence import Evidence
from toolkit.topology import LOAD_BALANCER_CDS, Topology, apiserver_stopped, ready_through
from toolkit.waiting import holds_for

pytestmark = pytest.mark.topology

CONFIGMAP = "stored-outside"
HOLD_SECONDS = 30


@pytest.mark.claim("arch-etcd-can-run-elsewhere")
def test_etcd_runs_outside_the_control_plane_and_holds_the_cluster(
    topology: Topology, evidence: Evidence
):
    core = client.CoreV1Api(topology.api)
    kubectl = topology.kubectl.bound(evidence)
    kubectl("get", "pods", "-n", "kube-system", "-o", "wide")
    assert not core.list_namespaced_pod("kube-system", label_selector="component=etcd",
                                          _request_timeout=30).items
    for node in topology.control_planes:
        static_pods = node_exec(node, "ls", "/etc/kubernetes/manifests").split()
        evidence.add(f"ls /etc/kubernetes/manifests on {node}", "\n".join(static_pods))
        assert "etcd.yaml" not in static_pods and "kube-apiserver.yaml" in static_pods

    apiservers = core.list_namespaced_pod("kube-system",
                                          label_selector="component=kube-apiserver",
                                          _request_timeout=30).items
    servers = {p.spec.node_name: [a for a in p.spec.containers[0].command
                                  if a.startswith("--etcd-servers=")] for p in apiservers}
    evidence.add("--etcd-servers of each apiserver", repr(servers))
    assert len(servers) == 3
    assert all(flags == [f"--etcd-servers={topology.etcd_endpoint}"] for flags in servers.values())

    kubectl("create", "configmap", CONFIGMAP, "-n", "default", "--from-literal=held=outside")
    try:
        key = f"/registry/configmaps/default/{CONFIGMAP}"
        stored = docker("exec", topology.etcd_container, "etcdctl", "get", key, "--keys-only")
        evidence.add(f"etcdctl get {key} --keys-only (in {topology.etcd_container})", stored)
        assert stored.split() == [key]
    finally:
        kubectl("delete", "configmap", CONFIGMAP, "-n", "default", "--ignore-not-found")


@pytest.mark.claim("flow-apiserver-scales-horizontally")
def test_kubectl_keeps_working_through_the_load_balancer_with_one_apiserver_stopped(
    topology: Topology, evidence: Evidence
):
    kubectl = topology.kubectl.bound(evidence)
    nodes = topology.control_planes
    assert len(nodes) == 3, f"three control-plane nodes expected: {nodes}"
    server = kubectl("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
    published = docker("port", topology.load_balancer)
    evidence.add(f"docker port {topology.load_balancer}", published)
    assert server.rsplit(":", 1)[-1] in published, \
        f"kubectl's server {server} is not the load balancer's port ({published.strip()})"

    stopped = nodes[0]
    with apiserver_stopped(stopped):
        evidence.add("stopped", f"the apiserver on {stopped} (its static-pod manifest moved out)")
        holds_for(f"every request through the load balancer answered while {stopped}'s "
                  "apiserver is down", lambda: ready_through(kubectl), duration=HOLD_SECONDS,
                  interval=1)
        kubectl("create", "configmap", "written-meanwhile", "-n", "default")
        kubectl("delete", "configmap", "written-meanwhile", "-n", "default")
        logs = docker("logs", "--tail", "20", topology.load_balancer)
        evidence.add(f"docker logs --tail 20 {topology.load_balancer}", logs)

    # The balancer spreads over every apiserver, not only over the ones left running.
    cds = docker("exec", topology.load_balancer, "cat", LOAD_BALANCER_CDS)
    evidence.add(f"the load balancer's backends ({topology.load_balancer}:{LOAD_BALANCER_CDS})",
                 cds)
    missing = [node for node in nodes if f"address: {node}" not in cds]
    assert not missing, f"the load balancer does not know the apiservers of {missing}"
