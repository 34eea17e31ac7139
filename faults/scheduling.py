"""The faults of suites/test_scheduling.py (section III): for each of its claims,
what makes the claim false on the real cluster (faults.registry.fault)."""

from collections.abc import Iterator

from faults import actions as act
from faults.context import FaultContext
from faults.health import SCHEDULER_CONFIG
from faults.registry import fault

SCHEDULER_IGNORING_MEMORY = """\
# A scheduler that places pods as if memory were no object: NodeResourcesFit filters no
# node out, and scores prefer the node already most allocated.
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: /etc/kubernetes/scheduler.conf
leaderElection:
  leaderElect: true
profiles:
  - schedulerName: default-scheduler
    plugins:
      filter:
        disabled:
          - name: NodeResourcesFit
      score:
        disabled:
          - name: "*"
        enabled:
          - name: NodeResourcesFit
            weight: 1
    pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy:
            type: MostAllocated
            resources:
              - name: memory
                weight: 1
"""


@fault("pod-scheduling-unit")
def scheduler_ignoring_memory(ctx: FaultContext) -> Iterator[None]:
    node = ctx.control_plane

    def edit(pod_manifest: dict) -> None:
        spec = pod_manifest["spec"]
        spec["containers"][0]["command"].append(f"--config={SCHEDULER_CONFIG}")
        spec["containers"][0]["volumeMounts"].append(
            {"name": "fault-config", "mountPath": SCHEDULER_CONFIG, "readOnly": True})
        spec["volumes"].append(
            {"name": "fault-config", "hostPath": {"path": SCHEDULER_CONFIG, "type": "File"}})

    act.write_node_file(ctx, node, SCHEDULER_CONFIG, SCHEDULER_IGNORING_MEMORY)
    try:
        with act.static_pod_edited(ctx, "kube-scheduler", edit,
                                   f"--config={SCHEDULER_CONFIG} (NodeResourcesFit off)"):
            yield
    finally:
        ctx.node(node, "rm", "-f", SCHEDULER_CONFIG)
