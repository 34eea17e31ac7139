"""Section V, "deploy master-slave version": a Redis StatefulSet, its headless Service,
and master-replica replication."""

import time

import pytest
from kubernetes import client, watch

from toolkit.cluster import Cluster
from toolkit.deployments import wait_ready_pods
from toolkit.evidence import Evidence
from toolkit.kubectl import Kubectl
from toolkit.manifests import manifest
from toolkit.nodes import frozen
from toolkit.pods import is_running_and_ready, record_pod
from toolkit.redis import SELECTOR, create, ready_pods, redis_cli, replication, wait_link_up
from toolkit.timeouts import TIMEOUTS
from toolkit.waiting import Unrecoverable, holds_for, wait_until


def ready_since(pod: client.V1Pod) -> float:
    (ready,) = [c for c in pod.status.conditions if c.type == "Ready"]
    return ready.last_transition_time.timestamp()


@pytest.mark.claim("sfs-ordinal-names", "sfs-ordered-creation")
def test_pods_are_created_in_order_with_ordinal_names(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    since = core_v1.list_namespaced_pod(namespace).metadata.resource_version
    create(kubectl, namespace, "service.yaml", "statefulset.yaml")
    # The pods' events in the apiserver's own order (resourceVersion), from before the
    # StatefulSet: no timestamp ties at one-second resolution to hide a wrong order.
    order: list[tuple[str, str, bool]] = []
    for event in watch.Watch().stream(core_v1.list_namespaced_pod, namespace,
                                      resource_version=since, timeout_seconds=180):
        pod = event["object"]
        order.append((event["type"], pod.metadata.name, is_running_and_ready(pod)))
        if pod.metadata.name == "redis-sfs-1":
            break
    evidence.add("pod events in watch order (type, pod, Ready)", "\n".join(map(str, order)))
    names = [name for _, name, _ in order]
    assert "redis-sfs-1" in names, f"no event of redis-sfs-1 within 180 s: {order}"
    before = order[:names.index("redis-sfs-1")]
    # OrderedReady: redis-sfs-1 is created only once redis-sfs-0 is Ready.
    assert ("MODIFIED", "redis-sfs-0", True) in before, (
        f"redis-sfs-1 appeared before redis-sfs-0 was Ready: {order}")
    pods = ready_pods(core_v1, namespace)
    kubectl("get", "pods", "-n", namespace, "-o", "wide")
    assert sorted(pods) == ["redis-sfs-0", "redis-sfs-1"]
    first, second = pods["redis-sfs-0"], pods["redis-sfs-1"]
    gap = second.metadata.creation_timestamp.timestamp() - ready_since(first)
    evidence.measure("redis-sfs-1 created after redis-sfs-0 became Ready", gap)


@pytest.mark.claim("sfs-hostname-ordinal")
def test_each_pod_hostname_carries_its_ordinal(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str
):
    create(kubectl, namespace, "service.yaml", "statefulset.yaml")
    for name in ready_pods(core_v1, namespace):
        assert kubectl("exec", "-n", namespace, name, "--", "hostname").strip() == name


@pytest.mark.claim("sfs-script-master-replica")
def test_the_script_makes_ordinal_0_the_master_and_1_a_replica(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str
):
    create(kubectl, namespace, "service.yaml", "statefulset.yaml")
    ready_pods(core_v1, namespace)
    assert replication(kubectl, namespace, "redis-sfs-0")["role"] == "master"
    replica = replication(kubectl, namespace, "redis-sfs-1")
    assert replica["role"] == "slave"
    assert replica["master_host"] == "redis-sfs-0.redis-sfs"


@pytest.mark.claim("sfs-yaml-as-printed")
def test_the_statefulset_yaml_as_printed_is_rejected(
    core_v1: client.CoreV1Api, apps_v1: client.AppsV1Api, kubectl: Kubectl, namespace: str
):
    proc = kubectl.run("create", "-n", namespace, "-f",
                       manifest("redis-sfs/statefulset-as-printed.yaml"), check=False)
    assert proc.returncode != 0
    assert "error converting YAML to JSON" in proc.stderr
    assert apps_v1.list_namespaced_stateful_set(namespace).items == []


@pytest.mark.claim("sfs-replica-needs-service")
def test_without_the_headless_service_the_replica_cannot_reach_the_master(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    create(kubectl, namespace, "statefulset.yaml")
    ready_pods(core_v1, namespace)

    def logged() -> tuple[bool, str]:
        log = kubectl("logs", "-n", namespace, "redis-sfs-1")
        return "Unable to connect to MASTER" in log, log[-400:]

    wait_until("redis-sfs-1 to log that it cannot reach its master", logged,
               timeout=TIMEOUTS.api_change)
    record_pod(core_v1, evidence, namespace, "redis-sfs-1")
    assert replication(kubectl, namespace, "redis-sfs-1")["master_link_status"] == "down"


@pytest.mark.claim("svc-headless-no-cluster-ip", "svc-headless-pod-dns")
def test_the_headless_service_has_no_cluster_ip_and_dns_names_each_pod(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str
):
    create(kubectl, namespace, "service.yaml", "statefulset.yaml")
    pods = ready_pods(core_v1, namespace)
    listing = kubectl("get", "service", "redis-sfs", "-n", namespace)
    assert listing.splitlines()[1].split()[1:3] == ["ClusterIP", "None"]
    assert core_v1.read_namespaced_service("redis-sfs", namespace).spec.cluster_ip == "None"

    def lookup(name: str) -> set[str]:
        out = kubectl("exec", "-n", namespace, "redis-sfs-1", "--", "getent", "ahostsv4", name)
        return {line.split()[0] for line in out.splitlines()}

    domain = f"redis-sfs.{namespace}.svc.cluster.local"
    for name, pod in pods.items():
        assert lookup(f"{name}.{domain}") == {pod.status.pod_ip}
    assert lookup(domain) == {p.status.pod_ip for p in pods.values()}


@pytest.mark.claim("svc-vip-spreads")
def test_an_ordinary_service_gives_a_virtual_ip_that_spreads_connections(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    kubectl("create", "-n", namespace, "-f", manifest("redis/deployment-with-service.yaml"))
    backends = wait_ready_pods(core_v1, namespace, "app=redis", 3)
    kubectl("run", "client", "--image=redis", "-n", namespace, "--command", "--", "sleep", "3600")
    wait_ready_pods(core_v1, namespace, "run=client", 1)
    vip = core_v1.read_namespaced_service("redis-vip", namespace).spec.cluster_ip
    assert vip not in ("None", "") and vip not in {p.status.pod_ip for p in backends}

    # Each connection to the VIP reaches one backend; its run_id tells which.
    script = "for i in $(seq 30); do redis-cli -h redis-vip INFO server | grep run_id; done"
    out = kubectl("exec", "-n", namespace, "client", "--", "sh", "-c", script)
    served = {line.strip() for line in out.splitlines()}
    evidence.add("distinct backends over 30 connections", str(len(served)))
    assert len(served) >= 2, "all 30 connections went to the same pod"


@pytest.mark.claim("sfs-replica-syncs")
def test_with_the_service_the_replica_syncs_and_refuses_writes(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    create(kubectl, namespace, "service.yaml", "statefulset.yaml")
    ready_pods(core_v1, namespace)
    started = time.monotonic()
    wait_link_up(kubectl, namespace)
    evidence.measure("replica link up after both pods Ready", time.monotonic() - started)
    assert "MASTER <-> REPLICA sync: Finished with success" in kubectl(
        "logs", "-n", namespace, "redis-sfs-1")

    assert redis_cli(kubectl, namespace, "redis-sfs-0", "SET", "tutorial", "synced") == "OK"

    def replicated() -> tuple[bool, str]:
        value = redis_cli(kubectl, namespace, "redis-sfs-1", "GET", "tutorial")
        return value == "synced", value

    wait_until("the key written on the master to be on the replica", replicated,
               timeout=TIMEOUTS.short)
    refused = redis_cli(kubectl, namespace, "redis-sfs-1", "SET", "tutorial", "other")
    assert refused.startswith("READONLY")


@pytest.mark.claim("sfs-deleted-pod-same-name", "sfs-pod-keeps-storage")
def test_a_deleted_pod_returns_with_its_name_volume_and_data(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    create(kubectl, namespace, "service.yaml", "statefulset-with-storage.yaml")
    before = ready_pods(core_v1, namespace)["redis-sfs-0"]
    wait_link_up(kubectl, namespace)
    claim = core_v1.read_namespaced_persistent_volume_claim("data-redis-sfs-0", namespace)
    assert claim.status.phase == "Bound"
    assert redis_cli(kubectl, namespace, "redis-sfs-0", "SET", "kept", "on-disk") == "OK"

    started = time.monotonic()
    kubectl("delete", "pod", "redis-sfs-0", "-n", namespace)
    pods = wait_ready_pods(core_v1, namespace, SELECTOR, 2, timeout=TIMEOUTS.slow_start)
    after = next(p for p in pods if p.metadata.name == "redis-sfs-0")
    evidence.measure("redis-sfs-0 Ready again after delete", time.monotonic() - started)
    kubectl("get", "pods,pvc", "-n", namespace, "-o", "wide")

    assert after.metadata.uid != before.metadata.uid  # a new pod, under the same name
    volumes = {v.name: v.persistent_volume_claim.claim_name
               for v in after.spec.volumes if v.persistent_volume_claim}
    assert volumes == {"data": "data-redis-sfs-0"}
    again = core_v1.read_namespaced_persistent_volume_claim("data-redis-sfs-0", namespace)
    assert again.spec.volume_name == claim.spec.volume_name  # the same volume
    assert redis_cli(kubectl, namespace, "redis-sfs-0", "GET", "kept") == "on-disk"
    started = time.monotonic()
    wait_link_up(kubectl, namespace)
    evidence.measure("replication resumed after the master came back", time.monotonic() - started)
    # local-path volumes live on one node's disk: the PV pins the pod to that node.
    volume = core_v1.read_persistent_volume(claim.spec.volume_name)
    pinned_to = volume.spec.node_affinity.required.node_selector_terms[0].match_expressions[0]
    evidence.add(f"node affinity of {volume.metadata.name}", str(pinned_to))
    assert after.spec.node_name == before.spec.node_name
    assert pinned_to.values == [before.spec.node_name]

    # The replica too comes back under its name and re-links to the master by itself.
    replica = next(p for p in pods if p.metadata.name == "redis-sfs-1")
    kubectl("delete", "pod", "redis-sfs-1", "-n", namespace)

    def replaced() -> tuple[bool, str]:
        pod = core_v1.read_namespaced_pod("redis-sfs-1", namespace)
        new = pod.metadata.uid != replica.metadata.uid
        return new and is_running_and_ready(pod), f"new={new} phase={pod.status.phase}"

    wait_until("a new redis-sfs-1 to be Ready", replaced, timeout=TIMEOUTS.slow_start)
    wait_link_up(kubectl, namespace)
    assert redis_cli(kubectl, namespace, "redis-sfs-1", "GET", "kept") == "on-disk"


def replicating_master(
    cluster: Cluster, core: client.CoreV1Api, kubectl: Kubectl, namespace: str
) -> client.V1Pod:
    """The tutorial's StatefulSet and Service with the replica linked; its master pod,
    which the failover tests freeze from inside its kind node."""
    if cluster.kind_name is None:
        pytest.skip("needs a kind cluster: the master is frozen from inside its node")
    create(kubectl, namespace, "service.yaml", "statefulset.yaml")
    master = ready_pods(core, namespace)["redis-sfs-0"]
    wait_link_up(kubectl, namespace)
    return master


@pytest.mark.claim("sfs-no-failover")
def test_without_sentinel_the_replica_stays_a_replica_when_the_master_is_down(
    cluster: Cluster, core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str,
    evidence: Evidence,
):
    master = replicating_master(cluster, core_v1, kubectl, namespace)
    # Let the replica notice a silent master within seconds instead of the default 60.
    redis_cli(kubectl, namespace, "redis-sfs-1", "CONFIG", "SET", "repl-timeout", "5")

    def link_down() -> tuple[bool, dict[str, str]]:
        info = replication(kubectl, namespace, "redis-sfs-1")
        if info.get("role") == "master":
            raise Unrecoverable(f"redis-sfs-1 was promoted to master: {info}")
        return info.get("master_link_status") == "down", info

    def still_a_replica() -> tuple[bool, dict[str, str]]:
        info = replication(kubectl, namespace, "redis-sfs-1")
        return info.get("role") == "slave", info

    with frozen(master):  # the master is down: alive but silent
        info = wait_until("the replica to see its master down", link_down,
                          timeout=TIMEOUTS.api_change)
        evidence.add("INFO replication on redis-sfs-1 with the master down", str(info))
        # Sentinel's default down-after is 30 s; nothing promotes it in twice that.
        started = time.monotonic()
        holds_for("redis-sfs-1 to stay a replica with its master down", still_a_replica,
                  duration=60, interval=5)
        evidence.measure("master down, replica polled, still a replica",
                         time.monotonic() - started)
        refused = redis_cli(kubectl, namespace, "redis-sfs-1", "SET", "k", "v")
        assert refused.startswith("READONLY")
    # Nothing replaced or restarted the master either: the same pod, the same container.
    after = core_v1.read_namespaced_pod("redis-sfs-0", namespace)
    evidence.add("redis-sfs-0 before and after (uid, restarts)", str([
        (master.metadata.uid, master.status.container_statuses[0].restart_count),
        (after.metadata.uid, after.status.container_statuses[0].restart_count)]))
    assert after.metadata.uid == master.metadata.uid
    assert (after.status.container_statuses[0].restart_count
            == master.status.container_statuses[0].restart_count)


def sentinels_ready(kubectl: Kubectl, namespace: str) -> tuple[bool, list[str]]:
    """Every Sentinel knows the replica and the two other Sentinels."""
    seen = []
    for index in range(3):
        pod = f"redis-sentinel-{index}"
        replicas = kubectl("exec", "-n", namespace, pod, "--", "redis-cli", "-p", "26379",
                           "SENTINEL", "replicas", "mymaster")
        sentinels = kubectl("exec", "-n", namespace, pod, "--", "redis-cli", "-p", "26379",
                            "SENTINEL", "sentinels", "mymaster")
        seen.append(f"{pod}: replicas={replicas.count('runid')} "
                    f"sentinels={sentinels.count('runid')}")
        if replicas.count("runid") < 1 or sentinels.count("runid") < 2:
            return False, seen
    return True, seen


@pytest.mark.claim("sentinel-failover")
def test_with_sentinel_the_masters_loss_promotes_the_replica(
    cluster: Cluster, core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str,
    evidence: Evidence,
):
    master = replicating_master(cluster, core_v1, kubectl, namespace)
    kubectl("create", "-n", namespace, "-f", manifest("redis-sentinel/sentinel.yaml"))
    wait_ready_pods(core_v1, namespace, "app=redis-sentinel", 3)
    wait_until("the Sentinels to know the replica and each other",
               lambda: sentinels_ready(kubectl, namespace), timeout=TIMEOUTS.sync)

    def promoted() -> tuple[bool, dict[str, str]]:
        info = replication(kubectl, namespace, "redis-sfs-1")
        return info.get("role") == "master", info

    with frozen(master):
        started = time.monotonic()
        info = wait_until("Sentinel to promote redis-sfs-1", promoted, timeout=TIMEOUTS.pod_change)
        evidence.measure("replica promoted after the master went silent",
                         time.monotonic() - started)
        evidence.add("INFO replication on redis-sfs-1 after the failover", str(info))
        kubectl("logs", "-n", namespace, "redis-sentinel-0")
        assert redis_cli(kubectl, namespace, "redis-sfs-1", "SET", "after", "failover") == "OK"
