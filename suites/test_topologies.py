"""Claims of sections I and IV about topologies the suite's cluster lacks, checked on a
cluster of their own (fixtures/topology.py): etcd outside the control plane, and
apiservers scaled horizontally behind a load balancer."""

import pytest
from kubernetes import client

from tutorial_conformance.toolkit import etcd
from tutorial_conformance.toolkit.commands import container_exec, docker, node_exec
from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.topology import (
    ETCD_QUOTA_BYTES,
    LOAD_BALANCER_CDS,
    LOCAL_KUBECTL,
    Topology,
    apiserver_stopped,
    ready_through,
)
from tutorial_conformance.toolkit.waiting import holds_for, wait_until

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


FILL = "ConfigMaps written through the load balancer until etcd refuses one"


def on_own_apiserver(node: str, *args: str) -> tuple[int, str]:
    """kubectl ARGS against the node's own apiserver: its exit code and output."""
    out = container_exec(node, "sh", "-c", " ".join((*LOCAL_KUBECTL, *args)) + " 2>&1; echo $?")
    *lines, code = out.rstrip().splitlines()
    return int(code), "\n".join(lines)


@pytest.mark.claim("flow-etcd-bottleneck")
def test_every_apiserver_stops_writing_when_the_one_etcd_is_full(
    t: TestContext, topology: Topology
):
    core = client.CoreV1Api(topology.api)
    container, nodes = topology.etcd_container, topology.control_planes
    with t.step("etcdctl endpoint status (the outside etcd and its quota)"):
        before = etcd.endpoint_status(container)
        t.evidence.add(f"etcdctl endpoint status -w json (in {container})", repr(before))
        t.evidence.add("--quota-backend-bytes",
                       f"{ETCD_QUOTA_BYTES} ({ETCD_QUOTA_BYTES // etcd.MIB} MiB)")
    with t.step(FILL, topology=topology, core=core) as step:
        filled = etcd.fill(step.inputs["core"], "default", "filler", 2 * ETCD_QUOTA_BYTES)
        freed: list[str] = []

        def free() -> None:  # once: in the test's last step, or at its end if it failed
            if not freed:
                freed.extend(etcd.free(container, core, "default", filled.written))
                t.evidence.add("space freed", "\n".join(freed))
        t.defer("the outside etcd's space", free)
        t.evidence.add("writes through the load balancer", f"{filled.rate()}; then "
                                                             f"{filled.refused or 'no refusal'}")
    assert filled.refused and etcd.NOSPACE in filled.refused, \
        f"{filled.mib:.0f} MiB of ConfigMaps written through the load balancer without a " \
        f"refusal from etcd ({ETCD_QUOTA_BYTES // etcd.MIB} MiB quota); last: {filled.refused}"
    with t.step("etcdctl alarm list"):
        raised = etcd.alarms(container)
        t.evidence.add(f"etcdctl alarm list (in {container})", " ".join(raised))
    assert "alarm:NOSPACE" in raised, f"etcd raised no NOSPACE alarm: {raised}"

    with t.step("each apiserver, on its own node: a write refused, a read served"):
        answers = {node: (on_own_apiserver(node, "create", "configmap", f"after-{node}",
                                           "-n", "default"),
                          on_own_apiserver(node, "get", "configmap", filled.written[0],
                                           "-n", "default", "-o", "name"))
                   for node in nodes}
        for node, (write, read) in answers.items():
            t.evidence.add(f"on {node}", f"create: exit {write[0]}: {write[1]}\n"
                                         f"get: exit {read[0]}: {read[1]}")
    assert len(answers) == 3, f"three apiservers expected: {nodes}"
    writing = [n for n, ((code, out), _) in answers.items() if code == 0 or etcd.NOSPACE not in out]
    assert not writing, f"apiservers that did not refuse the write for etcd's space: {writing}"
    reading = [n for n, (_, (code, out)) in answers.items()
               if code != 0 or out.strip() != f"configmap/{filled.written[0]}"]
    assert not reading, f"apiservers that stopped serving reads: {reading}"

    with t.step("the space freed: ConfigMaps deleted, etcd compacted, defragmented, disarmed"):
        free()
        wait_until(f"a write to {nodes[0]}'s apiserver to be accepted again", lambda: (
            on_own_apiserver(nodes[0], "create", "configmap", "after-free", "-n", "default")[0]
            == 0, etcd.alarms(container)), timeout=TIMEOUTS.api_change)
        on_own_apiserver(nodes[0], "delete", "configmap", "after-free", "-n", "default")
