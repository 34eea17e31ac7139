"""Section I, "k8s architecture": kube-proxy, the node component that "opens up the
network", and the mode it does it in (iptables then, IPVS now, says the tutorial)."""

import re
import time
from pathlib import Path

import pytest
from kubernetes import client

from tutorial_conformance.toolkit import kind
from tutorial_conformance.toolkit.commands import node_exec
from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.deployments import wait_ready_pods
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.nodes import proxy_mode
from tutorial_conformance.toolkit.pods import is_running_and_ready
from tutorial_conformance.toolkit.timeouts import INTERVALS, TIMEOUTS
from tutorial_conformance.toolkit.toolchain import find_binary
from tutorial_conformance.toolkit.waiting import wait_until

# Every rule of a node, whichever mode kube-proxy writes them in (iptables or nftables).
RULES = "iptables-save; nft list ruleset 2>/dev/null || true"


def kube_proxy_state(t: TestContext, node: str, ip: str) -> str:
    """A node without the rule for `ip`, and kube-proxy there as a reader would look at it:
    its pod, and its /healthz."""
    pods = t.core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-proxy",
                                      field_selector=f"spec.nodeName={node}").items
    pod = ", ".join(f"{p.metadata.name} {p.status.phase}"
                    f"{' and Ready' if is_running_and_ready(p) else ', not Ready'}"
                    for p in pods) or "no kube-proxy pod"
    health = node_exec(node, "sh", "-c", "curl -s -m 3 http://127.0.0.1:10256/healthz || "
                       "echo 'no answer in 3 s'", check=False).strip()
    return f"{node}: no rule for {ip}; {pod}; its /healthz: {health[:160]}"


@pytest.mark.claim("arch-kube-proxy-opens-network")
def test_kube_proxy_writes_every_new_service_into_every_node(t: TestContext, kind_name: str):
    nodes = {n.metadata.name: n for n in t.core.list_node().items}
    with t.step("kubectl create -f service.yaml (a Service, no pod behind it)"):
        t.kubectl("create", "-n", t.namespace, "-f", manifest("kube-proxy/service.yaml"))
        ip = t.core.read_namespaced_service("opened-by-kube-proxy", t.namespace).spec.cluster_ip
    t.evidence.add("the Service's cluster IP", ip)
    address = re.compile(rf"(?<![\d.]){re.escape(ip)}(?![\d.]*\d)")  # 10.96.0.1, not .10

    started = time.monotonic()
    written: dict[str, tuple[float, list[str]]] = {}  # node -> (seconds, its rules for ip)

    def every_node() -> tuple[bool, dict[str, str]]:
        for node in sorted(set(nodes) - set(written)):
            rules = [line for line in node_exec(node, "sh", "-c", RULES).splitlines()
                     if address.search(line)]
            if rules:
                written[node] = (time.monotonic() - started, rules)
        return len(written) == len(nodes), {
            n: "written" if n in written else f"no rule for {ip}" for n in sorted(nodes)}

    with t.step("every node's rules hold the Service's cluster IP"):
        wait_until(f"kube-proxy to write the cluster IP {ip} into every node's rules",
                   every_node, timeout=TIMEOUTS.api_change, interval=INTERVALS.slow,
                   diagnose=lambda: [kube_proxy_state(t, n, ip) for n in sorted(nodes)
                                     if n not in written])
    t.evidence.add("seconds from the Service's creation to its rule, per node (measured)",
                   "\n".join(f"{n}: {s:.1f} s" for n, (s, _) in sorted(written.items())))
    node = f"{kind_name}-worker"
    t.evidence.add(f"the rules for {ip} on {node}", "\n".join(written[node][1]))

    # The pod network itself is not kube-proxy's: the CNI plugin routes each other node's
    # pod CIDR to that node, and kube-proxy writes no route.
    with t.step(f"ip route on {node}"):
        routes = node_exec(node, "ip", "route")
        t.evidence.add(f"ip route on {node}", routes)
    unrouted = [f"{name} ({n.spec.pod_cidr})" for name, n in sorted(nodes.items())
                if name != node and n.spec.pod_cidr
                and not re.search(rf"(?m)^{re.escape(n.spec.pod_cidr)} ", routes)]
    assert not unrouted, f"{node} has no route to the pods of {unrouted}"


@pytest.mark.claim("arch-kube-proxy-uses-ipvs")
def test_kube_proxy_runs_in_iptables_mode_not_ipvs(t: TestContext, kind_name: str):
    with t.step("kube-proxy's configuration"):
        config = t.core.read_namespaced_config_map("kube-proxy",
                                                   "kube-system").data["config.conf"]
        t.evidence.add("configmap kube-system/kube-proxy config.conf", config)
    configured = re.search(r"(?m)^mode: *(.*)$", config)
    mode_set = configured.group(1).strip() if configured else "(no mode: line)"
    assert mode_set == "iptables", f"kube-proxy's configuration sets mode {mode_set!r}"

    node = f"{kind_name}-worker"
    with t.step("kube-proxy's /proxyMode on a worker"):
        mode = proxy_mode(node)
        t.evidence.add(f"kube-proxy /proxyMode on {node}", mode)
    assert mode == "iptables", f"kube-proxy on {node} serves in {mode!r} mode"
    with t.step("iptables -t nat -S KUBE-SERVICES on a worker"):
        rules = node_exec(node, "iptables", "-t", "nat", "-S", "KUBE-SERVICES")
        t.evidence.add(f"iptables -t nat -S KUBE-SERVICES on {node}", rules)
    assert "default/kubernetes:https cluster IP" in rules
    ipvs = node_exec(node, "sh", "-c", "cat /proc/net/ip_vs 2>/dev/null || echo absent")
    t.evidence.add(f"/proc/net/ip_vs on {node}", ipvs)


@pytest.mark.claim("arch-kube-proxy-uses-ipvs")
def test_services_work_in_ipvs_mode_where_the_kernel_has_ipvs(t: TestContext, kind_name: str):
    probe = "test -e /proc/net/ip_vs || modprobe ip_vs 2>/dev/null && echo yes || echo no"
    has_ipvs = node_exec(f"{kind_name}-worker", "sh", "-c", probe).strip() == "yes"
    t.evidence.add("kernel IPVS on the nodes", "present" if has_ipvs else "absent")
    if not has_ipvs:
        pytest.skip("this machine's kernel has no IPVS (no /proc/net/ip_vs, no ip_vs module "
                    "to load): kube-proxy cannot run in ipvs mode here")

    # A one-node cluster of the same node image with kube-proxy in IPVS mode.
    side = f"{kind_name}-ipvs"
    spec = kind.KindSpec(
        name=side, kubeconfig=Path(t.cluster.kubeconfig).parent.parent / side / "kubeconfig",
        kind_path=find_binary("kind"), kubectl_path=t.cluster.kubectl.binary,
        node_image=t.cluster.node_image, base="kind-ipvs.yaml")
    with t.step("a one-node cluster with kube-proxy in ipvs mode"), \
            kind.kind_cluster(spec) as (_, ipvs):
        kubectl = ipvs.kubectl.bound(t.evidence)
        assert proxy_mode(f"{side}-control-plane") == "ipvs"
        core = client.CoreV1Api(ipvs.api)
        kubectl("create", "-f", manifest("redis/deployment-with-service.yaml"))
        wait_ready_pods(core, "default", "app=redis", 3)
        kubectl("run", "client", "--image=redis", "--command", "--", "sleep", "3600")
        wait_ready_pods(core, "default", "run=client", 1)
        answer = kubectl.exec("default", "client", "redis-cli", "-h", "redis-vip", "ping").stdout
        assert answer.strip() == "PONG"
