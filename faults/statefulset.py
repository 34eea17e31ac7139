"""The faults of suites/test_statefulset.py (section V): for each of its claims,
what makes the claim false on the real cluster (faults.registry.fault)."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml
from kubernetes import client

from faults import actions as act
from faults import static_pods
from faults.actions import Rule
from faults.common import pod, pod_exec
from faults.context import FaultContext, FaultError, command
from faults.registry import fault
from toolkit.manifests import manifest
from toolkit.pods import is_running_and_ready
from toolkit.timeouts import TIMEOUTS
from toolkit.waiting import wait_until

TEST_NET = "192.0.2.10"  # RFC 5737 documentation address: nobody's


def statefulset(edit: Callable[[dict], None]) -> str:
    doc = yaml.safe_load(Path(manifest("redis-sfs/statefulset.yaml")).read_text())
    edit(doc)
    return yaml.safe_dump(doc, sort_keys=False)


@fault("sfs-ordinal-names")
def statefulset_as_deployment(ctx: FaultContext) -> Iterator[None]:
    def edit(doc: dict) -> None:
        doc["kind"] = "Deployment"
        del doc["spec"]["serviceName"]

    ctx.override_manifest("redis-sfs/statefulset.yaml", statefulset(edit),
                          "the StatefulSet's template under a Deployment")
    yield


@fault("sfs-ordered-creation")
def statefulset_parallel(ctx: FaultContext) -> Iterator[None]:
    def edit(doc: dict) -> None:
        doc["spec"]["podManagementPolicy"] = "Parallel"

    ctx.override_manifest("redis-sfs/statefulset.yaml", statefulset(edit),
                          "the StatefulSet with podManagementPolicy: Parallel")
    yield


@fault("sfs-hostname-ordinal")
def hostnames_changed(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        for name in ("redis-sfs-0", "redis-sfs-1"):
            node, pid = act.container_pid(ctx, pod(ctx, name))
            ctx.node(node, "nsenter", "-t", pid, "-u", "hostname", "renamed-by-fault")
            ctx.note(f"{name}'s hostname now: "
                     f"{pod_exec(ctx, name, 'hostname', check=True).strip()}")

    ctx.before(command("exec", "--", "hostname"), "the pods' hostnames changed", strike)
    yield


@fault("sfs-script-master-replica")
def script_branches_swapped(ctx: FaultContext) -> Iterator[None]:
    master = "echo > /tmp/redis.conf"
    replica = 'echo "slaveof redis-sfs-0.redis-sfs 6379" > /tmp/redis.conf'

    def edit(doc: dict) -> None:
        command_ = doc["spec"]["template"]["spec"]["containers"][0]["command"]
        script = command_[-1]
        if master not in script or replica not in script:
            raise FaultError("the StatefulSet's script changed: cannot swap its branches")
        command_[-1] = script.replace(master, "\0").replace(replica, master).replace("\0",
                                                                                      replica)

    ctx.override_manifest("redis-sfs/statefulset.yaml", statefulset(edit),
                          "the script's master and replica branches swapped")
    yield


@fault("sfs-yaml-as-printed")
def printed_statefulset_fixed(ctx: FaultContext) -> Iterator[None]:
    ctx.override_manifest("redis-sfs/statefulset-as-printed.yaml",
                          Path(manifest("redis-sfs/statefulset.yaml")).read_text(),
                          "the printed server.yaml with its lost keys restored")
    yield


@fault("sfs-replica-needs-service")
def master_reachable_without_service(ctx: FaultContext) -> Iterator[None]:
    namespace = ctx.namespace
    name = f"redis-sfs-0.redis-sfs.{namespace}.svc.cluster.local"
    applied: list[Rule] = []

    def forward(stop: object) -> None:
        core = client.CoreV1Api(ctx.new_api())
        while not stop.wait(0.2):  # type: ignore[attr-defined]
            try:
                ip = core.read_namespaced_pod("redis-sfs-0", namespace).status.pod_ip
            except client.exceptions.ApiException:
                continue
            if ip:
                for node in ctx.nodes:
                    rule = Rule(node, "nat", "PREROUTING",
                                ("-d", TEST_NET, "-p", "tcp", "--dport", "6379", "-j", "DNAT",
                                 "--to-destination", f"{ip}:6379"))
                    ctx.node(node, *rule.argv("-I"))
                    applied.append(rule)
                ctx.note(f"{TEST_NET}:6379 forwarded to redis-sfs-0 ({ip}) on every node")
                return

    try:
        with act.coredns_hosts(ctx, {name: TEST_NET}, "sfs-replica-needs-service"), \
                ctx.watching("redis-sfs-0's address, to forward to it", forward):
            yield
    finally:
        for rule in applied:
            ctx.node(rule.node, *rule.argv("-D"), check=False)


@fault("svc-headless-no-cluster-ip")
def service_not_headless(ctx: FaultContext) -> Iterator[None]:
    doc = yaml.safe_load(Path(manifest("redis-sfs/service.yaml")).read_text())
    del doc["spec"]["clusterIP"]
    ctx.override_manifest("redis-sfs/service.yaml", yaml.safe_dump(doc, sort_keys=False),
                          "the Service without clusterIP: None")
    yield


@fault("svc-headless-pod-dns")
def dns_answers_wrong_address(ctx: FaultContext) -> Iterator[None]:
    name = f"redis-sfs-0.redis-sfs.{ctx.namespace}.svc.cluster.local"
    with act.coredns_hosts(ctx, {name: TEST_NET}, "svc-headless-pod-dns"):
        yield


@fault("svc-vip-spreads")
def service_sticky(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        ctx.kubectl("patch", "service", "redis-vip", "-n", ctx.namespace, "-p",
                    json.dumps({"spec": {"sessionAffinity": "ClientIP"}}))

    ctx.after(command("create", "*deployment-with-service.yaml"),
              "the Service made sticky (sessionAffinity: ClientIP)", strike)
    yield


@fault("sfs-replica-syncs")
def replication_cut(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        master_ip = pod(ctx, "redis-sfs-0").status.pod_ip
        node, pid = act.container_pid(ctx, pod(ctx, "redis-sfs-1"))
        rules = [Rule(node, "filter", "INPUT", ("-s", master_ip, "-j", "DROP"), netns_of=pid),
                 Rule(node, "filter", "OUTPUT", ("-d", master_ip, "-j", "DROP"), netns_of=pid)]
        ctx.stack.enter_context(act.rules_applied(ctx, rules))

    ctx.before(command("exec", "redis-sfs-0", "SET", "tutorial", "synced"),
               "redis-sfs-1 cut off from its master", strike)
    yield


@fault("sfs-deleted-pod-same-name")
def statefulset_controller_off(ctx: FaultContext) -> Iterator[None]:
    ctx.before(command("delete", "pod", "redis-sfs-0"), "kube-controller-manager without its "
               "StatefulSet controller", lambda _: ctx.stack.enter_context(
                   static_pods.controller_manager(ctx, off=("statefulset-controller",))))
    yield


@fault("sfs-pod-keeps-storage")
def claim_deleted(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        ctx.kubectl("delete", "pvc", "data-redis-sfs-0", "-n", ctx.namespace, "--wait=false")
        claim = ctx.core.read_namespaced_persistent_volume_claim("data-redis-sfs-0",
                                                                 ctx.namespace)
        ctx.note(f"claim data-redis-sfs-0 (volume {claim.spec.volume_name}) terminating, "
                 "held by its pod until the pod goes")

    ctx.before(command("delete", "pod", "redis-sfs-0"), "redis-sfs-0's claim deleted", strike)
    yield


def sentinels_know_each_other(ctx: FaultContext) -> tuple[bool, list[str]]:
    seen = []
    for index in range(3):
        name = f"redis-sentinel-{index}"
        replicas = quiet_exec(ctx, name, "SENTINEL", "replicas", "mymaster")
        sentinels = quiet_exec(ctx, name, "SENTINEL", "sentinels", "mymaster")
        seen.append(f"{name}: replicas={replicas.count('runid')} "
                    f"sentinels={sentinels.count('runid')}")
        if replicas.count("runid") < 1 or sentinels.count("runid") < 2:
            return False, seen
    return True, seen


def quiet_exec(ctx: FaultContext, pod_name: str, *args: str) -> str:
    return ctx.cluster.kubectl("exec", "-n", ctx.namespace, pod_name, "--", "redis-cli", "-p",
                               "26379", *args)


@fault("sfs-no-failover")
def sentinels_deployed(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        text = Path(manifest("redis-sentinel/sentinel.yaml")).read_text()
        fast = text.replace("down-after-milliseconds mymaster 5000",
                            "down-after-milliseconds mymaster 1000")
        ctx.kubectl("create", "-n", ctx.namespace, "-f", "-", stdin=fast)

        def ready() -> tuple[bool, list[str]]:
            pods = ctx.core.list_namespaced_pod(ctx.namespace,
                                                label_selector="app=redis-sentinel").items
            states = [p.metadata.name for p in pods if is_running_and_ready(p)]
            return len(states) == 3, states

        wait_until("three Sentinels to be ready", ready, timeout=TIMEOUTS.pod_start, interval=2)
        seen = wait_until("the Sentinels to know the replica and each other",
                          lambda: sentinels_know_each_other(ctx),
                          timeout=TIMEOUTS.pod_change, interval=2)
        ctx.note(f"Sentinels watch redis-sfs-0: {seen}")

    ctx.after(command("exec", "redis-sfs-1", "CONFIG", "SET", "repl-timeout"),
              "Redis Sentinel deployed", strike)
    yield


@fault("sentinel-failover")
def sentinel_quorum_unreachable(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        for index in range(3):
            name = f"redis-sentinel-{index}"
            out = quiet_exec(ctx, name, "SENTINEL", "SET", "mymaster", "quorum", "4")
            if out.strip() != "OK":
                raise FaultError(f"{name}: SENTINEL SET answered {out.strip()!r}")
            master = quiet_exec(ctx, name, "SENTINEL", "master", "mymaster").split()
            ctx.note(f"{name}: quorum {master[master.index('quorum') + 1]}")

    ctx.before(command("exec", "redis-sentinel-0", "SENTINEL", "replicas", "mymaster"),
               "the Sentinels' quorum raised to 4", strike)
    yield
