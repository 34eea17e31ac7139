"""Section III, "starting from demand": Redis as a Pod, then a Deployment, then YAML."""

import re
import time
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.deployments import wait_ready_pods
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.pods import record_pod, wait_running_and_ready
from tutorial_conformance.toolkit.printed import AGE, POD_NAME, without_header
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.tutorial import printed
from tutorial_conformance.toolkit.waiting import holds_for, wait_until

NO_CONTROLLER_FOR = 20  # seconds: far past when a controller would have recreated a pod


def run_redis(t: TestContext) -> str:
    with t.step("kubectl run redis --image=redis"):
        out = t.kubectl("run", "redis", "--image=redis", "-n", t.namespace).strip()
        t.compare(57, 57, out)
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
    block = t.compare(59, 59, listing, AGE,
                      why={59: "the tutorial's print lost kubectl's header line"})
    # Only kubectl's header, which lines 81 and 92 print, is missing from line 59's block.
    assert [(d.printed, d.today and d.today.split()) for d in block.differences] == [
        (None, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"])], block.render()
    # The implicit :latest tag means pull policy Always: kubelet pulled the image itself.
    assert pod.spec.containers[0].image_pull_policy == "Always"
    reasons = {e.reason for e in t.core.list_namespaced_event(
        t.namespace, field_selector="involvedObject.name=redis").items}
    assert {"Scheduled", "Pulling", "Pulled", "Created", "Started"} <= reasons


@pytest.mark.claim("redis-exec-ping")
def test_redis_cli_ping_answers_pong(t: TestContext):
    run_redis(t)
    wait_running_and_ready(t.core, t.namespace, "redis")
    with t.step("kubectl exec -it redis -- bash"):
        # The prompt the tutorial prints, root@redis:/data#, is user@host:directory.
        shell = t.exec("redis", "bash", "-c", "echo $(id -un)@$(hostname):$(pwd)").strip()
    assert shell == "root@redis:/data", f"the shell opens as {shell}, not root@redis:/data"
    typed = printed(64, 64).removeprefix("root@redis:/data# ")
    with t.step(f"{typed} (as printed, typed into bash)", line=typed):
        answer = t.exec("redis", "bash", "-c", f"{typed} </dev/null; echo; ls ping", check=False)
    assert "PONG" not in answer, f"{typed!r} typed into bash answered PONG: {answer!r}"
    assert answer.strip().endswith("ping"), (
        f"{typed!r} in bash did not redirect redis-cli's output into a file named ping: "
        f"{answer!r}")
    with t.step("redis-cli ping (the suite's reconstruction)"):
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
    assert t.compare(111, 111, out).same, out
    created = wait_running_and_ready(t.core, t.namespace, "redis")
    same = [(c.name, c.image) for c in created.spec.containers]
    assert same == [(c.name, c.image) for c in ran.spec.containers] == [("redis", "redis")]
    with t.step("kubectl get pods"):
        listing = t.kubectl("get", "pods", "-n", t.namespace)
    earlier = "the Deployment of lines 78-79: the test's own namespace has the pod only"
    block = t.compare(113, 115, listing, AGE, POD_NAME, why={115: earlier})
    assert [(d.printed_line, d.today) for d in block.differences] == [(115, None)], (
        block.render())


@pytest.mark.claim("yaml-as-printed")
def test_the_pod_yaml_as_printed_is_rejected(t: TestContext):
    as_printed = manifest("redis/pod-as-printed.yaml")
    # The file applied is the tutorial's own lines, whole.
    block = t.compare(105, 109, Path(as_printed).read_text(encoding="utf-8"))
    assert block.same, f"the file applied as printed is not lines 105-109: {block.render()}"
    with t.step("kubectl create -f pod.yaml (as printed)"):
        proc = t.kubectl.run("create", "-f", as_printed, "-n", t.namespace, check=False)
    assert proc.returncode != 0, "kubectl created the pod.yaml as printed"
    assert "error converting YAML to JSON" in proc.stderr
    assert t.core.list_namespaced_pod(t.namespace).items == []
    # The suite's reconstruction, beside the printed lines (the tutorial as it runs today).
    restored = "the keys the print lost, restored (manifests/redis/pod.yaml)"
    t.compare(105, 109, without_header(Path(manifest("redis/pod.yaml")).read_text()),
              why=dict.fromkeys(range(105, 110), restored))


@pytest.mark.claim("redis-get-pods-output", "redis-delete-two-pods-output")
def test_get_pods_and_delete_pod_print_as_the_tutorial_shows(t: TestContext):
    run_redis(t)
    with t.step("kubectl create deployment redis-deployment --image=redis"):
        created = t.kubectl("create", "deployment", "redis-deployment", "--image=redis", "-n",
                            t.namespace)
        wait_running_and_ready(t.core, t.namespace, "redis")
        (deployed,) = wait_ready_pods(t.core, t.namespace, "app=redis-deployment", 1)
    assert t.compare(79, 79, created).same
    hash_ = deployed.metadata.labels["pod-template-hash"]

    with t.step("kubectl get pods"):
        listing = t.kubectl("get", "pods", "-n", t.namespace)
    header, *rows = [line.split() for line in listing.splitlines()]
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    listed = sorted(row[:4] for row in rows)
    assert listed == [["redis", "1/1", "Running", "0"],
                      [deployed.metadata.name, "1/1", "Running", "0"]], (
        f"kubectl get pods lists (NAME READY STATUS RESTARTS) {listed}")
    # redis-deployment-866c4c6cf9-8z8k5: the Deployment, its pod-template hash, a suffix.
    assert re.fullmatch(rf"redis-deployment-{hash_}-[a-z0-9]{{5}}", deployed.metadata.name)
    block = t.compare(81, 83, listing, AGE, POD_NAME)
    assert block.same, block.render()

    with t.step("kubectl delete pod redis redis-deployment-HASH-SUFFIX"):
        deleted = t.kubectl("delete", "pod", "redis", deployed.metadata.name, "-n", t.namespace)
    named = "kubectl 1.35 and later name the namespace a pod was deleted from"
    block = t.compare(89, 90, deleted, POD_NAME, why={89: named, 90: named})
    # Pinned: both printed lines differ, each by the namespace kubectl now names.
    assert block.differing() == {
        89: f'pod "redis" deleted from {t.namespace} namespace',
        90: f'pod "{deployed.metadata.name}" deleted from {t.namespace} namespace',
    }, block.render()
    with t.step("kubectl get pods (after the delete)"):
        (replacement,) = wait_ready_pods(t.core, t.namespace, "app=redis-deployment", 1)
        after = t.kubectl("get", "pods", "-n", t.namespace)
    assert replacement.metadata.name != deployed.metadata.name
    block = t.compare(92, 93, after, AGE, POD_NAME)
    assert block.same, block.render()


@pytest.mark.claim("deployment-pod-named-a-deployment")
def test_the_pod_a_deployment_makes_belongs_to_its_replicaset_and_is_no_deployment(
        t: TestContext):
    with t.step("kubectl create deployment redis-deployment --image=redis"):
        t.kubectl("create", "deployment", "redis-deployment", "--image=redis", "-n",
                  t.namespace)
        (pod,) = wait_ready_pods(t.core, t.namespace, "app=redis-deployment", 1)
    with t.step("kubectl get deployments,replicasets,pods"):
        t.kubectl("get", "deployments,replicasets,pods", "-n", t.namespace)
        deployments = [d.metadata.name
                       for d in t.apps.list_namespaced_deployment(t.namespace).items]
    # The tutorial calls the pod redis-deployment-866c4c6cf9-8z8k5 "the new Deployment".
    assert deployments == ["redis-deployment"], (
        f"Deployments: {deployments}; the pod: {pod.metadata.name}")
    owners = [(o.kind, o.name) for o in pod.metadata.owner_references or []]
    template_hash = pod.metadata.labels["pod-template-hash"]
    assert owners == [("ReplicaSet", f"redis-deployment-{template_hash}")], (
        f"pod {pod.metadata.name} is owned by {owners}")
    replica_set = t.apps.read_namespaced_replica_set(owners[0][1], t.namespace)
    assert [(o.kind, o.name) for o in replica_set.metadata.owner_references] == [
        ("Deployment", "redis-deployment")]
