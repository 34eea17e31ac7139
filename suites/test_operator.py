"""Section VI, "Operator": the Memcached operator section VI's workflow makes (operator/:
the scaffold, the tutorial's edits, the official sample's controller), deployed as `make
deploy` does, reconciling Memcached objects into Deployments."""

from pathlib import Path

import pytest
import yaml
from kubernetes import client

from toolkit.deployments import pods_of, wait_ready_pods
from toolkit.evidence import Evidence
from toolkit.kubectl import Kubectl
from toolkit.manifests import manifest
from toolkit.operator import DEPLOYMENT, SAMPLE
from toolkit.operator_workflow import GROUP
from toolkit.timeouts import TIMEOUTS
from toolkit.waiting import wait_until

VERSION, PLURAL = "v1alpha1", "memcacheds"
NAME = "memcached-sample"
SELECTOR = f"memcached_cr={NAME}"

pytestmark = pytest.mark.usefixtures("memcached_operator")


def apply_sample(kubectl: Kubectl, namespace: str) -> None:
    out = kubectl("apply", "-n", namespace, "-f", str(SAMPLE))
    assert out.strip() == f"memcached.{GROUP}/{NAME} created"


def memcached(custom: client.CustomObjectsApi, namespace: str) -> dict:
    return custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, NAME)


def set_size(kubectl: Kubectl, namespace: str, size: int) -> None:
    kubectl("patch", "memcached", NAME, "-n", namespace, "--type=merge",
            "-p", f'{{"spec":{{"size":{size}}}}}')


def wait_size(apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str, size: int) -> None:
    def probe() -> tuple[bool, str]:
        dep = apps.read_namespaced_deployment(NAME, namespace)
        return dep.spec.replicas == size, f"replicas={dep.spec.replicas}"

    wait_until(f"Deployment {NAME} to have {size} replicas", probe, timeout=TIMEOUTS.api_change)
    wait_ready_pods(core, namespace, SELECTOR, size)


def wait_status_nodes(
    custom: client.CustomObjectsApi, core: client.CoreV1Api, namespace: str
) -> list[str]:
    def probe() -> tuple[bool, str]:
        pods = sorted(p.metadata.name for p in pods_of(core, namespace, SELECTOR))
        nodes = memcached(custom, namespace).get("status", {}).get("nodes") or []
        return sorted(nodes) == pods and bool(pods), f"status.nodes={nodes} pods={pods}"

    return wait_until("status.nodes to list exactly the current pods", probe, timeout=TIMEOUTS.sync)


@pytest.fixture
def custom(cluster: object) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(cluster.api)  # type: ignore[attr-defined]


@pytest.mark.claim("op-crd-and-operator-ready")
def test_the_crd_is_served_and_the_operator_deployment_is_ready(
    kubectl: Kubectl, apps_v1: client.AppsV1Api, memcached_operator: str
):
    crd = kubectl.json("get", "crd", f"{PLURAL}.{GROUP}")
    established = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert established.get("Established") == "True"
    listing = kubectl("get", "deployment", "-n", memcached_operator)
    assert listing.splitlines()[1].split()[:2] == [DEPLOYMENT, "1/1"]


@pytest.mark.claim("op-sample-creates-deployment")
def test_the_sample_creates_a_deployment_with_a_running_memcached_pod(
    kubectl: Kubectl, core_v1: client.CoreV1Api, apps_v1: client.AppsV1Api, namespace: str,
    memcached_operator: str, evidence: Evidence,
):
    apply_sample(kubectl, namespace)
    (pod,) = wait_ready_pods(core_v1, namespace, SELECTOR, 1)
    assert pod.metadata.name.startswith(f"{NAME}-")
    dep = apps_v1.read_namespaced_deployment(NAME, namespace)
    (owner,) = dep.metadata.owner_references
    assert (owner.kind, owner.name, owner.controller) == ("Memcached", NAME, True)
    kubectl("get", "pods", "-n", namespace)
    logs = kubectl("logs", "-n", memcached_operator, f"deployment/{DEPLOYMENT}")
    line = next((x for x in logs.splitlines()
                 if "Creating a new Deployment" in x and f'"{namespace}"' in x), None)
    assert line is not None, "the operator did not log the creation"
    assert f'"Deployment.Namespace": "{namespace}"' in line
    assert f'"Deployment.Name": "{NAME}"' in line


@pytest.mark.claim("op-status-nodes")
def test_status_nodes_lists_exactly_the_current_pods(
    kubectl: Kubectl, core_v1: client.CoreV1Api, custom: client.CustomObjectsApi,
    namespace: str,
):
    apply_sample(kubectl, namespace)
    wait_ready_pods(core_v1, namespace, SELECTOR, 1)
    wait_status_nodes(custom, core_v1, namespace)
    kubectl("get", "memcached", NAME, "-n", namespace, "-o", "yaml")


@pytest.mark.claim("op-reconciles")
def test_size_changes_deleted_children_and_hand_edits_are_reconciled(
    kubectl: Kubectl, core_v1: client.CoreV1Api, apps_v1: client.AppsV1Api, namespace: str,
):
    apply_sample(kubectl, namespace)
    wait_size(apps_v1, core_v1, namespace, 1)
    set_size(kubectl, namespace, 3)
    wait_size(apps_v1, core_v1, namespace, 3)
    set_size(kubectl, namespace, 1)
    wait_size(apps_v1, core_v1, namespace, 1)
    # (status.nodes is not checked here: the example's controller does not watch pods, so
    # a pod that ends after its last reconcile stays listed until the next one.)

    kubectl("scale", "deployment", NAME, "-n", namespace, "--replicas=4")
    wait_size(apps_v1, core_v1, namespace, 1)  # the hand edit is put back

    uid = apps_v1.read_namespaced_deployment(NAME, namespace).metadata.uid
    kubectl("delete", "deployment", NAME, "-n", namespace, "--wait=true")

    def recreated() -> tuple[bool, str]:
        dep = apps_v1.list_namespaced_deployment(namespace).items
        return any(d.metadata.uid != uid for d in dep), [d.metadata.name for d in dep]

    wait_until("the deleted Deployment to come back", recreated, timeout=TIMEOUTS.api_change)
    wait_size(apps_v1, core_v1, namespace, 1)


@pytest.mark.claim("op-garbage-collects")
def test_deleting_the_memcached_deletes_its_deployment_and_pods(
    kubectl: Kubectl, core_v1: client.CoreV1Api, apps_v1: client.AppsV1Api, namespace: str
):
    apply_sample(kubectl, namespace)
    wait_ready_pods(core_v1, namespace, SELECTOR, 1)
    kubectl("delete", "memcached", NAME, "-n", namespace, "--wait=true")

    def collected() -> tuple[bool, str]:
        deps = apps_v1.list_namespaced_deployment(namespace).items
        pods = pods_of(core_v1, namespace, SELECTOR)
        return not deps and not pods, f"deployments={len(deps)} pods={len(pods)}"

    wait_until("the garbage collector to remove the Deployment and pods", collected,
               timeout=TIMEOUTS.pod_change)


@pytest.mark.claim("op-restart-converges")
def test_a_restarted_operator_converges_without_duplicates(
    kubectl: Kubectl, core_v1: client.CoreV1Api, apps_v1: client.AppsV1Api,
    custom: client.CustomObjectsApi, namespace: str, memcached_operator: str,
):
    apply_sample(kubectl, namespace)
    wait_ready_pods(core_v1, namespace, SELECTOR, 1)
    (operator,) = pods_of(core_v1, memcached_operator, "control-plane=controller-manager")
    kubectl("delete", "pod", operator.metadata.name, "-n", memcached_operator)
    wait_ready_pods(core_v1, memcached_operator, "control-plane=controller-manager", 1,
                    exclude=frozenset({operator.metadata.name}))
    set_size(kubectl, namespace, 2)
    wait_size(apps_v1, core_v1, namespace, 2)
    wait_status_nodes(custom, core_v1, namespace)
    assert [d.metadata.name for d in apps_v1.list_namespaced_deployment(namespace).items] == [NAME]


@pytest.mark.claim("op-size-no-minimum")
def test_a_negative_size_is_stored_and_only_its_deployment_is_refused(
    kubectl: Kubectl, apps_v1: client.AppsV1Api, custom: client.CustomObjectsApi,
    namespace: str, memcached_operator: str,
):
    """The tutorial's `Size int32` has no minimum: the CRD takes -1; the Deployment the
    operator then makes is what the apiserver refuses, and the operator logs it."""
    kubectl("create", "-n", namespace, "-f", manifest("memcached/invalid-negative-size.yaml"))
    stored = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "negative")
    assert stored["spec"] == {"size": -1}

    def refused() -> tuple[bool, str]:
        logs = kubectl("logs", "-n", memcached_operator, f"deployment/{DEPLOYMENT}")
        lines = [x for x in logs.splitlines()
                 if "Failed to create new Deployment" in x and f'"{namespace}"' in x]
        return bool(lines), lines[-1] if lines else "no `Failed to create new Deployment`"

    line = wait_until("the operator to log the refused Deployment", refused,
                      timeout=TIMEOUTS.api_change)
    assert "spec.replicas: Invalid value: -1" in line
    assert apps_v1.list_namespaced_deployment(namespace).items == []


@pytest.mark.claim("op-rejects-invalid")
@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("invalid-string-size.yaml", 'spec.size: Invalid value: "string"'),
        ("invalid-unknown-field.yaml", 'unknown field "spec.colour"'),
    ],
)
def test_invalid_memcacheds_are_rejected_and_nothing_is_created(
    kubectl: Kubectl, apps_v1: client.AppsV1Api, custom: client.CustomObjectsApi,
    namespace: str, file: str, message: str,
):
    proc = kubectl.run("create", "-n", namespace, "-f", manifest(f"memcached/{file}"),
                       check=False)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr
    assert custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"] == []
    assert apps_v1.list_namespaced_deployment(namespace).items == []


@pytest.mark.claim("op-rejects-invalid")
def test_a_plain_api_request_drops_an_unknown_field_with_a_warning(
    custom: client.CustomObjectsApi, namespace: str, evidence: Evidence
):
    """kubectl asks for strict field validation; an API request that does not (the
    default is Warn) is stored without the unknown field, and told so in a warning."""
    body = yaml.safe_load(Path(manifest("memcached/invalid-unknown-field.yaml")).read_text())
    answer = custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body,
                                                    _preload_content=False)
    warning = answer.headers.get("Warning", "")
    evidence.add("POST without fieldValidation: HTTP status and Warning header",
                 f"{answer.status}\n{warning}")
    assert answer.status == 201
    assert "unknown field" in warning and "spec.colour" in warning  # quotes come escaped
    stored = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL,
                                                 body["metadata"]["name"])
    evidence.add("the object as stored", str(stored["spec"]))
    assert stored["spec"] == {"size": 1}, "the unknown field was kept"
