"""The faults of suites/test_node_failure.py (section III): for each of its claims,
what makes the claim false on the real cluster (faults.registry.fault)."""

import json
from collections.abc import Iterator

from faults import static_pods
from faults.common import pod
from faults.context import FaultContext, FaultError, command
from faults.registry import fault
from toolkit.nodes import is_ready


@fault("deployment-survives-node-failure")
def replicaset_controller_off_before_failure(ctx: FaultContext) -> Iterator[None]:
    ctx.after(command("run", "redis"), "kube-controller-manager without its ReplicaSet "
              "controller", lambda _: ctx.stack.enter_context(
                  static_pods.controller_manager(ctx, off=("replicaset-controller",))))
    yield


@fault("pod-bound-to-its-node",
       tests=("test_a_deployment_pod_moves_off_a_failed_node_while_a_bare_pod_is_evicted",),
       untargeted="test_a_pods_binding_to_its_node_cannot_change checks the apiserver's "
                  "validation of spec.nodeName and of Bindings, which no cluster fault changes")
def bare_pod_moved(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        node = pod(ctx, "redis").spec.node_name
        ready = [n.metadata.name for n in ctx.core.list_node().items
                 if is_ready(n) and n.metadata.name != node
                 and "node-role.kubernetes.io/control-plane" not in n.metadata.labels]
        if not ready:
            raise FaultError("no other ready worker to move the pod to")
        ctx.kubectl("delete", "pod", "redis", "-n", ctx.namespace, "--grace-period=0",
                    "--force", "--wait=true")
        ctx.kubectl("run", "redis", "--image=redis", "-n", ctx.namespace,
                    f"--overrides={json.dumps({'spec': {'nodeName': ready[0]}})}")
        ctx.note(f"pod redis moved from {node} to {ready[0]}")

    ctx.before(command("get", "pods", "-o", "wide"), "the bare pod moved to another node",
               strike)
    yield
