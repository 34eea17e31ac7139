"""Section VI, "Operator": the Memcached operator section VI's workflow makes (operator/:
the scaffold, the tutorial's edits, the official sample's controller), deployed as `make
deploy` does, reconciling Memcached objects into Deployments."""

from pathlib import Path

import pytest
import yaml

from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.deployments import pods_of, wait_ready_pods
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.operator import DEPLOYMENT, SAMPLE, operator_log
from tutorial_conformance.toolkit.operator_workflow import GROUP
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.waiting import wait_until

VERSION, PLURAL = "v1alpha1", "memcacheds"
NAME = "memcached-sample"
SELECTOR = f"memcached_cr={NAME}"
MANAGER = "control-plane=controller-manager"

pytestmark = pytest.mark.usefixtures("memcached_operator")


def apply_sample(t: TestContext) -> None:
    with t.step("kubectl apply -f config/samples/cache_v1alpha1_memcached.yaml"):
        out = t.kubectl("apply", "-n", t.namespace, "-f", str(SAMPLE))
    assert out.strip() == f"memcached.{GROUP}/{NAME} created"


def memcached(t: TestContext, name: str = NAME) -> dict:
    return t.custom.get_namespaced_custom_object(GROUP, VERSION, t.namespace, PLURAL, name)


def set_size(t: TestContext, size: int) -> None:
    with t.step(f"spec.size set to {size}"):
        t.kubectl("patch", "memcached", NAME, "-n", t.namespace, "--type=merge",
                  "-p", f'{{"spec":{{"size":{size}}}}}')


def wait_size(t: TestContext, size: int, operator: str) -> None:
    def probe() -> tuple[bool, str]:
        dep = t.apps.read_namespaced_deployment(NAME, t.namespace)
        return dep.spec.replicas == size, f"replicas={dep.spec.replicas}"

    wait_until(f"Deployment {NAME} to have {size} replicas", probe, timeout=TIMEOUTS.api_change,
               diagnose=lambda: [operator_log(t, operator, "ERROR", "error"),
                                 *t.diagnose.workloads(t.namespace),
                                 *t.diagnose.pods(operator, MANAGER)])
    wait_ready_pods(t.core, t.namespace, SELECTOR, size)


def wait_status_nodes(t: TestContext, operator: str) -> list[str]:
    def probe() -> tuple[bool, str]:
        pods = sorted(p.metadata.name for p in pods_of(t.core, t.namespace, SELECTOR))
        nodes = memcached(t).get("status", {}).get("nodes") or []
        return sorted(nodes) == pods and bool(pods), f"status.nodes={nodes} pods={pods}"

    return wait_until("status.nodes to list exactly the current pods", probe,
                      timeout=TIMEOUTS.sync,
                      diagnose=lambda: [operator_log(t, operator, "ERROR", "error")])


@pytest.mark.claim("op-crd-and-operator-ready")
def test_the_crd_is_served_and_the_operator_deployment_is_ready(
    t: TestContext, memcached_operator: str
):
    with t.step("kubectl get crd memcacheds.cache.yangbodong22011"):
        crd = t.kubectl.json("get", "crd", f"{PLURAL}.{GROUP}")
    established = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert established.get("Established") == "True"
    with t.step("kubectl get deployment -n memcached-operator-system"):
        listing = t.kubectl("get", "deployment", "-n", memcached_operator)
    assert listing.splitlines()[1].split()[:2] == [DEPLOYMENT, "1/1"], (
        "the operator is not ready: " + "; ".join(t.diagnose.pods(memcached_operator, MANAGER)))


@pytest.mark.claim("op-sample-creates-deployment")
def test_the_sample_creates_a_deployment_with_a_running_memcached_pod(
    t: TestContext, memcached_operator: str
):
    apply_sample(t)
    with t.step("the operator creates the Deployment and its pod"):
        (pod,) = wait_ready_pods(t.core, t.namespace, SELECTOR, 1, also=lambda: [
            operator_log(t, memcached_operator, "ERROR", "error")])
    assert pod.metadata.name.startswith(f"{NAME}-")
    dep = t.apps.read_namespaced_deployment(NAME, t.namespace)
    (owner,) = dep.metadata.owner_references
    assert (owner.kind, owner.name, owner.controller) == ("Memcached", NAME, True)
    t.kubectl("get", "pods", "-n", t.namespace)
    with t.step("kubectl logs deployment/memcached-operator-controller-manager"):
        logs = t.kubectl("logs", "-n", memcached_operator, f"deployment/{DEPLOYMENT}")
    line = next((x for x in logs.splitlines()
                 if "Creating a new Deployment" in x and f'"{t.namespace}"' in x), None)
    assert line is not None, "the operator did not log the creation"
    assert f'"Deployment.Namespace": "{t.namespace}"' in line
    assert f'"Deployment.Name": "{NAME}"' in line


@pytest.mark.claim("op-status-nodes")
def test_status_nodes_lists_exactly_the_current_pods(t: TestContext, memcached_operator: str):
    apply_sample(t)
    wait_ready_pods(t.core, t.namespace, SELECTOR, 1)
    with t.step("status.nodes follows the pods"):
        wait_status_nodes(t, memcached_operator)
        t.kubectl("get", "memcached", NAME, "-n", t.namespace, "-o", "yaml")


@pytest.mark.claim("op-reconciles")
def test_size_changes_deleted_children_and_hand_edits_are_reconciled(
    t: TestContext, memcached_operator: str
):
    apply_sample(t)
    wait_size(t, 1, memcached_operator)
    set_size(t, 3)
    wait_size(t, 3, memcached_operator)
    set_size(t, 1)
    wait_size(t, 1, memcached_operator)
    # (status.nodes is not checked here: the example's controller does not watch pods, so
    # a pod that ends after its last reconcile stays listed until the next one.)

    with t.step("kubectl scale deployment memcached-sample --replicas=4 (by hand)"):
        t.kubectl("scale", "deployment", NAME, "-n", t.namespace, "--replicas=4")
        wait_size(t, 1, memcached_operator)  # the hand edit is put back

    uid = t.apps.read_namespaced_deployment(NAME, t.namespace).metadata.uid
    with t.step("kubectl delete deployment memcached-sample"):
        t.kubectl("delete", "deployment", NAME, "-n", t.namespace, "--wait=true")

    def recreated() -> tuple[bool, str]:
        dep = t.apps.list_namespaced_deployment(t.namespace).items
        return any(d.metadata.uid != uid for d in dep), [d.metadata.name for d in dep]

    with t.step("the operator makes it again"):
        wait_until("the deleted Deployment to come back", recreated, timeout=TIMEOUTS.api_change,
                   diagnose=lambda: [operator_log(t, memcached_operator, "ERROR", "error")])
        wait_size(t, 1, memcached_operator)


@pytest.mark.claim("op-garbage-collects")
def test_deleting_the_memcached_deletes_its_deployment_and_pods(t: TestContext):
    apply_sample(t)
    wait_ready_pods(t.core, t.namespace, SELECTOR, 1)
    with t.step("kubectl delete memcached memcached-sample"):
        t.kubectl("delete", "memcached", NAME, "-n", t.namespace, "--wait=true")

    def collected() -> tuple[bool, str]:
        deps = t.apps.list_namespaced_deployment(t.namespace).items
        pods = pods_of(t.core, t.namespace, SELECTOR)
        return not deps and not pods, f"deployments={len(deps)} pods={len(pods)}"

    with t.step("the garbage collector removes its Deployment and pods"):
        wait_until("the garbage collector to remove the Deployment and pods", collected,
                   timeout=TIMEOUTS.pod_change,
                   diagnose=lambda: [*t.diagnose.workloads(t.namespace),
                                     *t.diagnose.pods("kube-system",
                                                      "component=kube-controller-manager")])


@pytest.mark.claim("op-restart-converges")
def test_a_restarted_operator_converges_without_duplicates(
    t: TestContext, memcached_operator: str
):
    apply_sample(t)
    wait_ready_pods(t.core, t.namespace, SELECTOR, 1)
    (operator,) = pods_of(t.core, memcached_operator, MANAGER)
    with t.step("kubectl delete pod (the operator's)"):
        t.kubectl("delete", "pod", operator.metadata.name, "-n", memcached_operator)
        wait_ready_pods(t.core, memcached_operator, MANAGER, 1,
                        exclude=frozenset({operator.metadata.name}))
    set_size(t, 2)
    with t.step("the new operator converges"):
        wait_size(t, 2, memcached_operator)
        wait_status_nodes(t, memcached_operator)
    names = [d.metadata.name for d in t.apps.list_namespaced_deployment(t.namespace).items]
    assert names == [NAME], f"Deployments after the restart: {names}"


@pytest.mark.claim("op-size-no-minimum")
def test_a_negative_size_is_stored_and_only_its_deployment_is_refused(
    t: TestContext, memcached_operator: str
):
    """The tutorial's `Size int32` has no minimum: the CRD takes -1; the Deployment the
    operator then makes is what the apiserver refuses, and the operator logs it."""
    with t.step("kubectl create -f invalid-negative-size.yaml"):
        t.kubectl("create", "-n", t.namespace, "-f",
                  manifest("memcached/invalid-negative-size.yaml"))
    stored = memcached(t, "negative")
    assert stored["spec"] == {"size": -1}

    def refused() -> tuple[bool, str]:
        logs = t.kubectl("logs", "-n", memcached_operator, f"deployment/{DEPLOYMENT}")
        lines = [x for x in logs.splitlines()
                 if "Failed to create new Deployment" in x and f'"{t.namespace}"' in x]
        return bool(lines), lines[-1] if lines else "no `Failed to create new Deployment`"

    with t.step("the operator logs the refused Deployment"):
        line = wait_until("the operator to log the refused Deployment", refused,
                          timeout=TIMEOUTS.api_change,
                          diagnose=lambda: t.diagnose.workloads(t.namespace))
    assert "spec.replicas: Invalid value: -1" in line
    assert t.apps.list_namespaced_deployment(t.namespace).items == []


@pytest.mark.claim("op-rejects-invalid")
@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("invalid-string-size.yaml", 'spec.size: Invalid value: "string"'),
        ("invalid-unknown-field.yaml", 'unknown field "spec.colour"'),
    ],
)
def test_invalid_memcacheds_are_rejected_and_nothing_is_created(
    t: TestContext, file: str, message: str
):
    with t.step("kubectl create -f an invalid Memcached"):
        proc = t.kubectl.run("create", "-n", t.namespace, "-f", manifest(f"memcached/{file}"),
                             check=False)
    assert proc.returncode != 0, f"{file} was accepted"
    assert message in proc.stderr, proc.stderr
    listed = t.custom.list_namespaced_custom_object(GROUP, VERSION, t.namespace, PLURAL)
    assert listed["items"] == []
    assert t.apps.list_namespaced_deployment(t.namespace).items == []


@pytest.mark.claim("op-rejects-invalid")
def test_a_plain_api_request_drops_an_unknown_field_with_a_warning(t: TestContext):
    """kubectl asks for strict field validation; an API request that does not (the
    default is Warn) is stored without the unknown field, and told so in a warning."""
    body = yaml.safe_load(Path(manifest("memcached/invalid-unknown-field.yaml")).read_text())
    with t.step("POST of a Memcached with an unknown field, without fieldValidation"):
        answer = t.custom.create_namespaced_custom_object(GROUP, VERSION, t.namespace, PLURAL,
                                                          body, _preload_content=False)
        warning = answer.headers.get("Warning", "")
        t.evidence.add("POST without fieldValidation: HTTP status and Warning header",
                       f"{answer.status}\n{warning}")
    assert answer.status == 201
    assert "unknown field" in warning and "spec.colour" in warning, (  # quotes come escaped
        f"no unknown-field warning (Warning: {warning or 'none'}); stored: "
        f"{memcached(t, body['metadata']['name']).get('spec')}")
    stored = memcached(t, body["metadata"]["name"])
    t.evidence.add("the object as stored", str(stored["spec"]))
    assert stored["spec"] == {"size": 1}, "the unknown field was kept"
