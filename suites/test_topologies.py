"""Claims of sections I and IV about topologies the suite's cluster lacks, checked on a
cluster of their own (fixtures/topology.py): etcd outside the control plane, and
apiservers scaled horizontally behind a load balancer."""

import pytest
from kubernetes import client

from tutorial_conformance.toolkit.commands import container_exec, docker, node_exec
from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.topology import (
    LOAD_BALANCER_CDS,
    Topology,
    apiserver_stopped,
    ready_through,
)
from tutorial_conformance.toolkit.waiting import holds_for

pytestmark = pytest.mark.topology

CONFIGMAP = "stored-outside"
HOLD_SECONDS = 30


@pytest.mark.claim("arch-etcd-can-run-elsewhere")
def test_etcd_runs_outside_the_control_plane_and_holds_the_cluster(
    t: TestContext, topology: Topology
):
    core = client.CoreV1Api(topology.api)
    kubectl = topology.kubectl.bound(t.evidence)
    with t.step("kubectl get pods -n kube-system -o wide (the HA cluster)", topology=topology):
        kubectl("get", "pods", "-n", "kube-system", "-o", "wide")
        assert not core.list_namespaced_pod("kube-system", label_selector="component=etcd").items
    with t.step("ls /etc/kubernetes/manifests on each control-plane node"):
        for node in topology.control_planes:
            static_pods = node_exec(node, "ls", "/etc/kubernetes/manifests").split()
            t.evidence.add(f"ls /etc/kubernetes/manifests on {node}", "\n".join(static_pods))
            assert "etcd.yaml" not in static_pods and "kube-apiserver.yaml" in static_pods

    with t.step("the apiservers' --etcd-servers"):
        apiservers = core.list_namespaced_pod("kube-system",
                                              label_selector="component=kube-apiserver").items
        servers = {p.spec.node_name: [a for a in p.spec.containers[0].command
                                      if a.startswith("--etcd-servers=")] for p in apiservers}
        t.evidence.add("--etcd-servers of each apiserver", repr(servers))
    assert len(servers) == 3
    assert all(flags == [f"--etcd-servers={topology.etcd_endpoint}"] for flags in servers.values())

    with t.step("a ConfigMap written through the cluster is in the outside etcd"):
        kubectl("create", "configmap", CONFIGMAP, "-n", "default", "--from-literal=held=outside")
        t.defer(f"configmap {CONFIGMAP}", lambda: kubectl(
            "delete", "configmap", CONFIGMAP, "-n", "default", "--ignore-not-found"))
        key = f"/registry/configmaps/default/{CONFIGMAP}"
        stored = container_exec(topology.etcd_container, "etcdctl", "get", key, "--keys-only")
        t.evidence.add(f"etcdctl get {key} --keys-only (in {topology.etcd_container})", stored)
    assert stored.split() == [key], f"the outside etcd has no {key}: {stored.strip() or 'nothing'}"


@pytest.mark.claim("flow-apiserver-scales-horizontally")
def test_kubectl_keeps_working_through_the_load_balancer_with_one_apiserver_stopped(
    t: TestContext, topology: Topology
):
    kubectl = topology.kubectl.bound(t.evidence)
    nodes = topology.control_planes
    assert len(nodes) == 3, f"three control-plane nodes expected: {nodes}"
    with t.step("kubectl's server is the load balancer", topology=topology):
        server = kubectl("config", "view", "--minify", "-o",
                         "jsonpath={.clusters[0].cluster.server}")
        published = docker("port", topology.load_balancer)
        t.evidence.add(f"docker port {topology.load_balancer}", published)
    assert server.rsplit(":", 1)[-1] in published, \
        f"kubectl's server {server} is not the load balancer's port ({published.strip()})"

    stopped = nodes[0]
    with t.step("one apiserver stopped"), apiserver_stopped(stopped):
        t.evidence.add("stopped", f"the apiserver on {stopped} (its static-pod manifest "
                                  "moved out)")
        with t.step("kubectl keeps working through the load balancer"):
            holds_for(f"every request through the load balancer answered while {stopped}'s "
                      "apiserver is down", lambda: ready_through(kubectl),
                      duration=HOLD_SECONDS)
            kubectl("create", "configmap", "written-meanwhile", "-n", "default")
            kubectl("delete", "configmap", "written-meanwhile", "-n", "default")
            logs = docker("logs", "--tail", "20", topology.load_balancer)
            t.evidence.add(f"docker logs --tail 20 {topology.load_balancer}", logs)

    # The balancer spreads over every apiserver, not only over the ones left running.
    with t.step("the load balancer's backends"):
        cds = container_exec(topology.load_balancer, "cat", LOAD_BALANCER_CDS)
        t.evidence.add(f"the load balancer's backends ({topology.load_balancer}:"
                       f"{LOAD_BALANCER_CDS})", cds)
    missing = [node for node in nodes if f"address: {node}" not in cds]
    assert not missing, f"the load balancer does not know the apiservers of {missing}"
