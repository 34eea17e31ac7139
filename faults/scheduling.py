"""The faults of suites/test_scheduling.py (section III): for each of its claims,
what makes the claim false on the real cluster (faults.registry.fault)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from faults import static_pods
from faults.context import FaultContext
from faults.leftovers import SCHEDULER_CONFIG
from faults.registry import fault
from toolkit.manifests import manifest


@fault("pod-scheduling-unit")
def scheduler_ignoring_memory(ctx: FaultContext) -> Iterator[None]:
    config = Path(manifest("faults/scheduler-ignoring-memory.yaml")).read_text()
    with scheduler_configured(ctx, config, "NodeResourcesFit off"):
        yield


@fault("arch-scheduler-scores")
def scheduler_without_node_affinity_score(ctx: FaultContext) -> Iterator[None]:
    config = Path(manifest("faults/scheduler-without-node-affinity-score.yaml")).read_text()
    with scheduler_configured(ctx, config, "NodeAffinity score off"):
        yield


@contextmanager
def scheduler_configured(ctx: FaultContext, config: str, what: str) -> Iterator[None]:
    """kube-scheduler restarted with a configuration of the fault's own (--config)."""
    node = ctx.control_plane

    def edit(pod_manifest: dict) -> None:
        spec = pod_manifest["spec"]
        spec["containers"][0]["command"].append(f"--config={SCHEDULER_CONFIG}")
        spec["containers"][0]["volumeMounts"].append(
            {"name": "fault-config", "mountPath": SCHEDULER_CONFIG, "readOnly": True})
        spec["volumes"].append(
            {"name": "fault-config", "hostPath": {"path": SCHEDULER_CONFIG, "type": "File"}})

    static_pods.write_node_file(ctx, node, SCHEDULER_CONFIG, config)
    try:
        with static_pods.static_pod_edited(ctx, "kube-scheduler", edit,
                                   f"--config={SCHEDULER_CONFIG} ({what})"):
            yield
    finally:
        ctx.node(node, "rm", "-f", SCHEDULER_CONFIG)
