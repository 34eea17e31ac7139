"""The Python faults of section VI's workflow (suites/test_operator_workflow.py): what the
reader's files, registry or operator would have to be for each claim to be false; each
strikes at a step of the workflow, whose inputs hold the workflow (`workflow`). Faults of
the deployed operator undeploy it in their restore, so that the cluster is as fresh as
before (the next test deploys it again). The others are declared in faults/catalogue.yaml
(the arguments the reader types, the type edits)."""

import json
import re
from pathlib import Path
from tempfile import TemporaryDirectory

from tutorial_conformance.faults.context import FaultContext, FaultError
from tutorial_conformance.faults.registry import fault
from tutorial_conformance.toolkit.commands import run
from tutorial_conformance.toolkit.context import Step
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.operator_workflow import (
    CONTROLLER_STEP,
    DEPLOY,
    DEPLOYMENT,
    EDIT_MANAGER,
    EDIT_TYPES,
    GROUP,
    IMAGE,
    INIT,
    LOGIN,
    NAMESPACE,
    TUTORIAL_MANIFESTS,
    VERSION,
    Workflow,
)
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.waiting import wait_until

TUTORIAL_MAKE_MANIFESTS = ('"$(CONTROLLER_GEN)" "crd:trivialVersions=true,'
                           'preserveUnknownFields=false" rbac:roleName=manager-role webhook '
                           'paths="./..." output:crd:artifacts:config=config/crd/bases')


def workflow(step: Step) -> Workflow:
    found = step.inputs.get("workflow")
    if not isinstance(found, Workflow):
        raise FaultError(f"step {step.name!r} is no step of section VI's workflow")
    return found


def undeployed_after(ctx: FaultContext, wf: Workflow) -> None:
    """The restore of a fault on the deployed operator: `make undeploy` after the test."""
    def undeploy() -> None:
        wf.undeploy()
        ctx.note("the workflow's operator undeployed (make undeploy)")
    ctx.stack.callback(undeploy)


@fault("op-manifests-trivial-versions", before=TUTORIAL_MANIFESTS)
def makefile_of_2021(ctx: FaultContext, step: Step) -> None:
    """the Makefile's manifests target as in 2021"""
    # (controller-gen v0.4.1, which took these options, builds with Go 1.26 but panics
    # checking today's packages: no working controller-gen accepts them any more.)
    path = workflow(step).root / "Makefile"
    text = path.read_text()
    today = re.search(r'^\t"\$\(CONTROLLER_GEN\)" rbac:roleName=manager-role crd webhook .*$',
                      text, re.M)
    if today is None:
        raise FaultError("no `controller-gen rbac:roleName=manager-role crd webhook` line in "
                         "the Makefile")
    path.write_text(text.replace(today.group(0), "\t" + TUTORIAL_MAKE_MANIFESTS, 1))


def controller_edited(ctx: FaultContext, step: Step, old: str, new: str) -> None:
    """The controller the step writes into the project, with `old` replaced by `new`."""
    text = Path(step.inputs["source"]).read_text()
    if old not in text:
        raise FaultError(f"the controller has no {old!r} to change")
    directory = Path(ctx.stack.enter_context(TemporaryDirectory(prefix="tutorial-suite-fault-")))
    faulted = directory / "memcached_controller.go"
    faulted.write_text(text.replace(old, new))
    step.inputs["source"] = faulted


@fault("op-controller-rbac-markers", before=CONTROLLER_STEP)
def markers_as_comments(ctx: FaultContext, step: Step) -> None:
    """the controller's rbac markers lost their +"""
    controller_edited(ctx, step, "//+kubebuilder:rbac", "//kubebuilder:rbac")


@fault("op-logs-logger-keys", before=CONTROLLER_STEP)
def logger_of_2021(ctx: FaultContext, step: Step) -> None:
    """the creation logged in the tutorial's form, as controller-runtime of 2021 named its
    loggers and keys: logger controller-runtime.manager.controller.memcached, keys
    "reconciler group" and "reconciler kind" """
    legacy = "".join(f'.WithName("{name}")'
                     for name in ("controller-runtime", "manager", "controller", "memcached"))
    controller_edited(ctx, step, 'log.Info("Creating a new Deployment"',
                      f'ctrl.Log{legacy}.WithValues("reconciler group", "{GROUP}", '
                      '"reconciler kind", "Memcached").Info("Creating a new Deployment"')
    undeployed_after(ctx, workflow(step))


@fault("op-docker-login", before=LOGIN)
def wrong_password(ctx: FaultContext, step: Step) -> None:
    """the reader's password is not the registry's"""
    step.inputs["password"] += "-not"


@fault("op-makefile-img-docker-push", after=LOGIN)
def logged_out(ctx: FaultContext, step: Step) -> None:
    """logged out of the registry right after the login"""
    wf = workflow(step)
    run(["docker", "logout", wf.need_registry().host], env=wf.env(), timeout=TIMEOUTS.probe,
        check=False, log=ctx.note)


@fault("op-manager-image-edit", after=EDIT_MANAGER)
def no_manager_edit(ctx: FaultContext, step: Step) -> None:
    """the manager.yaml edit undone: the scaffold's image, controller, which make deploy
    sets to IMG (the login registry's path, which the nodes cannot pull)"""
    wf = workflow(step)
    path = wf.root / "config/manager/manager.yaml"
    path.write_text(path.read_text().replace(f"image: {IMAGE}:{VERSION}",
                                             "image: controller:latest", 1))
    undeployed_after(ctx, wf)


def add_to_kustomization(directory: Path, field: str, relative: str) -> None:
    """A file of manifests/ written into a kustomize directory of the scaffold, first in its
    kustomization's `field` list (resources, patches)."""
    name = Path(relative).name
    (directory / name).write_text(Path(manifest(relative)).read_text())
    kustomization = directory / "kustomization.yaml"
    text = kustomization.read_text()
    if f"{field}:\n" not in text:
        raise FaultError(f"{kustomization} has no {field}: list to add {name} to")
    entry = f"- path: {name}" if field == "patches" else f"- {name}"
    kustomization.write_text(text.replace(f"{field}:\n", f"{field}:\n{entry}\n", 1))


@fault("op-auth-proxy-patch", after=INIT)
def auth_proxy_patch(ctx: FaultContext, step: Step) -> None:
    """config/default/manager_auth_proxy_patch.yaml added to its patches"""
    add_to_kustomization(workflow(step).root / "config/default", "patches",
                         "faults/manager_auth_proxy_patch.yaml")


@fault("op-make-deploy-objects", before=DEPLOY)
def manager_config_map(ctx: FaultContext, step: Step) -> None:
    """config/manager/controller_manager_config.yaml added to its resources"""
    wf = workflow(step)
    add_to_kustomization(wf.root / "config/manager", "resources",
                         "faults/controller_manager_config.yaml")
    undeployed_after(ctx, wf)


@fault("op-deploy-ready", before=DEPLOY)
def image_gone(ctx: FaultContext, step: Step) -> None:
    """the pushed image deleted from the registry and from the nodes"""
    wf = workflow(step)
    wf.need_registry().delete(IMAGE, VERSION)
    for node in ctx.nodes:
        # crictl rmi by reference (the CRI resolves it as a pull would); never
        # `crictl images -q REF | xargs crictl rmi`: a REF that matches nothing lists all
        ctx.node(node, "crictl", "rmi", f"{IMAGE}:{VERSION}", check=False)
    undeployed_after(ctx, wf)


def errors_only(ctx: FaultContext, step: Step) -> None:
    """the manager restarted with --zap-log-level=error"""
    undeployed_after(ctx, workflow(step))
    patch = [{"op": "add", "path": "/spec/template/spec/containers/0/args/-",
              "value": "--zap-log-level=error"}]
    ctx.kubectl("patch", "deployment", DEPLOYMENT, "-n", NAMESPACE, "--type=json",
                "-p", json.dumps(patch))
    ctx.kubectl("rollout", "status", f"deployment/{DEPLOYMENT}", "-n", NAMESPACE,
                f"--timeout={TIMEOUTS.pod_start:.0f}s", timeout=TIMEOUTS.pod_start + 20)

    def alone() -> tuple[bool, list[tuple[str, bool]]]:
        """Only the new manager: the old one, still leader while it terminates, would
        create the Deployment and log it at info level."""
        pods = ctx.core.list_namespaced_pod(NAMESPACE).items
        seen = [(p.metadata.name, p.metadata.deletion_timestamp is not None) for p in pods]
        return len(pods) == 1 and not seen[0][1], seen

    wait_until("the old manager pod to be gone", alone, timeout=TIMEOUTS.pod_start)


fault("op-logs-creating-deployment", after=DEPLOY)(errors_only)


@fault("op-types-edit-as-printed", before=EDIT_TYPES)
def scaffold_reworded(ctx: FaultContext, step: Step) -> None:
    """the scaffold's MemcachedSpec comment worded otherwise, as another template might"""
    path = workflow(step).root / "api/v1alpha1/memcached_types.go"
    old = "// MemcachedSpec defines the desired state of Memcached\n"
    text = path.read_text()
    if old not in text:
        raise FaultError(f"{path.name} has no {old.strip()!r} to reword")
    path.write_text(text.replace(old, "// MemcachedSpec is what a Memcached should be\n"))

