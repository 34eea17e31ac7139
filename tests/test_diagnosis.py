"""What a wait that times out, or a command in a pod that fails, says: the objects' state
and its reason, one line each (toolkit/diagnosis.py), on API objects recorded from a kind
cluster (tests/data/); and never an empty "last seen" (toolkit/waiting.py)."""

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tutorial_conformance.toolkit.diagnosis import (
    exec_failure,
    node_line,
    pod_line,
    service_line,
    workload_line,
)
from tutorial_conformance.toolkit.waiting import WaitTimeout, timeout_message, wait_until

DATA = Path(__file__).with_name("data")


def load(name: str, kind: str) -> Any:
    """A recorded API answer, deserialized as the client deserializes the apiserver's."""
    text = (DATA / f"{name}.json").read_text()
    return client.ApiClient().deserialize(text, kind, "application/json")


def test_a_pending_pod_says_the_schedulers_message_and_its_unbound_claim():
    pod = load("pod-pending-unbound-pvc", "V1Pod")
    claim = load("pvc-unbound", "V1PersistentVolumeClaim")
    events = load("events-pvc-unbound", "CoreV1EventList").items
    line = pod_line(pod, claims=[(claim, events)])
    assert line.startswith("pending-on-pvc Pending: Unschedulable: ")
    assert "unbound immediate PersistentVolumeClaims" in line
    assert ('PVC data-unbound Pending (ProvisioningFailed: storageclass.storage.k8s.io '
            '"no-such-class" not found)') in line


def test_an_image_pull_back_off_says_the_image_and_the_newest_warnings():
    pod = load("pod-image-pull-back-off", "V1Pod")
    events = load("events-pull-back-off", "CoreV1EventList").items
    line = pod_line(pod, events=events)
    assert line.startswith("pull-back-off Pending: app: ")
    assert "tutorial-suite/no-such-image:1" in line
    assert any(reason in line for reason in ("ErrImagePull", "ImagePullBackOff"))
    assert "warning Failed: " in line or "warning BackOff: " in line


def test_a_pod_on_a_not_ready_node_says_where_it_is_and_why_the_node_is_not_ready():
    pod = load("pod-on-not-ready-node", "V1Pod")
    node = load("node-not-ready", "V1Node")
    line = pod_line(pod, node=node)
    assert line.startswith("on-worker2 Running: ")
    assert ("on tutorial-suite-worker2 (NotReady (NodeStatusUnknown: Kubelet stopped posting "
            "node status.)") in line
    said = node_line(node)
    assert said.startswith("node tutorial-suite-worker2 NotReady (NodeStatusUnknown: ")
    assert "taints: node.kubernetes.io/unreachable:NoSchedule, " \
           "node.kubernetes.io/unreachable:NoExecute" in said


def test_a_service_without_endpoints_says_so_and_its_selector():
    service = load("service-no-endpoints", "V1Service")
    slices = load("endpointslices-no-endpoints", "V1EndpointSliceList").items
    assert service_line(service, slices).endswith(": ready endpoints none")
    assert service_line(service, []).endswith(": no EndpointSlice (selector app=nobody)")


def test_a_workload_says_its_counts_and_its_conditions():
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="redis-deployment"),
        spec=client.V1DeploymentSpec(replicas=1, selector=client.V1LabelSelector(),
                                     template=client.V1PodTemplateSpec()),
        status=client.V1DeploymentStatus(replicas=1, ready_replicas=0, updated_replicas=1,
                                         conditions=[client.V1DeploymentCondition(
                                             type="Available", status="False",
                                             reason="MinimumReplicasUnavailable")]))
    assert workload_line(deployment) == (
        "Deployment redis-deployment: desired 1, current 1, ready 0, updated 1; "
        "Available=False (MinimumReplicasUnavailable)")


@pytest.mark.parametrize(("command", "code", "output", "meaning"), [
    (("getent", "ahostsv4", "redis-sfs-0.redis-sfs"), 2, "",
     "the name redis-sfs-0.redis-sfs does not resolve"),
    (("redis-cli", "-h", "redis-vip", "ping"), 1,
     "Could not connect to Redis at redis-vip:6379: Connection refused\n" * 30,
     "the connection to redis-vip:6379 fails: Connection refused"),
    (("redis-cli", "ping"), None, "", "the command hung: no answer within 60 s"),
])
def test_a_failed_command_in_a_pod_says_what_it_means_then_its_first_lines(
    command: tuple[str, ...], code: int | None, output: str, meaning: str
):
    said = exec_failure("client", command, code, output, 60)
    first, *rest = said.splitlines()
    assert first == f"client: `{' '.join(command)}`: {meaning}"
    assert len(rest) <= 3
    if output:
        assert rest == ["  Could not connect to Redis at redis-vip:6379: Connection refused (x30)"]


def test_a_timeout_says_the_first_objects_state_on_its_first_line():
    message = timeout_message("2 ready pod(s) app=redis-sfs", 240, [("redis-sfs-0", "Pending")],
                              lambda: ["redis-sfs-0 Pending: Unschedulable: ...; PVC data Pending",
                                       "StatefulSet redis-sfs: desired 2, current 1, ready 0"])
    first, second, last = message.splitlines()
    assert first == ("timed out after 240s waiting for 2 ready pod(s) app=redis-sfs: "
                     "redis-sfs-0 Pending: Unschedulable: ...; PVC data Pending")
    assert second.startswith("StatefulSet redis-sfs:")
    assert last == "last seen: [('redis-sfs-0', 'Pending')]"


@pytest.mark.parametrize("seen", [[], "", None, {}])
def test_a_wait_never_reports_an_empty_last_seen(seen: object):
    with pytest.raises(WaitTimeout) as timed_out:
        wait_until("something", lambda: (False, seen), timeout=0.2, interval=0.1)
    assert str(timed_out.value).endswith("last seen: nothing")


def test_a_diagnosis_that_fails_never_hides_the_timeout():
    def broken() -> list[str]:
        raise RuntimeError("no API")

    message = timeout_message("x", 1, "y", broken)
    assert message.startswith("timed out after 1s waiting for x: (no diagnosis: RuntimeError")


def test_the_recordings_are_api_objects():
    for path in DATA.glob("*.json"):
        assert json.loads(path.read_text()), path
