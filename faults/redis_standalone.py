"""The faults of suites/test_redis_standalone.py (section III): for each of its claims,
what makes the claim false on the real cluster (faults.registry.fault)."""

from collections.abc import Iterator
from pathlib import Path

from faults import actions as act
from faults import static_pods
from faults.actions import Rule, fault_manifest
from faults.common import pod, pod_exec
from faults.context import FaultContext, FaultError, command
from faults.registry import fault
from toolkit.manifests import manifest
from toolkit.timeouts import TIMEOUTS
from toolkit.toolchain import pinned
from toolkit.waiting import wait_until


@fault("redis-kubectl-run")
def registry_unreachable(ctx: FaultContext) -> Iterator[None]:
    registry, port = pinned("REGISTRY_NAME"), pinned("REGISTRY_PORT")
    reject = ("-j", "REJECT", "--reject-with", "tcp-reset")
    rules = []
    for node in ctx.nodes:
        v4, v6 = act.addresses(node, registry)
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


@fault("redis-exec-ping")
def redis_not_listening(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        pod_exec(ctx, "redis", "redis-cli", "CONFIG", "SET", "port", "0", check=True)
        if pod_exec(ctx, "redis", "sh", "-c", "redis-cli ping || true").strip() == "PONG":
            raise FaultError("redis still answers on its port")

    ctx.before(command("exec", "redis", "redis-cli", "ping"),
               "redis-server stops listening on tcp (CONFIG SET port 0)", strike)
    yield


@fault("pod-shares-network")
def loopback_cut(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        node, pid = act.container_pid(ctx, pod(ctx, "redis-with-collector"), "redis")
        rule = Rule(node, "filter", "INPUT", ("-i", "lo", "-p", "tcp", "--dport", "6379", "-j",
                                              "REJECT", "--reject-with", "tcp-reset"),
                    netns_of=pid)
        ctx.stack.enter_context(act.rules_applied(ctx, [rule]))

    ctx.before(command("exec", "redis-with-collector", "log-collector", "redis-cli", "ping"),
               "loopback to 6379 rejected in the pod's network namespace", strike)
    yield


@fault("pod-shares-volume")
def collector_volume_replaced(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        node, pid = act.container_pid(ctx, pod(ctx, "redis-with-collector"), "log-collector")
        ctx.node(node, "nsenter", "-t", pid, "-m", "mount", "-t", "tmpfs", "-o", "ro,size=1m",
                 "tutorial-suite-fault", "/logs")
        ctx.stack.callback(ctx.node, node, "nsenter", "-t", pid, "-m", "umount", "/logs",
                           check=False)
        listing = pod_exec(ctx, "redis-with-collector", "ls", "-A", "/logs",
                            container="log-collector")
        ctx.note(f"the collector's /logs now holds: {listing.split() or 'nothing'}")

    ctx.before(command("exec", "redis-with-collector", "log-collector", "cat", "/logs/redis.log"),
               "an empty tmpfs over the collector's /logs", strike)
    yield


@fault("pod-bare-not-replaced")
def bare_pod_adopted(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        ctx.stack.enter_context(act.labelled(ctx, "replicaset", "fault-adopter",
                                             fault_manifest("redis-adopter-replicaset.yaml"),
                                             ctx.namespace))

        def adopted() -> tuple[bool, object]:
            owners = pod(ctx, "redis").metadata.owner_references or []
            return any(o.kind == "ReplicaSet" and o.controller for o in owners), owners

        owners = wait_until("the ReplicaSet to adopt pod redis", adopted,
                            timeout=TIMEOUTS.api_change)
        ctx.note(f"pod redis is now owned: {[(o.kind, o.name) for o in owners]}")

    ctx.after(command("run", "redis"), "a ReplicaSet adopts pod redis", strike)
    yield


@fault("deployment-replaces-deleted-pod")
def controller_manager_stopped_before_delete(ctx: FaultContext) -> Iterator[None]:
    ctx.before(command("delete", "pod"), "kube-controller-manager stopped",
               lambda _: ctx.stack.enter_context(
                   static_pods.static_pod_removed(ctx, "kube-controller-manager")))
    yield


@fault("deployment-uses-replicaset")
def replicaset_controller_off(ctx: FaultContext) -> Iterator[None]:
    with static_pods.controller_manager(ctx, off=("replicaset-controller",)):
        yield


@fault("yaml-create-equals-run")
def pod_yaml_differs(ctx: FaultContext) -> Iterator[None]:
    text = Path(manifest("redis/pod.yaml")).read_text()
    ctx.override_manifest("redis/pod.yaml", text.replace("image: redis", "image: memcached"),
                          "pod.yaml with another image")
    yield


@fault("yaml-as-printed")
def printed_pod_yaml_fixed(ctx: FaultContext) -> Iterator[None]:
    ctx.override_manifest("redis/pod-as-printed.yaml",
                          Path(manifest("redis/pod.yaml")).read_text(),
                          "the printed pod.yaml with its lost keys restored")
    yield


@fault("redis-get-pods-output")
def redis_restarted_before_listing(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        pod_exec(ctx, "redis", "redis-cli", "shutdown", "nosave")

        def restarted() -> tuple[bool, str]:
            statuses = pod(ctx, "redis").status.container_statuses or []
            count = statuses[0].restart_count if statuses else 0
            return count >= 1, f"restarts={count}"

        wait_until("kubelet to restart redis after its server exited", restarted,
                   timeout=TIMEOUTS.pod_change)
        ctx.note("redis-server in pod redis exited and was restarted (RESTARTS 1)")

    ctx.before(command("get", "pods"), "pod redis restarted before the listing", strike)
    yield


@fault("redis-delete-two-pods-output")
def pod_deletion_refused(ctx: FaultContext) -> Iterator[None]:
    text = Path(manifest("faults/deny-pod-delete.yaml")).read_text().replace(
        "NAMESPACE", ctx.namespace)

    def refused() -> tuple[bool, str]:
        proc = ctx.cluster.kubectl.run("delete", "pod", "redis", "-n", ctx.namespace,
                                       "--dry-run=server", check=False)
        return "refused by the fault" in proc.stderr, proc.stdout + proc.stderr

    def strike(_: tuple[str, ...]) -> None:
        ctx.kubectl("create", "-f", "-", stdin=text, check=True)
        ctx.stack.callback(ctx.kubectl, "delete", "-f", "-", "--ignore-not-found", stdin=text)
        wait_until("the admission policy to refuse pod deletion", refused,
                   timeout=TIMEOUTS.api_change)
        ctx.note(f"deleting pods in {ctx.namespace} is refused by an admission policy")

    ctx.before(command("delete", "pod"), "pod deletion refused", strike)
    yield
