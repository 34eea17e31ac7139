"""Section III.1, "deploy stand-alone": `kubectl run redis --image=redis`."""

from kubernetes import client

from fixtures.evidence import Evidence
from fixtures.kubectl import Kubectl
from fixtures.pods import record_pod, wait_running_and_ready


def run_redis(kubectl: Kubectl, namespace: str) -> str:
    return kubectl("run", "redis", "--image=redis", "-n", namespace).strip()


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


def test_redis_cli_ping_answers_pong(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str
):
    run_redis(kubectl, namespace)
    wait_running_and_ready(core_v1, namespace, "redis")
    assert kubectl("exec", "redis", "-n", namespace, "--", "redis-cli", "ping").strip() == "PONG"
