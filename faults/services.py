"""The faults of suites/test_services.py (section V): for each of its claims,
what makes the claim false on the real cluster (faults.registry.fault)."""

from collections.abc import Iterator
from pathlib import Path

import yaml

from faults.context import FaultContext, FaultError, command
from faults.registry import fault
from faults.statefulset import master_reachable_without_service, service_not_headless
from toolkit.commands import run
from toolkit.manifests import manifest
from toolkit.outside import LABEL


@fault("svc-yaml-as-printed")
def printed_service_fixed(ctx: FaultContext) -> Iterator[None]:
    ctx.override_manifest("redis-sfs/service-as-printed.yaml",
                          Path(manifest("redis-sfs/service.yaml")).read_text(),
                          "the printed service.yaml with its lost keys restored")
    yield


@fault("svc-headless-means-allocated")
def service_allocated(ctx: FaultContext) -> Iterator[None]:
    with service_not_headless(ctx):
        yield


@fault("svc-exposes-to-outside")
def cluster_ip_routed_from_outside(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        found = run(["docker", "ps", "-q", "--filter", f"label={LABEL}={ctx.namespace}"],
                    timeout=60, check=False).stdout.split()
        if not found:
            raise FaultError(f"no outside client of {ctx.namespace} to give a route")
        pid = run(["docker", "inspect", "-f", "{{.State.Pid}}", found[0]], timeout=60,
                  check=False).stdout.strip()
        vip = ctx.core.read_namespaced_service("redis-vip", ctx.namespace).spec.cluster_ip
        worker = next(n for n in ctx.core.list_node().items
                      if "node-role.kubernetes.io/control-plane" not in n.metadata.labels)
        via = next(a.address for a in worker.status.addresses if a.type == "InternalIP")
        route = ["nsenter", "-t", pid, "-n", "ip", "route", "add", f"{vip}/32", "via", via]
        proc = run(route, timeout=30, check=False, log=ctx.note)
        if proc.returncode != 0:
            raise FaultError(f"{' '.join(route)}: {proc.stderr.strip()}")
        ctx.note(f"the outside client routes {vip} through {worker.metadata.name} ({via})")

    # The route goes with the client's namespace when the test removes its container.
    ctx.after(command("create", "*service-nodeport.yaml"),
              "a route to redis-vip's cluster IP through a worker, outside the cluster",
              strike)
    yield


@fault("sfs-service-after-statefulset")
def service_selecting_nothing(ctx: FaultContext) -> Iterator[None]:
    doc = yaml.safe_load(Path(manifest("redis-sfs/service.yaml")).read_text())
    doc["spec"]["selector"] = {"app": "nobody"}
    ctx.override_manifest("redis-sfs/service.yaml", yaml.safe_dump(doc, sort_keys=False),
                          "the headless Service selecting no pod")
    yield


@fault("sfs-replica-log-lines")
def master_resolvable_without_service(ctx: FaultContext) -> Iterator[None]:
    with master_reachable_without_service(ctx):
        yield
