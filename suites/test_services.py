"""Section V.2, "Headless Service": the tutorial's service.yaml, what clusterIP: None
means (no address; DNS names each pod), what an ordinary Service's virtual IP does, whom a
Service exposes pods to, and the tutorial's order (the Service created
after the StatefulSet, the replica recovering by itself)."""

import ipaddress

import pytest

from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.deployments import wait_ready_pods
from tutorial_conformance.toolkit.dns import lookup
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.nodes import is_ready
from tutorial_conformance.toolkit.outside import outside_client
from tutorial_conformance.toolkit.printed import (
    AGE,
    RDB_MEMORY,
    REDIS_TIME,
    REPLICATION_ID,
)
from tutorial_conformance.toolkit.redis import (
    create,
    explained,
    last_sync,
    ready_pods,
    redis_cli,
    redis_info,
    replication,
    wait_link_up,
)
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.tutorial import lines as tutorial_lines
from tutorial_conformance.toolkit.waiting import wait_until


@pytest.mark.claim("svc-yaml-as-printed")
def test_the_service_yaml_as_printed_is_rejected(t: TestContext):
    proc = t.create_as_printed("redis-sfs/service-as-printed.yaml", 190, 197, "service.yaml")
    assert proc.returncode != 0, "the service.yaml as printed was accepted"
    assert "error converting YAML to JSON" in proc.stderr
    assert t.core.list_namespaced_service(t.namespace).items == []
    # The suite's reconstruction, beside the printed lines (the tutorial as it runs today).
    t.compare_reconstruction(190, 197, "redis-sfs/service.yaml",
                             "the keys the print lost, restored (manifests/redis-sfs/service.yaml)")
    # With its metadata, spec, selector and ports keys back, it creates the Service.
    create(t, "service.yaml")
    assert t.core.read_namespaced_service("redis-sfs", t.namespace).spec.cluster_ip == "None"


def allocated(t: TestContext, service: str) -> list[str]:
    """The cluster IPs the apiserver allocated to a Service (networking.k8s.io IPAddress
    objects, one per allocated address, naming the Service as their parent)."""
    addresses = t.kubectl.json("get", "ipaddresses.networking.k8s.io")["items"]
    return [a["metadata"]["name"] for a in addresses
            if a["spec"]["parentRef"].get("namespace") == t.namespace
            and a["spec"]["parentRef"]["name"] == service]


@pytest.mark.claim("svc-headless-means-allocated")
def test_a_headless_service_gets_no_address_allocated(t: TestContext):
    create(t, "service.yaml")
    with t.step("kubectl create -f deployment-with-service.yaml"):
        t.kubectl("create", "-n", t.namespace, "-f",
                  manifest("redis/deployment-with-service.yaml"))
    headless = t.core.read_namespaced_service("redis-sfs", t.namespace).spec
    vip = t.core.read_namespaced_service("redis-vip", t.namespace).spec
    assert headless.cluster_ip == "None" and headless.cluster_ips == ["None"], (
        f"redis-sfs has cluster IPs {headless.cluster_ips}")
    # An ordinary Service gets an address from the service range, recorded as allocated;
    # a headless one gets none: "None" means no virtual IP, not "allocated by k8s".
    with t.step("kubectl get ipaddresses.networking.k8s.io"):
        assert allocated(t, "redis-vip") == [vip.cluster_ip]
        assert allocated(t, "redis-sfs") == []


@pytest.mark.claim("svc-exposes-to-outside")
def test_only_a_nodeport_service_is_reachable_from_outside_the_cluster(t: TestContext):
    if t.cluster.kind_name is None or t.cluster.node_image is None:
        pytest.skip("needs a kind cluster: the outside client sits on kind's network")
    with t.step("a client outside the cluster"), \
            outside_client(t.namespace, t.cluster.node_image) as outside:
        with t.step("kubectl create -f deployment-with-service.yaml"):
            t.kubectl("create", "-n", t.namespace, "-f",
                      manifest("redis/deployment-with-service.yaml"))
        with t.step("kubectl create -f service-nodeport.yaml", outside=outside):
            t.kubectl("create", "-n", t.namespace, "-f", manifest("redis/service-nodeport.yaml"))
        create(t, "service.yaml")
        wait_ready_pods(t.core, t.namespace, "app=redis", 3)
        worker = next(n for n in t.core.list_node().items if is_ready(n)
                      and "node-role.kubernetes.io/control-plane" not in n.metadata.labels)
        node_ip = next(a.address for a in worker.status.addresses if a.type == "InternalIP")
        node_port = t.core.read_namespaced_service(
            "redis-nodeport", t.namespace).spec.ports[0].node_port
        vip = t.core.read_namespaced_service("redis-vip", t.namespace).spec.cluster_ip
        with t.step("redis PING from outside the cluster"):
            t.evidence.add("routes of the client outside the cluster", outside.routes())
            seen = {
                f"NodePort {node_ip}:{node_port}": outside.redis_ping(node_ip, node_port),
                f"ClusterIP {vip}:6379": outside.redis_ping(vip, 6379),
            }
            t.evidence.add("redis PING from outside the cluster", "\n".join(
                f"{target}: {answer}" for target, answer in seen.items()))
        assert seen[f"NodePort {node_ip}:{node_port}"] == "PONG", (
            f"the NodePort did not answer from outside: {seen}; "
            + t.diagnose.service(t.namespace, "redis-nodeport"))
        assert seen[f"ClusterIP {vip}:6379"] != "PONG", "the cluster IP answered from outside"
        # The headless Service has no address at all to reach from anywhere.
        assert t.core.read_namespaced_service("redis-sfs",
                                              t.namespace).spec.cluster_ip == "None"


@pytest.mark.claim("svc-headless-no-cluster-ip", "svc-headless-pod-dns")
def test_the_headless_service_has_no_cluster_ip_and_dns_names_each_pod(t: TestContext):
    create(t, "service.yaml", "statefulset.yaml")
    pods = ready_pods(t)
    with t.step("kubectl get service redis-sfs"):
        listing = t.kubectl("get", "service", "redis-sfs", "-n", t.namespace)
    assert listing.splitlines()[1].split()[1:3] == ["ClusterIP", "None"]
    assert t.core.read_namespaced_service("redis-sfs", t.namespace).spec.cluster_ip == "None"

    domain = f"redis-sfs.{t.namespace}.svc.cluster.local"
    with t.step("getent ahostsv4 of each pod's name and of the Service's"):
        for name, pod in pods.items():
            found = lookup(t, "redis-sfs-1", f"{name}.{domain}", "redis-sfs")
            assert found == {pod.status.pod_ip}, f"{name}.{domain} -> {found}, not its pod's IP"
        assert lookup(t, "redis-sfs-1", domain, "redis-sfs") == {
            p.status.pod_ip for p in pods.values()}


@pytest.mark.claim("svc-vip-spreads")
def test_an_ordinary_service_gives_a_virtual_ip_that_spreads_connections(t: TestContext):
    with t.step("kubectl create -f deployment-with-service.yaml"):
        t.kubectl("create", "-n", t.namespace, "-f",
                  manifest("redis/deployment-with-service.yaml"))
        backends = wait_ready_pods(t.core, t.namespace, "app=redis", 3)
    with t.step("a client pod"):
        t.kubectl("run", "client", "--image=redis", "-n", t.namespace, "--command", "--",
                  "sleep", "3600")
        wait_ready_pods(t.core, t.namespace, "run=client", 1)
    vip = t.core.read_namespaced_service("redis-vip", t.namespace).spec.cluster_ip
    assert vip not in ("None", "") and vip not in {p.status.pod_ip for p in backends}

    # Each connection to the VIP reaches one backend; its run_id tells which.
    with t.step("30 connections to redis-vip"):
        script = "for i in $(seq 30); do redis-cli -h redis-vip INFO server | grep run_id; done"
        out = t.exec("client", "sh", "-c", script)
        served = {line.strip() for line in out.splitlines()}
        t.evidence.add("distinct backends over 30 connections", str(len(served)))
    # Spread over all three: with kube-proxy's random choice, one backend of three is left
    # out of 30 connections with probability 3 x (2/3)^30, under 2 in 100,000.
    assert len(served) == len(backends), (
        f"30 connections reached {len(served)} of {len(backends)} backends"
        + (" (all the same pod)" if len(served) == 1 else "") + ": "
        + t.diagnose.service(t.namespace, "redis-vip"))


@pytest.mark.claim("sfs-service-after-statefulset", "sfs-replica-log-lines",
                   "sfs-get-service-output", "sfs-replica-sync-log")
def test_the_replica_recovers_by_itself_once_the_service_is_created(t: TestContext):
    """The tutorial's order: the StatefulSet first (the replica cannot find its master),
    then the Service, and the same replica process syncs, restarted by nobody."""
    create(t, "statefulset.yaml")
    before = ready_pods(t)["redis-sfs-1"]

    def failing() -> tuple[bool, str]:
        log = t.kubectl("logs", "-n", t.namespace, "redis-sfs-1")
        return "Unable to connect to MASTER" in log, log[-400:]

    with t.step("kubectl logs redis-sfs-1 (no Service yet)"):
        log = wait_until("redis-sfs-1 to log that it cannot reach its master", failing,
                         timeout=TIMEOUTS.sync,
                         diagnose=lambda: [explained(t, "redis-sfs-1",
                                                     replication(t, "redis-sfs-1"))])
        lines = [line for line in log.splitlines() if "MASTER" in line][:2]
    why = ("Redis logs strerror(errno) of the failed lookup of the master's name: the "
           "cluster DNS answers that no such name exists (ENOENT), where the tutorial's lookup "
           "failed temporarily (EAGAIN)")
    block = t.compare(176, 177, lines, REDIS_TIME, why={177: why})
    # Pinned: the same two lines but for the reason, which is today's resolver's.
    reason = lines[-1].partition("Unable to connect to MASTER: ")[2]
    assert reason == "No such file or directory", \
        f"the replica's reason is {reason!r}, not the cluster DNS's no such name: {block.render()}"
    assert [d.printed_line for d in block.differences] == [177], block.render()
    # The tutorial's reason is what a lookup that fails temporarily leaves in errno.
    with t.step("kubectl create -f replica-unanswered-dns.yaml (its DNS server never answers)"):
        t.kubectl("create", "-n", t.namespace, "-f",
                  manifest("redis-sfs/replica-unanswered-dns.yaml"))

        def unanswered() -> tuple[bool, str]:
            log = t.kubectl.run("logs", "-n", t.namespace, "replica-unanswered-dns",
                                check=False).stdout
            found = [line for line in log.splitlines() if "Unable to connect to MASTER" in line]
            return bool(found), (found or log.splitlines() or ["an empty log"])[-1]

        seen = wait_until("replica-unanswered-dns to log that it cannot reach its master",
                          unanswered, timeout=TIMEOUTS.pod_start,
                          diagnose=lambda: t.diagnose.pods(t.namespace))
    assert seen.endswith("Unable to connect to MASTER: Resource temporarily unavailable"), seen

    create(t, "service.yaml")
    services_listed(t)
    with t.step("the replica syncs by itself"):
        wait_link_up(t)
    after = t.core.read_namespaced_pod("redis-sfs-1", t.namespace)
    assert after.metadata.uid == before.metadata.uid, "redis-sfs-1 was recreated"
    assert after.status.container_statuses[0].restart_count == 0, "redis-sfs-1 restarted"
    info = replication(t, "redis-sfs-1")
    assert info["role"] == "slave", explained(t, "redis-sfs-1", info)
    sync_logged(t)


def services_listed(t: TestContext) -> None:
    """Lines 204-205: the kubernetes row lost its cluster IP in print, and the block its
    header; the redis-sfs row is today's."""
    with t.step("kubectl get service"):
        ours = t.kubectl("get", "service", "-n", t.namespace).splitlines()
        # The tutorial's namespace, default, holds both; the kubernetes Service is default's.
        theirs = t.kubectl("get", "service", "kubernetes", "-n", "default",
                           "--no-headers").splitlines()
    block = t.compare(204, 205, [*ours[:1], *theirs, *ours[1:]], AGE, why={
        204: "the print lost the kubernetes row's cluster IP (the service range's first address)"})
    unexpected = [d for d in block.differences if d.printed_line not in (None, 204)]
    assert not unexpected, "; ".join(
        f"line {d.printed_line} differs: printed {d.printed!r}, today {d.today!r}"
        for d in unexpected)
    header, kubernetes = (d.today or "" for d in block.differences)
    assert header.split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    printed, today = tutorial_lines()[203].split(), kubernetes.split()
    assert today[:2] + today[3:5] == printed[:4], block.render()
    assert ipaddress.ip_address(today[2]), block.render()


def sync_logged(t: TestContext) -> None:
    """Lines 207-220: the replica's full sync, compared whole with its log today; each line
    that differs is pinned to its cause, read from the Redis that ran."""
    with t.step("kubectl logs redis-sfs-1 (the sync)"):
        log = t.kubectl("logs", "-n", t.namespace, "redis-sfs-1")
    version = redis_info(t, "redis-sfs-1", "server").get("redis_version", "")
    diskless = redis_cli(t, "redis-sfs-0", "CONFIG", "GET", "repl-diskless-sync").split()[-1]
    t.evidence.add("Redis", f"redis_version {version}; the master's repl-diskless-sync {diskless}")
    expected = {
        213: (diskless == "yes", "MASTER <-> REPLICA sync: receiving streamed RDB from master "
              "with EOF to disk", f"the master streams the RDB (repl-diskless-sync {diskless}, "
              "the default since Redis 7.0), so the replica cannot say its size"),
        216: (True, f"Loading RDB produced by version {version}", f"Redis {version} ran"),
        219: (int(version.split(".")[0]) >= 7, "* Done loading RDB, keys loaded: 0, keys "
              "expired: 0.", "logged at notice level (*) since Redis 7.0, not warning (#)"),
    }
    block = t.compare(207, 220, last_sync(log), REDIS_TIME, REPLICATION_ID, RDB_MEMORY,
                      why={line: why for line, (_, _, why) in expected.items()})
    for d in block.differences:
        expects, text, why = expected.get(d.printed_line or 0, (False, "", ""))
        assert expects and text in (d.today or ""), (
            f"line {d.printed_line or '(only today)'} of the sync differs, unexplained on "
            f"Redis {version} (repl-diskless-sync {diskless}): today {d.today!r}; "
            + block.render())
    assert [d.printed_line for d in block.differences] == [
        line for line, (expects, _, _) in expected.items() if expects], block.render()


@pytest.mark.claim("svc-dns-resolves-to-pod")
def test_a_service_name_resolves_to_its_cluster_ip_and_a_headless_ones_to_the_pods(
        t: TestContext):
    with t.step("kubectl create -f deployment-with-service.yaml"):
        t.kubectl("create", "-n", t.namespace, "-f",
                  manifest("redis/deployment-with-service.yaml"))
        backends = wait_ready_pods(t.core, t.namespace, "app=redis", 3)
    with t.step("kubectl create service clusterip redis --clusterip=None --tcp=6379:6379"):
        t.kubectl("create", "service", "clusterip", "redis", "--clusterip=None",
                  "--tcp=6379:6379", "-n", t.namespace)
    addresses = {p.status.pod_ip for p in backends}
    vip = t.core.read_namespaced_service("redis-vip", t.namespace).spec.cluster_ip
    domain = f"{t.namespace}.svc.cluster.local"
    pod = backends[0].metadata.name
    with t.step("getent ahostsv4 of each Service's name, in a backend pod"):
        ordinary = lookup(t, pod, f"redis-vip.{domain}", "redis-vip")
        wait_until("the headless Service's name to resolve to its 3 pods",
                   lambda: ((found := lookup(t, pod, f"redis.{domain}", "redis")) == addresses,
                            f"redis.{domain} -> {sorted(found)}"),
                   timeout=TIMEOUTS.api_change)
    # An ordinary Service's name is its virtual IP: no pod's address.
    assert ordinary == {vip}, f"redis-vip.{domain} -> {sorted(ordinary)}, not its cluster IP {vip}"
    assert not ordinary & addresses, f"redis-vip.{domain} resolves to a pod: {sorted(ordinary)}"


@pytest.mark.claim("sfs-redis-cli-at-master")
def test_redis_cli_in_the_replica_opens_a_prompt_on_the_master(t: TestContext):
    """Lines 221-223 as a reader types them, on a terminal: bash in redis-sfs-1, then
    redis-cli at the master's DNS name, then ping at its prompt."""
    create(t, "statefulset.yaml", "service.yaml")
    ready_pods(t)
    master = f"redis-sfs-0.redis-sfs.{t.namespace}.svc.cluster.local"
    with (t.step("kubectl exec -it redis-sfs-1 -- bash"),
          t.kubectl.terminal("exec", "-it", "-n", t.namespace, "redis-sfs-1", "--", "bash")
          as term):
        term.expect(r"root@redis-sfs-1:/data#$", "bash's prompt in redis-sfs-1")
        # The terminal's size, which kubectl sends from ours, can reach the pod's pty after
        # bash's first prompt; set, it keeps a long line from wrapping in the screen's lines.
        term.type("stty cols 200 rows 40")
        term.expect(r"stty cols 200 rows 40\nroot@redis-sfs-1:/data#$", "bash's next prompt")
        term.type(f"redis-cli -h {master}")
        term.expect(r"6379>$|not connected>$", "redis-cli's prompt")
        term.type("ping")
        term.expect(r"(?m)^(PONG|.*(error|Could not).*)$", "redis-cli's answer to ping")
    at = next((i for i, line in enumerate(term.lines) if "# redis-cli -h" in line), 0)
    block = t.compare(222, 223, term.lines[at:at + 2])
    assert block.same, block.render()
    assert term.lines[at + 2:at + 3] == ["PONG"], f"ping answered {term.lines[at + 2:]}"
