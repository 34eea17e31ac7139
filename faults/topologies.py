"""The faults of suites/test_topologies.py: each breaks the cluster of its own that the
test's `topology` fixture made (fixtures/topology.py), once it is up."""

from collections.abc import Iterator

import yaml

from faults.context import FaultContext, FaultError
from faults.registry import fault
from toolkit.timeouts import TIMEOUTS
from toolkit.topology import LOAD_BALANCER_CDS, Topology, ready_through
from toolkit.waiting import wait_until


def topology_of(ctx: FaultContext) -> Topology:
    found = ctx.item.funcargs.get("topology")  # type: ignore[attr-defined]
    if not isinstance(found, Topology):
        raise FaultError(f"{ctx.item.nodeid} has no topology cluster to fault")
    return found


@fault("arch-etcd-can-run-elsewhere")
def external_etcd_paused(ctx: FaultContext) -> Iterator[None]:
    topology = topology_of(ctx)
    ctx.docker("pause", topology.etcd_container)
    try:
        yield
    finally:
        ctx.docker("unpause", topology.etcd_container)
        wait_until(f"{topology.name}'s apiservers to be ready again",
                   lambda: ready_through(topology.kubectl), timeout=TIMEOUTS.pod_change)


@fault("flow-apiserver-scales-horizontally")
def load_balancer_with_one_backend(ctx: FaultContext) -> Iterator[None]:
    topology = topology_of(ctx)
    lb, kept = topology.load_balancer, topology.control_planes[0]
    original = ctx.docker("exec", lb, "cat", LOAD_BALANCER_CDS)
    cds = yaml.safe_load(original)
    for group in cds["resources"][0]["load_assignment"]["endpoints"]:
        group["lb_endpoints"] = [e for e in group["lb_endpoints"]
                                 if e["endpoint"]["address"]["socket_address"]["address"] == kept]
    write(ctx, lb, yaml.safe_dump(cds))
    ctx.note(f"{lb} now balances over {kept} alone")
    try:
        yield
    finally:
        write(ctx, lb, original)


def write(ctx: FaultContext, container: str, text: str) -> None:
    """Replaces the balancer's cluster file the way kind does: a temporary file, then mv."""
    ctx.docker("exec", "-i", container, "cp", "/dev/stdin", f"{LOAD_BALANCER_CDS}.tmp", stdin=text)
    ctx.docker("exec", container, "mv", f"{LOAD_BALANCER_CDS}.tmp", LOAD_BALANCER_CDS)


