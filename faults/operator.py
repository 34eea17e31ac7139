"""The Python faults of suites/test_operator.py (section VI, the suite's operator); the
others are declared in faults/catalogue.yaml."""

import json
from collections.abc import Iterator
from contextlib import contextmanager

from kubernetes import client

from tutorial_conformance.faults import actions as act
from tutorial_conformance.faults.context import FaultContext
from tutorial_conformance.faults.registry import fault
from tutorial_conformance.toolkit.context import Step
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.operator import (
    DEPLOYMENT,
    IMAGE,
    MANAGER_ROLE,
    NAMESPACE,
    load_image,
)
from tutorial_conformance.toolkit.operator_workflow import GROUP as CACHE_GROUP
from tutorial_conformance.toolkit.pods import is_running_and_ready
from tutorial_conformance.toolkit.timeouts import INTERVALS, TIMEOUTS
from tutorial_conformance.toolkit.waiting import wait_until

OPERATOR_SA = (NAMESPACE, "memcached-operator-controller-manager")
MANAGER = "control-plane=controller-manager"


def operator_pods(ctx: FaultContext) -> list[client.V1Pod]:
    return ctx.core.list_namespaced_pod(NAMESPACE, label_selector=MANAGER).items


def operator_ready(ctx: FaultContext) -> tuple[bool, str]:
    dep = ctx.apps.read_namespaced_deployment(DEPLOYMENT, NAMESPACE)
    ready = [p.metadata.name for p in operator_pods(ctx)
             if is_running_and_ready(p) and not p.metadata.deletion_timestamp]
    return dep.status.ready_replicas == 1 and len(ready) == 1, f"ready pods {ready or 'none'}"


def restarted(ctx: FaultContext) -> None:
    """The operator's pod made anew, and ready."""
    ctx.kubectl("delete", "pod", "-n", NAMESPACE, "-l", MANAGER, "--wait=false")
    wait_until("the operator to be ready again", lambda: operator_ready(ctx),
               timeout=TIMEOUTS.pod_start, interval=INTERVALS.slow)


@fault("op-crd-and-operator-ready")
def operator_image_missing(ctx: FaultContext) -> Iterator[None]:
    ref = f"docker.io/{IMAGE}"
    ctx.kubectl("scale", "deployment", DEPLOYMENT, "-n", NAMESPACE, "--replicas=0")
    try:
        wait_until("the operator's pod to go", lambda: (not operator_pods(ctx), "pods left"),
                   timeout=TIMEOUTS.pod_change, interval=INTERVALS.slow)
        for node in ctx.nodes:
            ctx.node(node, "crictl", "rmi", ref, check=False)
        ctx.kubectl("scale", "deployment", DEPLOYMENT, "-n", NAMESPACE, "--replicas=1")

        def cannot_pull() -> tuple[bool, list[str]]:
            reasons = [s.state.waiting.reason for p in operator_pods(ctx)
                       for s in p.status.container_statuses or [] if s.state.waiting]
            return bool({"ErrImagePull", "ImagePullBackOff"} & set(reasons)), reasons

        ctx.note("the manager's pod: " + str(wait_until("the manager not to find its image",
                                                        cannot_pull, timeout=TIMEOUTS.pod_change,
                                                        interval=INTERVALS.slow)))
        yield
    finally:
        load_image(ctx.kind_name)
        ctx.note(f"{IMAGE} loaded into the nodes again")
        restarted(ctx)


@fault("op-restart-converges", before="kubectl delete pod (the operator's)")
def restarted_operator_blind(ctx: FaultContext, _: Step) -> None:
    """the operator loses list and watch on memcacheds"""
    ctx.stack.callback(restarted, ctx)  # (after the RBAC is back: its cache may have given up)
    ctx.stack.enter_context(act.cluster_role_without(ctx, MANAGER_ROLE, OPERATOR_SA,
                                                     CACHE_GROUP, "memcacheds",
                                                     ("list", "watch")))

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
