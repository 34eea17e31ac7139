"""The Python faults of suites/test_redis_standalone.py (section III) and of
suites/test_node_failure.py (section III.2); the others are declared in
faults/catalogue.yaml."""

import json
from collections.abc import Iterator
from pathlib import Path

from tutorial_conformance.faults import actions as act
from tutorial_conformance.faults.actions import Rule, fault_manifest
from tutorial_conformance.faults.context import FaultContext, FaultError
from tutorial_conformance.faults.registry import fault
from tutorial_conformance.toolkit.context import Step
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.nodes import addresses, is_ready
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.toolchain import pinned
from tutorial_conformance.toolkit.waiting import wait_until


@fault("redis-kubectl-run")
def registry_unreachable(ctx: FaultContext) -> Iterator[None]:
    registry, port = pinned("REGISTRY_NAME"), pinned("REGISTRY_PORT")
    reject = ("-j", "REJECT", "--reject-with", "tcp-reset")
    rules = []
    for node in ctx.nodes:
        v4, v6 = addresses(node, registry)
        rules += [Rule(node, "filter", "OUTPUT", ("-p", "tcp", "-d", a, *reject)) for a in v4]
        rules += [Rule(node, "filter", "OUTPUT", ("-p", "tcp", "-d", a, *reject), "ip6tables")
                  for a in v6]
        rules += [Rule(node, "filter", "OUTPUT", ("-p", "tcp", "--dport", "443", *reject), b)
                  for b in ("iptables", "ip6tables")]
    with act.rules_applied(ctx, rules):
        for node in ctx.nodes:
            out = ctx.node(node, "sh", "-c", f"curl -s -m 5 http://{registry}:{port}/v2/ "
                                             "&& echo reachable || echo unreachable")
            if out.strip().endswith("reachable") and "unreachable" not in out:
                raise FaultError(f"{node} still reaches {registry}")
        ctx.note(f"{registry}:{port} unreachable from every node")
        yield


@fault("redis-exec-ping", before="redis-cli ping (the suite's reconstruction)")
def redis_not_listening(ctx: FaultContext, _: Step) -> None:
    """redis-server stops listening on tcp (CONFIG SET port 0)"""
    ctx.pod_exec("redis", "redis-cli", "CONFIG", "SET", "port", "0", check=True)
    if ctx.pod_exec("redis", "sh", "-c", "redis-cli ping || true").strip() == "PONG":
        raise FaultError("redis still answers on its port")


@fault("pod-shares-volume", before="the collector reads /logs/redis.log")
def collector_volume_replaced(ctx: FaultContext, _: Step) -> None:
    """an empty tmpfs over the collector's /logs"""
    node, pid = act.container_pid(ctx, ctx.pod("redis-with-collector"), "log-collector")
    ctx.node(node, "nsenter", "-t", pid, "-m", "mount", "-t", "tmpfs", "-o", "ro,size=1m",
             "tutorial-suite-fault", "/logs")
    ctx.stack.callback(ctx.node, node, "nsenter", "-t", pid, "-m", "umount", "/logs",
                       check=False)
    listing = ctx.pod_exec("redis-with-collector", "ls", "-A", "/logs", container="log-collector")
    ctx.note(f"the collector's /logs now holds: {listing.split() or 'nothing'}")


@fault("pod-bare-not-replaced", after="kubectl run redis --image=redis")
def bare_pod_adopted(ctx: FaultContext, _: Step) -> None:
    """a ReplicaSet adopts pod redis"""
    ctx.stack.enter_context(act.labelled(ctx, "replicaset", "fault-adopter",
                                         fault_manifest("redis-adopter-replicaset.yaml"),
                                         ctx.namespace))

    def adopted() -> tuple[bool, object]:
        owners = ctx.pod("redis").metadata.owner_references or []
        return any(o.kind == "ReplicaSet" and o.controller for o in owners), owners or "none"

    owners = wait_until("the ReplicaSet to adopt pod redis", adopted, timeout=TIMEOUTS.api_change)
    ctx.note(f"pod redis is now owned: {[(o.kind, o.name) for o in owners]}")


@fault("redis-get-pods-output", before="kubectl get pods")
def redis_restarted_before_listing(ctx: FaultContext, _: Step) -> None:
    """pod redis restarted before the listing"""
    ctx.pod_exec("redis", "redis-cli", "shutdown", "nosave")

    def restarted() -> tuple[bool, str]:
        statuses = ctx.pod("redis").status.container_statuses or []
        count = statuses[0].restart_count if statuses else 0
        return count >= 1, f"restarts={count}"

    wait_until("kubelet to restart redis after its server exited", restarted,
               timeout=TIMEOUTS.pod_change)
    ctx.note("redis-server in pod redis exited and was restarted (RESTARTS 1)")


@fault("redis-delete-two-pods-output",
       before="kubectl delete pod redis redis-deployment-HASH-SUFFIX")
def pod_deletion_refused(ctx: FaultContext, _: Step) -> None:
    """pod deletion refused by a ValidatingAdmissionPolicy"""
    text = Path(manifest("faults/deny-pod-delete.yaml")).read_text().replace(
        "NAMESPACE", ctx.namespace)

    def refused() -> tuple[bool, str]:
        proc = ctx.cluster.kubectl.run("delete", "pod", "redis", "-n", ctx.namespace,
                                       "--dry-run=server", check=False)
        return "refused by the fault" in proc.stderr, (proc.stdout + proc.stderr).strip()

    ctx.kubectl("create", "-f", "-", stdin=text, check=True)
    ctx.stack.callback(ctx.kubectl, "delete", "-f", "-", "--ignore-not-found", stdin=text)
    wait_until("the admission policy to refuse pod deletion", refused,
               timeout=TIMEOUTS.api_change)
    ctx.note(f"deleting pods in {ctx.namespace} is refused by an admission policy")


@fault("pod-bound-to-its-node", before="the bare pod is evicted, not moved")
def bare_pod_moved(ctx: FaultContext, _: Step) -> None:
    """the bare pod moved to another node, as a descheduler would"""
    node = ctx.pod("redis").spec.node_name
    ready = [n.metadata.name for n in ctx.core.list_node().items
             if is_ready(n) and n.metadata.name != node
             and "node-role.kubernetes.io/control-plane" not in n.metadata.labels]
    if not ready:
        raise FaultError("no other ready worker to move the pod to")
    ctx.kubectl("delete", "pod", "redis", "-n", ctx.namespace, "--grace-period=0", "--force",
                "--wait=true")
    ctx.kubectl("run", "redis", "--image=redis", "-n", ctx.namespace,
                f"--overrides={json.dumps({'spec': {'nodeName': ready[0]}})}")
    ctx.note(f"pod redis moved from {node} to {ready[0]}")


@fault("deployment-pod-named-a-deployment",
       after="kubectl create deployment redis-deployment --image=redis")
def a_deployment_named_after_the_pod(ctx: FaultContext, _: Step) -> None:
    """a Deployment named as the pod the tutorial calls "the new Deployment" """
    (pod,) = ctx.core.list_namespaced_pod(ctx.namespace, label_selector="app=redis-deployment"
                                          ).items
    ctx.kubectl("create", "deployment", pod.metadata.name, "--image=redis", "--replicas=0",
                "-n", ctx.namespace)
