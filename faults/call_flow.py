"""The faults of suites/test_call_flow.py (section IV): for each of its claims,
what makes the claim false on the real cluster (faults.registry.fault)."""

from collections.abc import Iterator

from kubernetes import client

from faults import actions as act
from faults import static_pods
from faults.actions import fault_manifest
from faults.context import FaultContext
from faults.registry import fault
from toolkit.timeouts import TIMEOUTS
from toolkit.waiting import wait_until


@fault("flow-list-watch")
def deployment_controller_off(ctx: FaultContext) -> Iterator[None]:
    with static_pods.controller_manager(ctx, off=("deployment-controller",)):
        yield


@fault("flow-components-list-watch")
def scheduler_removed(ctx: FaultContext) -> Iterator[None]:
    with static_pods.static_pod_removed(ctx, "kube-scheduler"):
        yield


@fault("flow-stored-in-etcd")
def deployments_refused(ctx: FaultContext) -> Iterator[None]:
    quota = fault_manifest("no-deployments-quota.yaml")
    with act.labelled(ctx, "resourcequota", "fault-no-deployments", quota, ctx.namespace):
        def enforced() -> tuple[bool, object]:
            status = ctx.core.read_namespaced_resource_quota(
                "fault-no-deployments", ctx.namespace).status
            return bool(status and status.hard), status and status.hard
        wait_until("the quota to be enforced", enforced, timeout=TIMEOUTS.api_change)
        yield


@fault("flow-deployment-replicaset-pod")
def pods_bound_without_scheduler(ctx: FaultContext) -> Iterator[None]:
    namespace, target = ctx.namespace, f"{ctx.kind_name}-worker"

    def bind(stop: object) -> None:
        core = client.CoreV1Api(ctx.new_api())
        while not stop.wait(0.5):  # type: ignore[attr-defined]
            for waiting in core.list_namespaced_pod(namespace).items:
                if waiting.spec.node_name or waiting.metadata.deletion_timestamp:
                    continue
                body = client.V1Binding(
                    metadata=client.V1ObjectMeta(name=waiting.metadata.name),
                    target=client.V1ObjectReference(api_version="v1", kind="Node", name=target))
                core.create_namespaced_binding(namespace, body, _preload_content=False)
                ctx.note(f"pod {waiting.metadata.name} bound to {target} by hand")

    with static_pods.static_pod_removed(ctx, "kube-scheduler"), \
            ctx.watching(f"pods of {namespace} to bind by hand", bind):
        yield
