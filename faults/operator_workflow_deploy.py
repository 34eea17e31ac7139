"""Faults of section VI's workflow from the manager's image edit on (make deploy, the
sample, the logs): what the reader's layout, image, registry or operator would have to be
for each claim to be false. Faults that leave the deployed operator other than it was
(unpullable, extra objects, other arguments) undeploy it in their restore (the next test
deploys it again); faults/health.py takes the workflow's operator as it is deployed."""

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

from faults import actions as act
from faults.context import FaultContext
from faults.operator_workflow import before, undeployed, workflow
from faults.registry import fault
from fixtures.manifests import manifest
from fixtures.operator_workflow import DEPLOYMENT, IMAGE, NAMESPACE, VERSION
from fixtures.waiting import wait_until

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


AUTH_PROXY_PATCH = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: controller-manager
  namespace: system
spec:
  template:
    spec:
      containers:
      - name: kube-rbac-proxy
        image: kubesphere/kube-rbac-proxy:v0.8.0
        args: ["--secure-listen-address=0.0.0.0:8443", "--upstream=http://127.0.0.1:8080/"]
"""


@fault("op-auth-proxy-patch")
def auth_proxy_patch(ctx: FaultContext) -> Iterator[None]:
    wf = workflow(ctx)

    def add() -> None:
        default = wf.root / "config/default"
        (default / "manager_auth_proxy_patch.yaml").write_text(AUTH_PROXY_PATCH)
        kustomization = default / "kustomization.yaml"
        kustomization.write_text(kustomization.read_text().replace(
            "patches:\n", "patches:\n- path: manager_auth_proxy_patch.yaml\n", 1))

    original = wf.init

    def init() -> subprocess.CompletedProcess[str]:
        first = "init" not in wf.done
        out = original()
        if first:
            ctx.note("config/default/manager_auth_proxy_patch.yaml added (kube-rbac-proxy)")
            add()
        return out

    ctx.monkeypatch.setattr(wf, "init", init)
    yield


CONFIG_MAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: manager-config
data:
  controller_manager_config.yaml: |
    apiVersion: controller-runtime.sigs.k8s.io/v1alpha1
    kind: ControllerManagerConfig
"""


@fault("op-make-deploy-objects")
def manager_config_map(ctx: FaultContext) -> Iterator[None]:
    wf = workflow(ctx)

    def add() -> None:
        manager = wf.root / "config/manager"
        (manager / "controller_manager_config.yaml").write_text(CONFIG_MAP)
        kustomization = manager / "kustomization.yaml"
        kustomization.write_text(kustomization.read_text().replace(
            "resources:\n", "resources:\n- controller_manager_config.yaml\n", 1))

    before(ctx, wf, "make-deploy", "the manager's ConfigMap added to config/manager", add)
    try:
        yield
    finally:
        undeployed(ctx, wf)


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
                          Path(manifest("operator-workflow/sample.yaml")).read_text(),
                          "the printed sample with its lost lines")
    yield


@fault("op-sample-apply-created")
def cannot_create(ctx: FaultContext) -> Iterator[None]:
    wf = workflow(ctx)
    original = wf.deploy

    def deploy(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        out = original(*args, **kwargs)  # type: ignore[arg-type]
        if not getattr(deploy, "struck", False):
            deploy.struck = True  # type: ignore[attr-defined]
            ctx.stack.enter_context(act.cluster_role_without(
                ctx, ROLE, SERVICE_ACCOUNT, "apps", "deployments", ("create",)))
        return out

    ctx.monkeypatch.setattr(wf, "deploy", deploy)
    yield  # the ClusterRole's rules come back; the operator stays (faults/health.py takes it)


def errors_only(ctx: FaultContext) -> Iterator[None]:
    wf = workflow(ctx)
    original = wf.deploy

    def deploy(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        out = original(*args, **kwargs)  # type: ignore[arg-type]
        if not getattr(deploy, "struck", False):
            deploy.struck = True  # type: ignore[attr-defined]
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

            wait_until("the old manager pod to be gone", alone, timeout=180)
            ctx.note("the manager restarted with --zap-log-level=error")
        return out

    ctx.monkeypatch.setattr(wf, "deploy", deploy)
    try:
        yield
    finally:
        undeployed(ctx, wf)


fault("op-logs-creating-deployment")(errors_only)
fault("op-logs-logger-keys")(errors_only)

