"""The Python faults of suites/test_statefulset.py and suites/test_services.py (section V);
the others are declared in faults/catalogue.yaml."""

from collections.abc import Iterator
from pathlib import Path

import yaml
from kubernetes import client

from tutorial_conformance.faults import actions as act
from tutorial_conformance.faults.actions import Rule
from tutorial_conformance.faults.context import FaultContext, FaultError
from tutorial_conformance.faults.registry import fault
from tutorial_conformance.toolkit.commands import docker, run
from tutorial_conformance.toolkit.context import Step
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.outside import Outside
from tutorial_conformance.toolkit.pods import is_running_and_ready
from tutorial_conformance.toolkit.timeouts import INTERVALS, TIMEOUTS
from tutorial_conformance.toolkit.waiting import wait_until

TEST_NET = "192.0.2.10"  # RFC 5737 documentation address: nobody's


@fault("sfs-hostname-ordinal", before="kubectl exec POD -- hostname")
def hostnames_changed(ctx: FaultContext, _: Step) -> None:
    """the pods' hostnames changed"""
    for name in ("redis-sfs-0", "redis-sfs-1"):
        node, pid = act.container_pid(ctx, ctx.pod(name))
        ctx.node(node, "nsenter", "-t", pid, "-u", "hostname", "renamed-by-fault")
        ctx.note(f"{name}'s hostname now: {ctx.pod_exec(name, 'hostname', check=True).strip()}")


@fault("sfs-script-master-replica")
def script_branches_swapped(ctx: FaultContext) -> Iterator[None]:
    master = "echo > /tmp/redis.conf"
    replica = 'echo "slaveof redis-sfs-0.redis-sfs 6379" > /tmp/redis.conf'
    doc = yaml.safe_load(Path(manifest("redis-sfs/statefulset.yaml")).read_text())
    command = doc["spec"]["template"]["spec"]["containers"][0]["command"]
    if master not in command[-1] or replica not in command[-1]:
        raise FaultError("the StatefulSet's script changed: cannot swap its branches")
    command[-1] = command[-1].replace(master, "\0").replace(replica, master).replace("\0", replica)
    ctx.override_manifest("redis-sfs/statefulset.yaml", yaml.safe_dump(doc, sort_keys=False),
                          "the script's master and replica branches swapped")
    yield


def master_reachable_without_service(ctx: FaultContext) -> Iterator[None]:
    namespace = ctx.namespace
    name = f"redis-sfs-0.redis-sfs.{namespace}.svc.cluster.local"
    applied: list[Rule] = []

    def forward(stop: object) -> None:
        core = client.CoreV1Api(ctx.new_api())
        while not stop.wait(INTERVALS.fast):  # type: ignore[attr-defined]
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


fault("sfs-replica-needs-service")(master_reachable_without_service)


@fault("svc-headless-pod-dns")
def dns_answers_wrong_address(ctx: FaultContext) -> Iterator[None]:
    name = f"redis-sfs-0.redis-sfs.{ctx.namespace}.svc.cluster.local"
    with act.coredns_hosts(ctx, {name: TEST_NET}, "svc-headless-pod-dns"):
        yield


@fault("sfs-replica-syncs", before="SET tutorial synced on the master")
def replication_cut(ctx: FaultContext, _: Step) -> None:
    """redis-sfs-1 cut off from its master (iptables DROP in its network namespace)"""
    master_ip = ctx.pod("redis-sfs-0").status.pod_ip
    node, pid = act.container_pid(ctx, ctx.pod("redis-sfs-1"))
    rules = [Rule(node, "filter", "INPUT", ("-s", master_ip, "-j", "DROP"), netns_of=pid),
             Rule(node, "filter", "OUTPUT", ("-d", master_ip, "-j", "DROP"), netns_of=pid)]
    ctx.stack.enter_context(act.rules_applied(ctx, rules))


def sentinel_cli(ctx: FaultContext, pod: str, *args: str) -> str:
    return ctx.pod_exec(pod, "redis-cli", "-p", "26379", *args, check=True)


@fault("sfs-no-failover", after="CONFIG SET repl-timeout 5 on the replica")
def sentinels_deployed(ctx: FaultContext, _: Step) -> None:
    """Redis Sentinel deployed (master down after 1 s)"""
    text = Path(manifest("redis-sentinel/sentinel.yaml")).read_text()
    ctx.kubectl("create", "-n", ctx.namespace, "-f", "-", stdin=text.replace(
        "down-after-milliseconds mymaster 5000", "down-after-milliseconds mymaster 1000"))

    def ready() -> tuple[bool, list[str]]:
        pods = ctx.core.list_namespaced_pod(ctx.namespace,
                                            label_selector="app=redis-sentinel").items
        return sum(is_running_and_ready(p) for p in pods) == 3, [
            f"{p.metadata.name} {p.status.phase}" for p in pods] or ["no Sentinel pod"]

    def know_each_other() -> tuple[bool, list[str]]:
        seen = [(pod, sentinel_cli(ctx, pod, "SENTINEL", "replicas", "mymaster").count("runid"),
                 sentinel_cli(ctx, pod, "SENTINEL", "sentinels", "mymaster").count("runid"))
                for pod in (f"redis-sentinel-{i}" for i in range(3))]
        return all(r >= 1 and s >= 2 for _, r, s in seen), [
            f"{p}: replicas={r} sentinels={s}" for p, r, s in seen]

    wait_until("three Sentinels to be ready", ready, timeout=TIMEOUTS.pod_start,
               interval=INTERVALS.slow)
    seen = wait_until("the Sentinels to know the replica and each other", know_each_other,
                      timeout=TIMEOUTS.pod_change, interval=INTERVALS.slow)
    ctx.note(f"Sentinels watch redis-sfs-0: {seen}")


@fault("sentinel-failover", after="the Sentinels find the replica and each other")
def sentinel_quorum_unreachable(ctx: FaultContext, _: Step) -> None:
    """the Sentinels' quorum raised to 4, above their number"""
    for pod in (f"redis-sentinel-{i}" for i in range(3)):
        out = sentinel_cli(ctx, pod, "SENTINEL", "SET", "mymaster", "quorum", "4")
        if out.strip() != "OK":
            raise FaultError(f"{pod}: SENTINEL SET answered {out.strip()!r}")
        master = sentinel_cli(ctx, pod, "SENTINEL", "master", "mymaster").split()
        ctx.note(f"{pod}: quorum {master[master.index('quorum') + 1]}")


@fault("svc-exposes-to-outside", after="kubectl create -f service-nodeport.yaml")
def cluster_ip_routed_from_outside(ctx: FaultContext, step: Step) -> None:
    """a route to redis-vip's cluster IP through a worker, from outside the cluster"""
    outside = step.inputs.get("outside")
    if not isinstance(outside, Outside):
        raise FaultError(f"step {step.name!r} has no outside client to give a route")
    vip = ctx.core.read_namespaced_service("redis-vip", ctx.namespace).spec.cluster_ip
    worker = next(n for n in ctx.core.list_node().items
                  if "node-role.kubernetes.io/control-plane" not in n.metadata.labels)
    via = next(a.address for a in worker.status.addresses if a.type == "InternalIP")
    # The route goes with the client's namespace when the test removes its container.
    route = ["nsenter", "-t", str(outside.pid), "-n", "ip", "route", "add", f"{vip}/32", "via",
             via]
    proc = run(route, timeout=TIMEOUTS.probe, check=False, log=ctx.note)
    if proc.returncode != 0:
        raise FaultError(f"{' '.join(route)}: {proc.stderr.strip()}")
    ctx.note(f"the outside client routes {vip} through {worker.metadata.name} ({via}); "
             f"{docker('inspect', '-f', '{{.Name}}', outside.container, check=False).strip()}")


@fault("svc-dns-resolves-to-pod", after="kubectl create -f deployment-with-service.yaml")
def service_name_answers_a_pod(ctx: FaultContext, _: Step) -> None:
    """CoreDNS answering the ordinary Service's name with one of its pods' addresses"""
    (first, *_rest) = ctx.core.list_namespaced_pod(ctx.namespace, label_selector="app=redis").items
    name = f"redis-vip.{ctx.namespace}.svc.cluster.local"
    ctx.stack.enter_context(act.coredns_hosts(ctx, {name: first.status.pod_ip},
                                              "svc-dns-resolves-to-pod"))
    ctx.note(f"{name} now answers {first.status.pod_ip} ({first.metadata.name})")


@fault("sfs-redis-cli-at-master", before="kubectl exec -it redis-sfs-1 -- bash")
def master_name_gone(ctx: FaultContext, _: Step) -> None:
    """the headless Service deleted, until the master's name no longer resolves"""
    name = f"redis-sfs-0.redis-sfs.{ctx.namespace}.svc.cluster.local"
    ctx.kubectl("delete", "service", "redis-sfs", "-n", ctx.namespace)

    def gone() -> tuple[bool, str]:
        out = ctx.pod_exec("redis-sfs-1", "getent", "ahostsv4", name).strip()
        return not out, out or "no address"

    wait_until(f"{name} to stop resolving in redis-sfs-1 (CoreDNS keeps an answer 30 s)",
               gone, timeout=TIMEOUTS.api_change, interval=INTERVALS.slow)
    ctx.note(f"service redis-sfs deleted; {name} no longer resolves in redis-sfs-1")


@fault("sfs-replica-sync-log", before="kubectl create -f service.yaml")
def replica_loads_from_socket(ctx: FaultContext, _: Step) -> None:
    """redis-sfs-1 loading the RDB straight from the socket (repl-diskless-load on-empty-db)"""
    ctx.pod_exec("redis-sfs-1", "redis-cli", "CONFIG", "SET", "repl-diskless-load",
                 "on-empty-db", check=True)
