"""Section V, "deploy master-slave version": a Redis StatefulSet, its headless Service,
and master-replica replication."""

import textwrap
import time

import pytest
from kubernetes import client

from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.deployments import wait_ready_pods
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.nodes import frozen
from tutorial_conformance.toolkit.pods import is_running_and_ready, record_pod
from tutorial_conformance.toolkit.printed import AGE, COMMENT
from tutorial_conformance.toolkit.redis import (
    SELECTOR,
    create,
    expect_role,
    explained,
    ready_pods,
    redis_cli,
    replication,
    wait_link_up,
)
from tutorial_conformance.toolkit.timeouts import INTERVALS, TIMEOUTS
from tutorial_conformance.toolkit.tutorial import printed
from tutorial_conformance.toolkit.waiting import (
    Unrecoverable,
    holds_for,
    wait_until,
    watch_until,
)

# Sentinel's default down-after is 30 s: nothing may promote the replica in twice that.
NO_PROMOTION_FOR = 60


def ready_since(pod: client.V1Pod) -> float:
    (ready,) = [c for c in pod.status.conditions if c.type == "Ready"]
    return ready.last_transition_time.timestamp()


@pytest.mark.claim("sfs-ordinal-names", "sfs-ordered-creation")
def test_pods_are_created_in_order_with_ordinal_names(t: TestContext):
    since = t.core.list_namespaced_pod(t.namespace).metadata.resource_version
    create(t, "service.yaml", "statefulset.yaml")
    # The pods' events in the apiserver's own order (resourceVersion), from before the
    # StatefulSet: no timestamp ties at one-second resolution to hide a wrong order.
    with t.step("watch the pods appear"):
        events = watch_until("a pod named redis-sfs-1", t.core.list_namespaced_pod,
                             t.namespace, since,
                             lambda e: e["object"].metadata.name == "redis-sfs-1",
                             timeout=TIMEOUTS.watch,
                             diagnose=lambda: t.diagnose.pods(t.namespace, expected=2))
        order = [(e["type"], e["object"].metadata.name, is_running_and_ready(e["object"]))
                 for e in events]
        t.evidence.add("pod events in watch order (type, pod, Ready)", "\n".join(map(str, order)))
    names = [name for _, name, _ in order]
    before = order[:names.index("redis-sfs-1")]
    # OrderedReady: redis-sfs-1 is created only once redis-sfs-0 is Ready.
    assert ("MODIFIED", "redis-sfs-0", True) in before, (
        f"redis-sfs-1 appeared before redis-sfs-0 was Ready: {order}")
    pods = ready_pods(t)
    with t.step("kubectl get pods"):
        listing = t.kubectl("get", "pods", "-n", t.namespace)
    assert sorted(pods) == ["redis-sfs-0", "redis-sfs-1"]
    earlier = "section III's pods: the test's own namespace has the StatefulSet's only"
    block = t.compare(167, 171, listing, AGE, COMMENT, why={168: earlier, 169: earlier})
    assert [(d.printed_line, d.today) for d in block.differences] == [
        (168, None), (169, None)], block.render()
    first, second = pods["redis-sfs-0"], pods["redis-sfs-1"]
    gap = second.metadata.creation_timestamp.timestamp() - ready_since(first)
    t.evidence.measure("redis-sfs-1 created after redis-sfs-0 became Ready", gap)


@pytest.mark.claim("sfs-hostname-ordinal")
def test_each_pod_hostname_carries_its_ordinal(t: TestContext):
    create(t, "service.yaml", "statefulset.yaml")
    pods = ready_pods(t)
    with t.step("kubectl exec POD -- hostname"):
        for name in pods:
            assert t.exec(name, "hostname").strip() == name


@pytest.mark.claim("sfs-script-master-replica")
def test_the_script_makes_ordinal_0_the_master_and_1_a_replica(t: TestContext):
    create(t, "service.yaml", "statefulset.yaml")
    ready_pods(t)
    script = textwrap.dedent(printed(155, 160)).replace("/tmp/redis.conf", "/tmp/as-printed.conf")
    with t.step("bash -c SCRIPT (as printed), in redis-sfs-0", script=script):
        as_printed = t.kubectl.run("exec", "-n", t.namespace, "redis-sfs-0", "--", "bash", "-n",
                                   "-c", script, check=False)
    assert as_printed.returncode != 0, "bash accepts the script as printed (an if with no fi)"
    assert "unexpected end of file" in as_printed.stderr, as_printed.stderr
    # With only the lost `fi` restored, ordinal 0 writes the replica's line too.
    only_fi = script.replace("redis-server /tmp/as-printed.conf", "fi; cat /tmp/as-printed.conf")
    with t.step("bash -c SCRIPT (as printed, fi restored), in redis-sfs-0"):
        written = t.exec("redis-sfs-0", "bash", "-c", only_fi)
    assert "slaveof redis-sfs-0.redis-sfs 6379" in written, written
    with t.step("redis-cli INFO replication on each pod"):
        expect_role(t, "redis-sfs-0", "master")
        replica = expect_role(t, "redis-sfs-1", "slave")
    assert replica["master_host"] == "redis-sfs-0.redis-sfs", explained(t, "redis-sfs-1", replica)


@pytest.mark.claim("sfs-yaml-as-printed")
def test_the_statefulset_yaml_as_printed_is_rejected(t: TestContext):
    proc = t.create_as_printed("redis-sfs/statefulset-as-printed.yaml", 143, 160, "server.yaml")
    assert proc.returncode != 0, "kubectl created the server.yaml as printed"
    assert "error converting YAML to JSON" in proc.stderr
    assert t.apps.list_namespaced_stateful_set(t.namespace).items == []
    # The suite's reconstruction, beside the printed lines (the tutorial as it runs today).
    t.compare_reconstruction(143, 160, "redis-sfs/statefulset.yaml", "the keys and the else/fi "
                             "the print lost (manifests/redis-sfs/statefulset.yaml)")


@pytest.mark.claim("sfs-replica-needs-service")
def test_without_the_headless_service_the_replica_cannot_reach_the_master(t: TestContext):
    create(t, "statefulset.yaml")
    ready_pods(t)

    def logged() -> tuple[bool, str]:
        log = t.kubectl("logs", "-n", t.namespace, "redis-sfs-1")
        return "Unable to connect to MASTER" in log, log[-400:]

    with t.step("kubectl logs redis-sfs-1"):
        wait_until("redis-sfs-1 to log that it cannot reach its master", logged,
                   timeout=TIMEOUTS.api_change,
                   diagnose=lambda: [explained(t, "redis-sfs-1", replication(t, "redis-sfs-1"))])
        record_pod(t.core, t.evidence, t.namespace, "redis-sfs-1")
    info = replication(t, "redis-sfs-1")
    assert info["master_link_status"] == "down", explained(t, "redis-sfs-1", info)


@pytest.mark.claim("sfs-replica-syncs")
def test_with_the_service_the_replica_syncs_and_refuses_writes(t: TestContext):
    create(t, "service.yaml", "statefulset.yaml")
    ready_pods(t)
    started = time.monotonic()
    with t.step("the replica syncs with its master"):
        wait_link_up(t)
        t.evidence.measure("replica link up after both pods Ready", time.monotonic() - started)
        assert "MASTER <-> REPLICA sync: Finished with success" in t.kubectl(
            "logs", "-n", t.namespace, "redis-sfs-1")

    with t.step("SET tutorial synced on the master"):
        assert redis_cli(t, "redis-sfs-0", "SET", "tutorial", "synced") == "OK"

    def replicated() -> tuple[bool, str]:
        value = redis_cli(t, "redis-sfs-1", "GET", "tutorial")
        return value == "synced", value or "an empty value"

    with t.step("GET tutorial on the replica"):
        wait_until("the key written on the master to be on the replica", replicated,
                   timeout=TIMEOUTS.short,
                   diagnose=lambda: [explained(t, "redis-sfs-1", replication(t, "redis-sfs-1"))])
    with t.step("SET on the replica"):
        refused = redis_cli(t, "redis-sfs-1", "SET", "tutorial", "other")
    assert refused.startswith("READONLY"), f"the replica answered {refused!r} to a write"


@pytest.mark.claim("sfs-deleted-pod-same-name", "sfs-pod-keeps-storage")
def test_a_deleted_pod_returns_with_its_name_volume_and_data(t: TestContext):
    create(t, "service.yaml", "statefulset-with-storage.yaml")
    before = ready_pods(t)["redis-sfs-0"]
    wait_link_up(t)
    claim = t.core.read_namespaced_persistent_volume_claim("data-redis-sfs-0", t.namespace)
    assert claim.status.phase == "Bound"
    with t.step("SET kept on-disk on the master"):
        assert redis_cli(t, "redis-sfs-0", "SET", "kept", "on-disk") == "OK"

    started = time.monotonic()
    with t.step("kubectl delete pod redis-sfs-0"):
        t.kubectl("delete", "pod", "redis-sfs-0", "-n", t.namespace)
    with t.step("redis-sfs-0 comes back"):
        pods = wait_ready_pods(t.core, t.namespace, SELECTOR, 2, timeout=TIMEOUTS.slow_start)
        after = next(p for p in pods if p.metadata.name == "redis-sfs-0")
        t.evidence.measure("redis-sfs-0 Ready again after delete", time.monotonic() - started)
        t.kubectl("get", "pods,pvc", "-n", t.namespace, "-o", "wide")

    assert after.metadata.uid != before.metadata.uid  # a new pod, under the same name
    volumes = {v.name: v.persistent_volume_claim.claim_name
               for v in after.spec.volumes if v.persistent_volume_claim}
    assert volumes == {"data": "data-redis-sfs-0"}
    again = t.core.read_namespaced_persistent_volume_claim("data-redis-sfs-0", t.namespace)
    assert again.spec.volume_name == claim.spec.volume_name, (
        f"data-redis-sfs-0 is bound to {again.spec.volume_name}, not {claim.spec.volume_name}")
    with t.step("GET kept on the new redis-sfs-0"):
        assert redis_cli(t, "redis-sfs-0", "GET", "kept") == "on-disk"
    started = time.monotonic()
    wait_link_up(t)
    t.evidence.measure("replication resumed after the master came back",
                       time.monotonic() - started)
    # local-path volumes live on one node's disk: the PV pins the pod to that node.
    volume = t.core.read_persistent_volume(claim.spec.volume_name)
    pinned_to = volume.spec.node_affinity.required.node_selector_terms[0].match_expressions[0]
    t.evidence.add(f"node affinity of {volume.metadata.name}", str(pinned_to))
    assert after.spec.node_name == before.spec.node_name
    assert pinned_to.values == [before.spec.node_name]

    # The replica too comes back under its name and re-links to the master by itself.
    replica = next(p for p in pods if p.metadata.name == "redis-sfs-1")
    with t.step("kubectl delete pod redis-sfs-1"):
        t.kubectl("delete", "pod", "redis-sfs-1", "-n", t.namespace)

    def replaced() -> tuple[bool, str]:
        pod = t.core.read_namespaced_pod("redis-sfs-1", t.namespace)
        new = pod.metadata.uid != replica.metadata.uid
        return new and is_running_and_ready(pod), f"new={new} phase={pod.status.phase}"

    with t.step("redis-sfs-1 comes back and syncs"):
        wait_until("a new redis-sfs-1 to be Ready", replaced, timeout=TIMEOUTS.slow_start,
                   diagnose=lambda: t.diagnose.pods(t.namespace, SELECTOR))
        wait_link_up(t)
        assert redis_cli(t, "redis-sfs-1", "GET", "kept") == "on-disk"


def replicating_master(t: TestContext) -> client.V1Pod:
    """The tutorial's StatefulSet and Service with the replica linked; its master pod,
    which the failover tests freeze from inside its kind node."""
    if t.cluster.kind_name is None:
        pytest.skip("needs a kind cluster: the master is frozen from inside its node")
    create(t, "service.yaml", "statefulset.yaml")
    master = ready_pods(t)["redis-sfs-0"]
    wait_link_up(t)
    return master


@pytest.mark.claim("sfs-no-failover")
def test_without_sentinel_the_replica_stays_a_replica_when_the_master_is_down(t: TestContext):
    master = replicating_master(t)
    with t.step("CONFIG SET repl-timeout 5 on the replica"):
        # Let the replica notice a silent master within seconds instead of the default 60.
        redis_cli(t, "redis-sfs-1", "CONFIG", "SET", "repl-timeout", "5")

    def link_down() -> tuple[bool, dict[str, str]]:
        info = replication(t, "redis-sfs-1")
        if info.get("role") == "master":
            raise Unrecoverable("redis-sfs-1 was promoted to master: "
                                + explained(t, "redis-sfs-1", info))
        return info.get("master_link_status") == "down", info

    def still_a_replica() -> tuple[bool, dict[str, str]]:
        info = replication(t, "redis-sfs-1")
        return info.get("role") == "slave", info

    with t.step("the master goes silent (SIGSTOP)"), frozen(master):
        info = wait_until("the replica to see its master down", link_down,
                          timeout=TIMEOUTS.api_change)
        t.evidence.add("INFO replication on redis-sfs-1 with the master down", str(info))
        started = time.monotonic()
        holds_for("redis-sfs-1 to stay a replica with its master down", still_a_replica,
                  duration=NO_PROMOTION_FOR, interval=INTERVALS.hold,
                  diagnose=lambda: [explained(t, "redis-sfs-1", replication(t, "redis-sfs-1"))])
        t.evidence.measure("master down, replica polled, still a replica",
                           time.monotonic() - started)
        refused = redis_cli(t, "redis-sfs-1", "SET", "k", "v")
        assert refused.startswith("READONLY"), f"the replica answered {refused!r} to a write"
    # Nothing replaced or restarted the master either: the same pod, the same container.
    after = t.core.read_namespaced_pod("redis-sfs-0", t.namespace)
    t.evidence.add("redis-sfs-0 before and after (uid, restarts)", str([
        (master.metadata.uid, master.status.container_statuses[0].restart_count),
        (after.metadata.uid, after.status.container_statuses[0].restart_count)]))
    assert after.metadata.uid == master.metadata.uid
    assert (after.status.container_statuses[0].restart_count
            == master.status.container_statuses[0].restart_count)


def sentinels_ready(t: TestContext) -> tuple[bool, list[str]]:
    """Every Sentinel knows the replica and the two other Sentinels."""
    seen = []
    for index in range(3):
        pod = f"redis-sentinel-{index}"
        replicas = t.exec(pod, "redis-cli", "-p", "26379", "SENTINEL", "replicas", "mymaster")
        sentinels = t.exec(pod, "redis-cli", "-p", "26379", "SENTINEL", "sentinels", "mymaster")
        seen.append(f"{pod}: replicas={replicas.count('runid')} "
                    f"sentinels={sentinels.count('runid')}")
        if replicas.count("runid") < 1 or sentinels.count("runid") < 2:
            return False, seen
    return True, seen


@pytest.mark.claim("sentinel-failover")
def test_with_sentinel_the_masters_loss_promotes_the_replica(t: TestContext):
    master = replicating_master(t)
    with t.step("kubectl create -f sentinel.yaml"):
        t.kubectl("create", "-n", t.namespace, "-f", manifest("redis-sentinel/sentinel.yaml"))
        wait_ready_pods(t.core, t.namespace, "app=redis-sentinel", 3)
    with t.step("the Sentinels find the replica and each other"):
        wait_until("the Sentinels to know the replica and each other",
                   lambda: sentinels_ready(t), timeout=TIMEOUTS.sync,
                   diagnose=lambda: t.diagnose.pods(t.namespace, "app=redis-sentinel"))

    def promoted() -> tuple[bool, dict[str, str]]:
        info = replication(t, "redis-sfs-1")
        return info.get("role") == "master", info

    with t.step("the master goes silent (SIGSTOP)"), frozen(master):
        started = time.monotonic()
        info = wait_until("Sentinel to promote redis-sfs-1", promoted,
                          timeout=TIMEOUTS.pod_change,
                          diagnose=lambda: [*sentinel_log(t),
                                            explained(t, "redis-sfs-1",
                                                      replication(t, "redis-sfs-1"))])
        t.evidence.measure("replica promoted after the master went silent",
                           time.monotonic() - started)
        t.evidence.add("INFO replication on redis-sfs-1 after the failover", str(info))
        t.kubectl("logs", "-n", t.namespace, "redis-sentinel-0")
        assert redis_cli(t, "redis-sfs-1", "SET", "after", "failover") == "OK"


def sentinel_log(t: TestContext) -> list[str]:
    """What a Sentinel says of the master: its quorum among how many Sentinels, and its
    newest +sdown, +odown or +failover line."""
    master = t.exec("redis-sentinel-0", "redis-cli", "-p", "26379", "SENTINEL", "master",
                    "mymaster", check=False).split()
    quorum = master[master.index("quorum") + 1] if "quorum" in master else "?"
    others = master[master.index("num-other-sentinels") + 1] \
        if "num-other-sentinels" in master else "?"
    log = t.kubectl("logs", "-n", t.namespace, "redis-sentinel-0")
    said = [line for line in log.splitlines()
            if any(w in line for w in ("sdown", "odown", "failover", "vote"))]
    return [f"redis-sentinel-0: quorum {quorum} with {others} other Sentinel(s); "
            + (said[-1].strip() if said else "no +sdown/+odown/+failover yet")]
