"""Faults of section VI's workflow from the manager's image edit on (make deploy, the
sample, the logs): what the reader's layout, image, registry or operator would have to be
for each claim to be false. Faults that leave the deployed operator other than it was
(unpullable, extra objects, other arguments) undeploy it in their restore (the next test
deploys it again); faults/health.py takes the workflow's operator as it is deployed."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from faults import actions as act
from faults.context import FaultContext, FaultError
from faults.operator_workflow import after, before, undeployed, workflow
from faults.registry import fault
from toolkit.manifests import manifest
from toolkit.operator import OPERATOR
from toolkit.operator_workflow import DEPLOYMENT, IMAGE, NAMESPACE, SAMPLE, VERSION
from toolkit.timeouts import TIMEOUTS
from toolkit.waiting import wait_until

ROLE = "memcached-operator-manager-role"
SERVICE_ACCOUNT = (NAMESPACE, DEPLOYMENT)


@fault("op-manager-image-edit")
def no_manager_edit(ctx: FaultContext) -> Iterator[None]:
    wf = workflow(ctx)
    ctx.monkeypatch.setattr(wf, "edit_manager_image", False)
    try:
        yield
    finally:
        undeployed(ctx, wf)


@fault("op-auth-proxy-patch")
def auth_proxy_patch(ctx: FaultContext) -> Iterator[None]:
    after(ctx, workflow(ctx), "init", *added_to_kustomization(
        workflow(ctx).root / "config/default", "patches", "faults/manager_auth_proxy_patch.yaml"))
    yield


@fault("op-make-deploy-objects")
def manager_config_map(ctx: FaultContext) -> Iterator[None]:
    wf = workflow(ctx)
    before(ctx, wf, "make-deploy", *added_to_kustomization(
        wf.root / "config/manager", "resources", "faults/controller_manager_config.yaml"))
    try:
        yield
    finally:
        undeployed(ctx, wf)


def added_to_kustomization(directory: Path, field: str, relative: str
                           ) -> tuple[str, Callable[[], None]]:
    """What the fault does and how: a file of manifests/ written into a kustomize directory
    of the scaffold, first in its kustomization's `field` list (resources, patches)."""
    name = Path(relative).name

    def add() -> None:
        (directory / name).write_text(Path(manifest(relative)).read_text())
        kustomization = directory / "kustomization.yaml"
        text = kustomization.read_text()
        if f"{field}:\n" not in text:
            raise FaultError(f"{kustomization} has no {field}: list to add {name} to")
        entry = f"- path: {name}" if field == "patches" else f"- {name}"
        kustomization.write_text(text.replace(f"{field}:\n", f"{field}:\n{entry}\n", 1))

    return f"{directory.parent.name}/{directory.name}/{name} added to its {field}", add


@fault("op-deploy-ready")
def image_gone(ctx: FaultContext) -> Iterator[None]:
    wf = workflow(ctx)

    def remove() -> None:
        wf.registry.delete(IMAGE, VERSION)
        for node in ctx.nodes:
            # crictl rmi by reference (the CRI resolves it as a pull would); never
            # `crictl images -q REF | xargs crictl rmi`: a REF that matches nothing lists all
            ctx.node(node, "crictl", "rmi", f"{IMAGE}:{VERSION}", check=False)
        ctx.monkeypatch.setattr(wf, "registry", _NoLoad(wf.registry))

    before(ctx, wf, "make-deploy", f"{IMAGE}:{VERSION} deleted from the registry and nodes",
           remove)
    try:
        yield
    finally:
        undeployed(ctx, wf)


class _NoLoad:
    """The registry, with its storage hidden so that the workflow loads nothing into the
    nodes either (online, it would `kind load` the image)."""

    def __init__(self, registry: object) -> None:
        self._registry = registry
        self.storage = getattr(registry, "storage", None) or "none"

    def __getattr__(self, name: str) -> object:
        return getattr(self._registry, name)


@fault("op-sample-as-printed-refused")
def printed_sample_fixed(ctx: FaultContext) -> Iterator[None]:
    ctx.override_manifest("operator-workflow/sample-as-printed.yaml",
                          (OPERATOR / SAMPLE).read_text(),
                          "the printed sample with its lost lines")
    yield


@fault("op-sample-apply-created")
def cannot_create(ctx: FaultContext) -> Iterator[None]:
    after(ctx, workflow(ctx), "make-deploy",
          "the manager's ClusterRole without create on deployments",
          lambda: ctx.stack.enter_context(act.cluster_role_without(
              ctx, ROLE, SERVICE_ACCOUNT, "apps", "deployments", ("create",))))
    yield  # the ClusterRole's rules come back; the operator stays (faults/health.py takes it)


def errors_only(ctx: FaultContext) -> Iterator[None]:
    wf = workflow(ctx)

    def restart_at_error_level() -> None:
        patch = [{"op": "add", "path": "/spec/template/spec/containers/0/args/-",
                  "value": "--zap-log-level=error"}]
        ctx.kubectl("patch", "deployment", DEPLOYMENT, "-n", NAMESPACE, "--type=json",
                    "-p", json.dumps(patch))
        ctx.kubectl("rollout", "status", f"deployment/{DEPLOYMENT}", "-n", NAMESPACE,
                    "--timeout=180s", timeout=200)

        def alone() -> tuple[bool, list[tuple[str, bool]]]:
            """Only the new manager: the old one, still leader while it terminates,
            would create the Deployment and log it at info level."""
            pods = ctx.core.list_namespaced_pod(NAMESPACE).items
            seen = [(p.metadata.name, p.metadata.deletion_timestamp is not None)
                    for p in pods]
            return len(pods) == 1 and not seen[0][1], seen

        wait_until("the old manager pod to be gone", alone, timeout=TIMEOUTS.pod_start)

    after(ctx, wf, "make-deploy", "the manager restarted with --zap-log-level=error",
          restart_at_error_level)
    try:
        yield
    finally:
        undeployed(ctx, wf)


fault("op-logs-creating-deployment")(errors_only)
fault("op-logs-logger-keys")(errors_only)

