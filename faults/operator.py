"""The faults of suites/test_operator.py (section VI): for each of its claims,
what makes the claim false on the real cluster (faults.registry.fault)."""

import json
from collections.abc import Iterator
from contextlib import contextmanager

from kubernetes import client

from faults import actions as act
from faults import static_pods
from faults.context import FaultContext, command
from faults.registry import fault
from toolkit.manifests import manifest
from toolkit.operator import DEPLOYMENT, IMAGE, MANAGER_ROLE, NAMESPACE, load_image
from toolkit.operator_workflow import GROUP as CACHE_GROUP
from toolkit.pods import is_running_and_ready
from toolkit.timeouts import TIMEOUTS
from toolkit.waiting import wait_until

OPERATOR_ROLE = MANAGER_ROLE


OPERATOR_SA = (NAMESPACE, "memcached-operator-controller-manager")




def operator_pods(ctx: FaultContext) -> list[client.V1Pod]:
    return ctx.core.list_namespaced_pod(NAMESPACE,
                                        label_selector="control-plane=controller-manager").items


def operator_ready(ctx: FaultContext) -> tuple[bool, str]:
    dep = ctx.apps.read_namespaced_deployment(DEPLOYMENT, NAMESPACE)
    ready = [p.metadata.name for p in operator_pods(ctx)
             if is_running_and_ready(p) and not p.metadata.deletion_timestamp]
    return dep.status.ready_replicas == 1 and len(ready) == 1, f"ready pods {ready}"


@fault("op-crd-and-operator-ready")
def operator_image_missing(ctx: FaultContext) -> Iterator[None]:
    ref = f"docker.io/{IMAGE}"
    ctx.kubectl("scale", "deployment", DEPLOYMENT, "-n", NAMESPACE, "--replicas=0")
    try:
        wait_until("the operator's pod to go", lambda: (not operator_pods(ctx), "pods left"),
                   timeout=TIMEOUTS.pod_change, interval=2)
        for node in ctx.nodes:
            ctx.node(node, "crictl", "rmi", ref, check=False)
        ctx.kubectl("scale", "deployment", DEPLOYMENT, "-n", NAMESPACE, "--replicas=1")

        def cannot_pull() -> tuple[bool, list[str]]:
            reasons = [s.state.waiting.reason for p in operator_pods(ctx)
                       for s in p.status.container_statuses or [] if s.state.waiting]
            return bool({"ErrImagePull", "ImagePullBackOff"} & set(reasons)), reasons

        ctx.note("the manager's pod: " + str(wait_until("the manager not to find its image",
                                                        cannot_pull,
                                                        timeout=TIMEOUTS.pod_change, interval=2)))
        yield
    finally:
        load_image(ctx.kind_name)
        ctx.note(f"{IMAGE} loaded into the nodes again")
        ctx.kubectl("delete", "pod", "-n", NAMESPACE, "-l", "control-plane=controller-manager",
                    "--wait=false")
        wait_until("the operator to be ready again", lambda: operator_ready(ctx),
                   timeout=TIMEOUTS.pod_start, interval=2)


@fault("op-sample-creates-deployment")
def operator_cannot_create(ctx: FaultContext) -> Iterator[None]:
    with act.cluster_role_without(ctx, OPERATOR_ROLE, OPERATOR_SA, "apps", "deployments",
                                  ("create",)):
        yield


@fault("op-status-nodes")
def operator_cannot_update_status(ctx: FaultContext) -> Iterator[None]:
    with act.cluster_role_without(ctx, OPERATOR_ROLE, OPERATOR_SA, CACHE_GROUP,
                                  "memcacheds/status", ("patch", "update")):
        yield


@fault("op-reconciles")
def operator_cannot_patch(ctx: FaultContext) -> Iterator[None]:
    with act.cluster_role_without(ctx, OPERATOR_ROLE, OPERATOR_SA, "apps", "deployments",
                                  ("patch", "update")):
        yield


@fault("op-garbage-collects")
def garbage_collector_off(ctx: FaultContext) -> Iterator[None]:
    with static_pods.controller_manager(ctx, "--enable-garbage-collector=false"):
        yield


@fault("op-restart-converges")
def restarted_operator_blind(ctx: FaultContext) -> Iterator[None]:
    ctx.before(command("delete", "pod", NAMESPACE), "the operator loses list/watch on "
               "memcacheds", lambda _: ctx.stack.enter_context(act.cluster_role_without(
                   ctx, OPERATOR_ROLE, OPERATOR_SA, CACHE_GROUP, "memcacheds",
                   ("list", "watch"))))
    yield
    # The restarted manager may have given up on its cache: start it afresh.
    ctx.kubectl("delete", "pod", "-n", NAMESPACE, "-l", "control-plane=controller-manager",
                "--wait=false")
    wait_until("the operator to be ready again", lambda: operator_ready(ctx),
               timeout=TIMEOUTS.pod_start, interval=2)


def accepted(ctx: FaultContext, file: str) -> bool:
    proc = ctx.cluster.kubectl.run("create", "--dry-run=server", "-n", "default", "-f",
                                   manifest(f"memcached/{file}"), check=False)
    return proc.returncode == 0


SCHEMA = "/spec/versions/0/schema/openAPIV3Schema"


@contextmanager
def crd_patched(ctx: FaultContext, patch: list[dict], undo: list[dict], file: str,
                now: bool) -> Iterator[None]:
    """The Memcached CRD JSON-patched until `file` is accepted (now=True) or refused (now=
    False) by a server-side dry run; undone afterwards, until it is as before."""
    name = f"memcacheds.{CACHE_GROUP}"
    said = {True: "accepted", False: "refused"}
    ctx.kubectl("patch", "crd", name, "--type=json", "-p", json.dumps(patch))
    try:
        wait_until(f"{file} to be {said[now]}", lambda: (accepted(ctx, file) == now,
                                                         f"{said[not now]} by a dry run"),
                   timeout=TIMEOUTS.api_change)
        ctx.note(f"{file} is {said[now]} (server-side dry run)")
        yield
    finally:
        ctx.kubectl("patch", "crd", name, "--type=json", "-p", json.dumps(undo))
        wait_until(f"{file} to be {said[not now]} again",
                   lambda: (accepted(ctx, file) != now, f"still {said[now]} by a dry run"),
                   timeout=TIMEOUTS.api_change)


@fault("op-rejects-invalid")
def crd_without_validation(ctx: FaultContext) -> Iterator[None]:
    crd = json.loads(ctx.kubectl("get", "crd", f"memcacheds.{CACHE_GROUP}", "-o", "json"))
    original = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    loose = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    with crd_patched(ctx, [{"op": "replace", "path": SCHEMA, "value": loose}],
                     [{"op": "replace", "path": SCHEMA, "value": original}],
                     "invalid-string-size.yaml", now=True):
        yield


@fault("op-size-no-minimum")
def crd_with_minimum(ctx: FaultContext) -> Iterator[None]:
    size = f"{SCHEMA}/properties/spec/properties/size/minimum"
    with crd_patched(ctx, [{"op": "add", "path": size, "value": 0}],
                     [{"op": "remove", "path": size}], "invalid-negative-size.yaml", now=False):
        yield
