"""Section III, "starting from demand": Redis as a Pod, then a Deployment, then YAML."""

import re
import time

import pytest
from kubernetes.client.exceptions import ApiException

from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.deployments import wait_ready_pods
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.pods import record_pod, wait_running_and_ready
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.tutorial import printed
from tutorial_conformance.toolkit.waiting import holds_for, wait_until

NO_CONTROLLER_FOR = 20  # seconds: far past when a controller would have recreated a pod


def run_redis(t: TestContext) -> str:
    with t.step("kubectl run redis --image=redis"):
        out = t.kubectl("run", "redis", "--image=redis", "-n", t.namespace).strip()
        t.evidence.add("the tutorial printed (lines 56-57)", printed(56, 57))
        return out


@pytest.mark.claim("redis-kubectl-run")
def test_kubectl_run_redis_creates_a_running_pod(t: TestContext):
    assert run_redis(t) == "pod/redis created"
    with t.step("the pod pulls redis and runs"):
        try:
            pod = wait_running_and_ready(t.core, t.namespace, "redis")
        finally:
            record_pod(t.core, t.evidence, t.namespace, "redis")
    with t.step("kubectl get pods"):
        listing = t.kubectl("get", "pods", "-n", t.namespace)
    assert listing.splitlines()[1].split()[:3] == ["redis", "1/1", "Running"]
    # The implicit :latest tag means pull policy Always: kubelet pulled the image itself.
    assert pod.spec.containers[0].image_pull_policy == "Always"
    reasons = {e.reason for e in t.core.list_namespaced_event(
        t.namespace, field_selector="involvedObject.name=redis").items}
    assert {"Scheduled", "Pulling", "Pulled", "Created", "Started"} <= reasons


@pytest.mark.claim("redis-exec-ping")
def test_redis_cli_ping_answers_pong(t: TestContext):
    run_redis(t)
    wait_running_and_ready(t.core, t.namespace, "redis")
    with t.step("kubectl exec -it redis -- redis-cli ping"):
        assert t.exec("redis", "redis-cli", "ping").strip() == "PONG"


@pytest.mark.claim("pod-shares-network")
def test_pod_containers_share_the_node_and_the_network_namespace(t: TestContext):
    with t.step("kubectl create -f pod-with-log-collector.yaml"):
        t.kubectl("create", "-n", t.namespace, "-f",
                  manifest("redis/pod-with-log-collector.yaml"))
        pod = wait_running_and_ready(t.core, t.namespace, "redis-with-collector")
    assert pod.spec.node_name and pod.status.pod_ip  # one node, one IP for both containers
    # Redis listens in the redis container; the collector reaches it on localhost.
    with t.step("the collector pings Redis on localhost"):
        answer = t.exec("redis-with-collector", "redis-cli", "-h", "127.0.0.1", "ping",
                        container="log-collector")
    assert answer.strip() == "PONG"


@pytest.mark.claim("pod-shares-volume")
def test_a_log_collector_reads_the_redis_log_through_a_shared_volume(t: TestContext):
    with t.step("kubectl create -f pod-with-log-collector.yaml"):
        t.kubectl("create", "-n", t.namespace, "-f",
                  manifest("redis/pod-with-log-collector.yaml"))
        wait_running_and_ready(t.core, t.namespace, "redis-with-collector")

    def collected() -> tuple[bool, str]:
        log = t.exec("redis-with-collector", "cat", "/logs/redis.log", container="log-collector",
                     check=False)
        return "Ready to accept connections" in log, log[-300:] or "an empty /logs/redis.log"

    with t.step("the collector reads /logs/redis.log"):
        wait_until("the collector to read Redis's start-up line", collected,
                   timeout=TIMEOUTS.api_change)
        # What the collector tails is what it reads: its own log carries the Redis log too.
        assert "Ready to accept connections" in t.kubectl(
            "logs", "-n", t.namespace, "redis-with-collector", "-c", "log-collector")


@pytest.mark.claim("pod-bare-not-replaced")
def test_a_deleted_bare_pod_is_gone(t: TestContext):
    run_redis(t)
    pod = wait_running_and_ready(t.core, t.namespace, "redis")
    assert not pod.metadata.owner_references, (
        f"a bare pod has no controller to recreate it, but redis is owned by "
        f"{[(o.kind, o.name) for o in pod.metadata.owner_references]}")
    with t.step("kubectl delete pod redis"):
        t.kubectl("delete", "pod", "redis", "-n", t.namespace, "--wait=true")
    with pytest.raises(ApiException) as gone:
        t.core.read_namespaced_pod("redis", t.namespace)
    assert gone.value.status == 404

    def no_pod() -> tuple[bool, list[str]]:
        pods = [p.metadata.name for p in t.core.list_namespaced_pod(t.namespace).items]
        return not pods, pods

    with t.step("no pod comes back"):
        holds_for(f"no pod in {t.namespace} after the delete", no_pod,
                  duration=NO_CONTROLLER_FOR, diagnose=lambda: t.diagnose.pods(t.namespace))


@pytest.mark.claim("deployment-replaces-deleted-pod", "deployment-uses-replicaset")
def test_a_deleted_deployment_pod_is_replaced_under_a_new_name(t: TestContext):
    with t.step("kubectl create deployment redis-deployment --image=redis"):
        out = t.kubectl("create", "deployment", "redis-deployment", "--image=redis", "-n",
                        t.namespace)
    assert out.strip() == "deployment.apps/redis-deployment created"
    selector = "app=redis-deployment"
    (first,) = wait_ready_pods(t.core, t.namespace, selector, 1)
    template_hash = first.metadata.labels["pod-template-hash"]
    assert first.metadata.name.startswith(f"redis-deployment-{template_hash}-")

    started = time.monotonic()
    with t.step("kubectl delete pod redis-deployment-HASH-SUFFIX"):
        t.kubectl("delete", "pod", first.metadata.name, "-n", t.namespace, "--wait=false")
    with t.step("a new pod replaces it"):
        (second,) = wait_ready_pods(t.core, t.namespace, selector, 1,
                                    exclude=frozenset({first.metadata.name}))
        t.evidence.measure("replacement pod Ready after delete", time.monotonic() - started)
        t.kubectl("get", "pods", "-n", t.namespace, "-o", "wide")

    assert second.metadata.name != first.metadata.name
    assert second.metadata.labels["pod-template-hash"] == template_hash
    # Owner chain: Deployment -> ReplicaSet -> Pod.
    (rs_ref,) = second.metadata.owner_references
    assert rs_ref.kind == "ReplicaSet" and rs_ref.controller
    rs = t.apps.read_namespaced_replica_set(rs_ref.name, t.namespace)
    (deploy_ref,) = rs.metadata.owner_references
    assert (deploy_ref.kind, deploy_ref.name) == ("Deployment", "redis-deployment")
    assert rs.metadata.name == f"redis-deployment-{template_hash}"
    assert rs.spec.replicas == 1 and rs.status.ready_replicas == 1


@pytest.mark.claim("yaml-create-equals-run")
def test_kubectl_create_from_yaml_makes_the_same_pod_as_kubectl_run(t: TestContext):
    run_redis(t)
    ran = wait_running_and_ready(t.core, t.namespace, "redis")
    t.kubectl("delete", "pod", "redis", "-n", t.namespace, "--wait=true")

    with t.step("kubectl create -f pod.yaml"):
        out = t.kubectl("create", "-f", manifest("redis/pod.yaml"), "-n", t.namespace)
    assert out.strip() == "pod/redis created"
    created = wait_running_and_ready(t.core, t.namespace, "redis")
    same = [(c.name, c.image) for c in created.spec.containers]
    assert same == [(c.name, c.image) for c in ran.spec.containers] == [("redis", "redis")]
    assert t.kubectl("get", "pods", "-n", t.namespace).splitlines()[1].split()[:3] == [
        "redis", "1/1", "Running"]


@pytest.mark.claim("yaml-as-printed")
def test_the_pod_yaml_as_printed_is_rejected(t: TestContext):
    with t.step("kubectl create -f pod.yaml (as printed)"):
        proc = t.kubectl.run("create", "-f", manifest("redis/pod-as-printed.yaml"), "-n",
                             t.namespace, check=False)
    assert proc.returncode != 0, "kubectl created the pod.yaml as printed"
    assert "error converting YAML to JSON" in proc.stderr
    assert t.core.list_namespaced_pod(t.namespace).items == []


@pytest.mark.claim("redis-get-pods-output", "redis-delete-two-pods-output")
def test_get_pods_and_delete_pod_print_as_the_tutorial_shows(t: TestContext):
    run_redis(t)
    with t.step("kubectl create deployment redis-deployment --image=redis"):
        t.kubectl("create", "deployment", "redis-deployment", "--image=redis", "-n",
                  t.namespace)
        wait_running_and_ready(t.core, t.namespace, "redis")
        (deployed,) = wait_ready_pods(t.core, t.namespace, "app=redis-deployment", 1)
    hash_ = deployed.metadata.labels["pod-template-hash"]

    with t.step("kubectl get pods"):
        listing = t.kubectl("get", "pods", "-n", t.namespace)
        t.evidence.add("the tutorial printed (lines 80-83)", printed(80, 83))
        t.evidence.add("kubectl get pods prints today", listing)
    header, *rows = [line.split() for line in listing.splitlines()]
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    listed = sorted(row[:4] for row in rows)
    assert listed == [["redis", "1/1", "Running", "0"],
                      [deployed.metadata.name, "1/1", "Running", "0"]], (
        f"kubectl get pods lists (NAME READY STATUS RESTARTS) {listed}")
    # redis-deployment-866c4c6cf9-8z8k5: the Deployment, its pod-template hash, a suffix.
    assert re.fullmatch(rf"redis-deployment-{hash_}-[a-z0-9]{{5}}", deployed.metadata.name)

    with t.step("kubectl delete pod redis redis-deployment-HASH-SUFFIX"):
        deleted = t.kubectl("delete", "pod", "redis", deployed.metadata.name, "-n", t.namespace)
        t.evidence.add("the tutorial printed (lines 88-90)", printed(88, 90))
        t.evidence.add("kubectl delete pod prints today", deleted)
    assert deleted.splitlines() == [
        f'pod "redis" deleted from {t.namespace} namespace',
        f'pod "{deployed.metadata.name}" deleted from {t.namespace} namespace',
    ]
