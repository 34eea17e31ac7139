"""Section III, "starting from demand": Redis as a Pod, then a Deployment, then YAML."""

import re
import time

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from toolkit.deployments import wait_ready_pods
from toolkit.evidence import Evidence
from toolkit.kubectl import Kubectl
from toolkit.manifests import manifest
from toolkit.pods import record_pod, wait_running_and_ready
from toolkit.timeouts import TIMEOUTS
from toolkit.tutorial import printed
from toolkit.waiting import holds_for, wait_until


def run_redis(kubectl: Kubectl, namespace: str) -> str:
    return kubectl("run", "redis", "--image=redis", "-n", namespace).strip()


@pytest.mark.claim("redis-kubectl-run")
def test_kubectl_run_redis_creates_a_running_pod(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    assert run_redis(kubectl, namespace) == "pod/redis created"
    try:
        pod = wait_running_and_ready(core_v1, namespace, "redis")
    finally:
        record_pod(core_v1, evidence, namespace, "redis")
    listing = kubectl("get", "pods", "-n", namespace)
    assert listing.splitlines()[1].split()[:3] == ["redis", "1/1", "Running"]
    # The implicit :latest tag means pull policy Always: kubelet pulled the image itself.
    assert pod.spec.containers[0].image_pull_policy == "Always"
    reasons = {e.reason for e in core_v1.list_namespaced_event(
        namespace, field_selector="involvedObject.name=redis").items}
    assert {"Scheduled", "Pulling", "Pulled", "Created", "Started"} <= reasons


@pytest.mark.claim("redis-exec-ping")
def test_redis_cli_ping_answers_pong(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str
):
    run_redis(kubectl, namespace)
    wait_running_and_ready(core_v1, namespace, "redis")
    assert kubectl("exec", "redis", "-n", namespace, "--", "redis-cli", "ping").strip() == "PONG"


@pytest.mark.claim("pod-shares-network")
def test_pod_containers_share_the_node_and_the_network_namespace(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str
):
    kubectl("create", "-n", namespace, "-f", manifest("redis/pod-with-log-collector.yaml"))
    pod = wait_running_and_ready(core_v1, namespace, "redis-with-collector")
    assert pod.spec.node_name and pod.status.pod_ip  # one node, one IP for both containers
    # Redis listens in the redis container; the collector reaches it on localhost.
    answer = kubectl("exec", "-n", namespace, "redis-with-collector", "-c", "log-collector",
                     "--", "redis-cli", "-h", "127.0.0.1", "ping")
    assert answer.strip() == "PONG"


@pytest.mark.claim("pod-shares-volume")
def test_a_log_collector_reads_the_redis_log_through_a_shared_volume(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str
):
    kubectl("create", "-n", namespace, "-f", manifest("redis/pod-with-log-collector.yaml"))
    wait_running_and_ready(core_v1, namespace, "redis-with-collector")

    def collected() -> tuple[bool, str]:
        log = kubectl("exec", "-n", namespace, "redis-with-collector", "-c", "log-collector",
                      "--", "cat", "/logs/redis.log", check=False)
        return "Ready to accept connections" in log, log[-300:]

    wait_until("the collector to read Redis's start-up line", collected,
               timeout=TIMEOUTS.api_change)
    # What the collector tails is what it reads: its own log carries the Redis log too.
    assert "Ready to accept connections" in kubectl(
        "logs", "-n", namespace, "redis-with-collector", "-c", "log-collector")


@pytest.mark.claim("pod-bare-not-replaced")
def test_a_deleted_bare_pod_is_gone(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str
):
    run_redis(kubectl, namespace)
    pod = wait_running_and_ready(core_v1, namespace, "redis")
    assert not pod.metadata.owner_references, "a bare pod has no controller to recreate it"
    kubectl("delete", "pod", "redis", "-n", namespace, "--wait=true")
    with pytest.raises(ApiException) as gone:
        core_v1.read_namespaced_pod("redis", namespace)
    assert gone.value.status == 404

    def no_pod() -> tuple[bool, list[str]]:
        pods = [p.metadata.name for p in core_v1.list_namespaced_pod(namespace).items]
        return not pods, pods

    # Long past the moment a controller would have recreated it (well under a second).
    holds_for(f"no pod in {namespace} after the delete", no_pod, duration=20)


@pytest.mark.claim("deployment-replaces-deleted-pod", "deployment-uses-replicaset")
def test_a_deleted_deployment_pod_is_replaced_under_a_new_name(
    core_v1: client.CoreV1Api, apps_v1: client.AppsV1Api, kubectl: Kubectl, namespace: str,
    evidence: Evidence,
):
    out = kubectl("create", "deployment", "redis-deployment", "--image=redis", "-n", namespace)
    assert out.strip() == "deployment.apps/redis-deployment created"
    selector = "app=redis-deployment"
    (first,) = wait_ready_pods(core_v1, namespace, selector, 1)
    template_hash = first.metadata.labels["pod-template-hash"]
    assert first.metadata.name.startswith(f"redis-deployment-{template_hash}-")

    started = time.monotonic()
    kubectl("delete", "pod", first.metadata.name, "-n", namespace, "--wait=false")
    (second,) = wait_ready_pods(core_v1, namespace, selector, 1,
                                exclude=frozenset({first.metadata.name}))
    evidence.measure("replacement pod Ready after delete", time.monotonic() - started)
    kubectl("get", "pods", "-n", namespace, "-o", "wide")

    assert second.metadata.name != first.metadata.name
    assert second.metadata.labels["pod-template-hash"] == template_hash
    # Owner chain: Deployment -> ReplicaSet -> Pod.
    (rs_ref,) = second.metadata.owner_references
    assert rs_ref.kind == "ReplicaSet" and rs_ref.controller
    rs = apps_v1.read_namespaced_replica_set(rs_ref.name, namespace)
    (deploy_ref,) = rs.metadata.owner_references
    assert (deploy_ref.kind, deploy_ref.name) == ("Deployment", "redis-deployment")
    assert rs.metadata.name == f"redis-deployment-{template_hash}"
    assert rs.spec.replicas == 1 and rs.status.ready_replicas == 1


@pytest.mark.claim("yaml-create-equals-run")
def test_kubectl_create_from_yaml_makes_the_same_pod_as_kubectl_run(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str
):
    run_redis(kubectl, namespace)
    ran = wait_running_and_ready(core_v1, namespace, "redis")
    kubectl("delete", "pod", "redis", "-n", namespace, "--wait=true")

    out = kubectl("create", "-f", manifest("redis/pod.yaml"), "-n", namespace)
    assert out.strip() == "pod/redis created"
    created = wait_running_and_ready(core_v1, namespace, "redis")
    same = [(c.name, c.image) for c in created.spec.containers]
    assert same == [(c.name, c.image) for c in ran.spec.containers] == [("redis", "redis")]
    assert kubectl("get", "pods", "-n", namespace).splitlines()[1].split()[:3] == [
        "redis", "1/1", "Running"]


@pytest.mark.claim("yaml-as-printed")
def test_the_pod_yaml_as_printed_is_rejected(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str
):
    proc = kubectl.run("create", "-f", manifest("redis/pod-as-printed.yaml"), "-n", namespace,
                       check=False)
    assert proc.returncode != 0
    assert "error converting YAML to JSON" in proc.stderr
    assert core_v1.list_namespaced_pod(namespace).items == []


@pytest.mark.claim("redis-get-pods-output", "redis-delete-two-pods-output")
def test_get_pods_and_delete_pod_print_as_the_tutorial_shows(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    run_redis(kubectl, namespace)
    kubectl("create", "deployment", "redis-deployment", "--image=redis", "-n", namespace)
    wait_running_and_ready(core_v1, namespace, "redis")
    (deployed,) = wait_ready_pods(core_v1, namespace, "app=redis-deployment", 1)
    hash_ = deployed.metadata.labels["pod-template-hash"]

    listing = kubectl("get", "pods", "-n", namespace)
    evidence.add("the tutorial printed (lines 80-83)", printed(80, 83))
    evidence.add("kubectl get pods prints today", listing)
    header, *rows = [line.split() for line in listing.splitlines()]
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert sorted(row[:4] for row in rows) == [
        ["redis", "1/1", "Running", "0"], [deployed.metadata.name, "1/1", "Running", "0"]]
    # redis-deployment-866c4c6cf9-8z8k5: the Deployment, its pod-template hash, a suffix.
    assert re.fullmatch(rf"redis-deployment-{hash_}-[a-z0-9]{{5}}", deployed.metadata.name)

    deleted = kubectl("delete", "pod", "redis", deployed.metadata.name, "-n", namespace)
    evidence.add("the tutorial printed (lines 88-90)", printed(88, 90))
    evidence.add("kubectl delete pod prints today", deleted)
    assert deleted.splitlines() == [
        f'pod "redis" deleted from {namespace} namespace',
        f'pod "{deployed.metadata.name}" deleted from {namespace} namespace',
    ]
