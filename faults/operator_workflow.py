"""Faults of section VI's workflow (suites/test_operator_workflow.py): what the reader's
input, tools, registry or cluster would have to be for each claim to be false. Inputs are
changed on the test's Workflow (its arguments, edits, files) or just before one of its steps
(Workflow.before); faults of the deployed operator undeploy it in their restore, so that
the cluster is as fresh as before (the next test deploys it again)."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from tempfile import TemporaryDirectory

from faults.context import FaultContext, FaultError
from faults.registry import fault
from toolkit.commands import run
from toolkit.operator_workflow import (
    DEPLOYMENT,
    NAMESPACE,
    Workflow,
)

ROLE = "memcached-operator-manager-role"
SERVICE_ACCOUNT = (NAMESPACE, DEPLOYMENT)


def workflow(ctx: FaultContext) -> Workflow:
    found = ctx.item.funcargs.get("workflow")  # type: ignore[attr-defined]
    if not isinstance(found, Workflow):
        raise FaultError(f"{ctx.item.nodeid} runs no section VI workflow")
    if found.done:
        raise FaultError("the workflow ran before the fault: run the claim's tests alone")
    return found


def before(ctx: FaultContext, wf: Workflow, step: str, what: str,
           action: Callable[[], None]) -> None:
    """Runs `action` just before the workflow's `step` (once), and logs it."""
    _hook(ctx, wf.before, "before", step, what, action)


def after(ctx: FaultContext, wf: Workflow, step: str, what: str,
          action: Callable[[], None]) -> None:
    """Runs `action` just after the workflow's `step` succeeded (once), and logs it."""
    _hook(ctx, wf.after, "after", step, what, action)


def _hook(ctx: FaultContext, hooks: dict[str, list[Callable[[], None]]], when: str, step: str,
          what: str, action: Callable[[], None]) -> None:
    fired: list[bool] = []

    def hook() -> None:
        if not fired:
            fired.append(True)
            ctx.note(f"strikes {when} the workflow's step {step}: {what}")
            action()

    ctx.monkeypatch.setitem(hooks, step, [*hooks.get(step, []), hook])


def api_flag_off(ctx: FaultContext, flag: str) -> None:
    """`create api` with `flag=false` instead of `flag`."""
    wf = workflow(ctx)
    ctx.monkeypatch.setattr(wf, "api_args", [a if a != flag else f"{flag}=false"
                                             for a in wf.api_args])
    ctx.note(f"create api arguments: {wf.api_args}")


def undeployed(ctx: FaultContext, wf: Workflow) -> None:
    """The restore of the faults on the deployed operator: `make undeploy`."""
    wf.evidence = None
    wf.undeploy()
    ctx.note("the workflow's operator undeployed (make undeploy)")


@fault("op-built-with-operator-sdk")
def no_controller(ctx: FaultContext) -> Iterator[None]:
    api_flag_off(ctx, "--controller")
    yield


@fault("op-sdk-init")
def no_domain(ctx: FaultContext) -> Iterator[None]:
    wf = workflow(ctx)
    ctx.monkeypatch.setattr(wf, "init_args", ["init", "--repo", wf.init_args[-1]])
    ctx.note(f"init arguments: {wf.init_args}")
    yield


@fault("op-sdk-create-api")
def no_resource(ctx: FaultContext) -> Iterator[None]:
    api_flag_off(ctx, "--resource")
    yield


@fault("op-types-make-generate")
def no_status_edit(ctx: FaultContext) -> Iterator[None]:
    ctx.monkeypatch.setattr(workflow(ctx), "status_edit", "")
    ctx.note("the type edit adds no Nodes to MemcachedStatus")
    yield


@fault("op-manifests-crd")
def no_spec_edit(ctx: FaultContext) -> Iterator[None]:
    ctx.monkeypatch.setattr(workflow(ctx), "spec_edit",
                            '\t// +optional\n\tFoo *string `json:"foo,omitempty"`\n')
    ctx.note("the type edit keeps the scaffold's Foo instead of Size")
    yield


TUTORIAL_MANIFESTS = ('"$(CONTROLLER_GEN)" "crd:trivialVersions=true,preserveUnknownFields=false" '
                      'rbac:roleName=manager-role webhook paths="./..." '
                      'output:crd:artifacts:config=config/crd/bases')


@fault("op-manifests-trivial-versions")
def makefile_of_2021(ctx: FaultContext) -> Iterator[None]:
    # (controller-gen v0.4.1, which took these options, builds with Go 1.26 but panics
    # checking today's packages: no working controller-gen accepts them any more.)
    wf = workflow(ctx)

    def edit() -> None:
        path = wf.root / "Makefile"
        text = path.read_text()
        today = re.search(r'^\t"\$\(CONTROLLER_GEN\)" rbac:roleName=manager-role crd webhook .*$',
                          text, re.M)
        if today is None:
            raise FaultError("no `controller-gen rbac:roleName=manager-role crd webhook` line "
                             "in the Makefile")
        path.write_text(text.replace(today.group(0), "\t" + TUTORIAL_MANIFESTS, 1))

    before(ctx, wf, "tutorial-manifests", "the Makefile's manifests target as in 2021", edit)
    yield


@fault("op-controller-rbac-markers")
def markers_as_comments(ctx: FaultContext) -> Iterator[None]:
    wf = workflow(ctx)
    path = Path(ctx.stack.enter_context(TemporaryDirectory(prefix="tutorial-suite-fault-")))
    path = path / "memcached_controller.go"
    path.write_text(wf.controller.read_text().replace("//+kubebuilder:rbac", "//kubebuilder:rbac"))
    ctx.monkeypatch.setattr(wf, "controller", path)
    ctx.note("the controller's rbac markers lost their +")
    yield


@fault("op-docker-login")
def wrong_password(ctx: FaultContext) -> Iterator[None]:
    wf = workflow(ctx)
    ctx.monkeypatch.setattr(wf.registry, "password", wf.registry.password + "-not")
    ctx.note("the reader's password is not the registry's")
    yield


@fault("op-makefile-img-docker-push")
def logged_out(ctx: FaultContext) -> Iterator[None]:
    wf = workflow(ctx)
    after(ctx, wf, "docker-login", "logged out of the registry after the login",
          lambda: run(["docker", "logout", wf.registry.host], env=wf.env(), timeout=60,
                      check=False, log=ctx.note))
    yield
