"""The Python faults of suites/test_call_flow.py (section IV) and suites/test_topologies.py;
the others are declared in faults/catalogue.yaml."""

from collections.abc import Iterator

import yaml
from kubernetes import client

from tutorial_conformance.faults import actions as act
from tutorial_conformance.faults import static_pods
from tutorial_conformance.faults.actions import fault_manifest
from tutorial_conformance.faults.context import FaultContext, FaultError
from tutorial_conformance.faults.registry import fault
from tutorial_conformance.toolkit.context import Step
from tutorial_conformance.toolkit.timeouts import INTERVALS, TIMEOUTS
from tutorial_conformance.toolkit.topology import (
    LOAD_BALANCER_CDS,
    Topology,
    apiserver_answers,
    external_etcd,
    ready_through,
)
from tutorial_conformance.toolkit.waiting import wait_until


@fault("flow-stored-in-etcd")
def deployments_refused(ctx: FaultContext) -> Iterator[None]:
    quota = fault_manifest("no-deployments-quota.yaml")
    with act.labelled(ctx, "resourcequota", "fault-no-deployments", quota, ctx.namespace):
        def enforced() -> tuple[bool, object]:
            status = ctx.core.read_namespaced_resource_quota(
                "fault-no-deployments", ctx.namespace).status
            return bool(status and status.hard), (status and status.hard) or "no status yet"
        wait_until("the quota to be enforced", enforced, timeout=TIMEOUTS.api_change)
        yield


@fault("flow-deployment-replicaset-pod")
def pods_bound_without_scheduler(ctx: FaultContext) -> Iterator[None]:
    namespace, target = ctx.namespace, f"{ctx.kind_name}-worker"

    def bind(stop: object) -> None:
        core = client.CoreV1Api(ctx.new_api())
        while not stop.wait(INTERVALS.fast):  # type: ignore[attr-defined]
            for waiting in core.list_namespaced_pod(namespace).items:
                if waiting.spec.node_name or waiting.metadata.deletion_timestamp:
                    continue
                body = client.V1Binding(
                    metadata=client.V1ObjectMeta(name=waiting.metadata.name),
                    target=client.V1ObjectReference(api_version="v1", kind="Node", name=target))
                core.create_namespaced_binding(namespace, body, _preload_content=False)
                ctx.note(f"pod {waiting.metadata.name} bound to {target} by hand")

    with static_pods.static_pod_removed(ctx, "kube-scheduler"), \
            ctx.watching(f"pods of {namespace} to bind by hand", bind):
        yield


def topology_of(step: Step) -> Topology:
    found = step.inputs.get("topology")
    if not isinstance(found, Topology):
        raise FaultError(f"step {step.name!r} works on no topology cluster")
    return found


@fault("arch-etcd-can-run-elsewhere",
       before="kubectl get pods -n kube-system -o wide (the HA cluster)")
def external_etcd_paused(ctx: FaultContext, step: Step) -> None:
    """the external etcd paused"""
    topology = topology_of(step)
    ctx.docker("pause", topology.etcd_container)

    def unpause() -> None:
        ctx.docker("unpause", topology.etcd_container)
        wait_until(f"{topology.name}'s apiservers to be ready again",
                   lambda: ready_through(topology.kubectl), timeout=TIMEOUTS.pod_change)

    ctx.stack.callback(unpause)


@fault("flow-apiserver-scales-horizontally", before="kubectl's server is the load balancer")
def load_balancer_with_one_backend(ctx: FaultContext, step: Step) -> None:
    """the load balancer knows one apiserver only"""
    topology = topology_of(step)
    lb, kept = topology.load_balancer, topology.control_planes[0]
    original = ctx.node(lb, "cat", LOAD_BALANCER_CDS)
    cds = yaml.safe_load(original)
    for group in cds["resources"][0]["load_assignment"]["endpoints"]:
        group["lb_endpoints"] = [e for e in group["lb_endpoints"]
                                 if e["endpoint"]["address"]["socket_address"]["address"] == kept]

    def write(text: str) -> None:
        """Replaces the balancer's cluster file as kind does: a temporary file, then mv."""
        ctx.node(lb, "cp", "/dev/stdin", f"{LOAD_BALANCER_CDS}.tmp", stdin=text)
        ctx.node(lb, "mv", f"{LOAD_BALANCER_CDS}.tmp", LOAD_BALANCER_CDS)

    write(yaml.safe_dump(cds))
    ctx.stack.callback(write, original)
    ctx.note(f"{lb} now balances over {kept} alone")


APISERVER = f"{static_pods.MANIFESTS}/kube-apiserver.yaml"
APISERVER_BACKUP = f"{static_pods.BACKUPS}/kube-apiserver.yaml"


@fault("flow-etcd-bottleneck",
       before="ConfigMaps written through the load balancer until etcd refuses one")
def configmaps_in_a_second_etcd(ctx: FaultContext, step: Step) -> None:
    """ConfigMaps stored in a second etcd (--etcd-servers-overrides on every apiserver)"""
    topology = topology_of(step)
    image = ctx.docker("inspect", "-f", "{{.Config.Image}}", topology.etcd_container).strip()
    second = ctx.stack.enter_context(external_etcd(f"{topology.name}-etcd2", image, quota=0))
    flag = f"--etcd-servers-overrides=/configmaps#{second}"

    def apiservers(running: bool) -> None:
        for node in topology.control_planes:
            def restarted(node: str = node) -> tuple[bool, str]:
                args = ctx.node(node, "sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '")
                answers, seen = apiserver_answers(node)
                return (flag in args) == running and answers, seen
            wait_until(f"the apiserver on {node} {'with' if running else 'without'} {flag}",
                       restarted, timeout=TIMEOUTS.slow_start, interval=INTERVALS.slow)

    def restore() -> None:
        for node in topology.control_planes:
            ctx.node(node, "mv", APISERVER_BACKUP, APISERVER)
        apiservers(running=False)

    for node in topology.control_planes:
        ctx.node(node, "mkdir", "-p", static_pods.BACKUPS)
        ctx.node(node, "cp", APISERVER, APISERVER_BACKUP)
        ctx.node(node, "sed", "-i", rf"s|^\(\s*\)- --etcd-servers=.*$|&\n\1- {flag}|",
                 APISERVER)
    ctx.stack.callback(restore)
    apiservers(running=True)
    ctx.note(f"every apiserver stores ConfigMaps in {second}")
