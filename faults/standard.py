"""The standard actions a fault can be declared as, in faults/catalogue.yaml, with no Python
of its own. Each takes the entry's value and gives the fault: a context manager that
breaks one thing on the cluster (or in the test's inputs) and puts it back afterwards.

    stop-static-pod: COMPONENT          the component's static-pod manifest moved out
    disable-controllers: [NAME, ...]    kube-controller-manager --controllers=...,-NAME
    controller-manager-flags: [FLAG]    kube-controller-manager restarted with FLAG
    scheduler-config: FILE              kube-scheduler restarted with --config (manifests/faults/)
    kube-proxy-mode: MODE               kube-proxy's configuration and pods in MODE
    stop-kubelet: worker | {pod: NAME}  kubelet stopped (on the last worker, or the pod's node)
    reject-port: {port, on-node-of-pod: NAME, from: control-plane}
                 {port, in-pod: NAME, container: C, interface: lo}
                                        iptables REJECT of tcp to the port
    remove-rbac-verbs: {role, service-account: NS/NAME, group, resource, verbs: [...]}
    override-manifest: {manifest: M, with: OTHER | replace: {OLD: NEW} | set: {a.b: V} |
                        delete: [a.b]}  the test applies M changed so
    change-input: {NAME: {replace: {OLD: NEW}} | {remove: [...]} | VALUE}
                                        the step's input NAME changed (with before: STEP)
    scale: {kind, name, namespace, replicas}
    kubectl: {do: [[ARG, ...], ...], undo: [[ARG, ...], ...]}
                                        kubectl commands, and those that put things back
                                        (CONTROL_PLANE and NAMESPACE stand for the test's)

With `before: STEP` or `after: STEP` the action is taken at that step of the test (its
undo still runs after the test); without, once the test's fixtures are up.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import yaml

from tutorial_conformance.faults import actions as act
from tutorial_conformance.faults import static_pods
from tutorial_conformance.faults.context import FaultContext, FaultError
from tutorial_conformance.faults.registry import Inject, at_step
from tutorial_conformance.toolkit.context import Step
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.paths import OPERATOR

# An action: (the fault's context, the entry's value, the step it strikes at or None).
Action = Callable[[FaultContext, Any, Step | None], AbstractContextManager[None]]
ACTIONS: dict[str, Action] = {}


def standard(name: str) -> Callable[[Callable[..., Iterator[None]]], Action]:
    def register(function: Callable[..., Iterator[None]]) -> Action:
        ACTIONS[name] = contextmanager(function)
        return ACTIONS[name]
    return register


def declared(name: str, value: Any, when: str | None, step: str | None) -> Inject:
    """The fault of a catalogue entry: the action, once the test's fixtures are up, or at
    its step (undone with the fault)."""
    if name not in ACTIONS:
        raise ValueError(f"faults/catalogue.yaml: no standard action {name!r} (faults/standard.py"
                         f" has {', '.join(sorted(ACTIONS))})")
    act_ = ACTIONS[name]
    if when is None or step is None:
        return lambda ctx: act_(ctx, value, None)
    return at_step(when, step, name,
                   lambda ctx, at: ctx.stack.enter_context(act_(ctx, value, at)))


@standard("stop-static-pod")
def stop_static_pod(ctx: FaultContext, component: str, _: Step | None) -> Iterator[None]:
    with static_pods.static_pod_removed(ctx, component):
        yield


@standard("disable-controllers")
def disable_controllers(ctx: FaultContext, names: list[str], _: Step | None) -> Iterator[None]:
    with static_pods.controller_manager(ctx, off=tuple(names)):
        yield


@standard("controller-manager-flags")
def controller_manager_flags(ctx: FaultContext, flags: list[str], _: Step | None) -> Iterator[None]:
    with static_pods.controller_manager(ctx, *flags):
        yield


@standard("scheduler-config")
def scheduler_config(ctx: FaultContext, file: str, _: Step | None) -> Iterator[None]:
    with static_pods.scheduler_configured(ctx, Path(manifest(f"faults/{file}")).read_text(),
                                          file):
        yield


@standard("kube-proxy-mode")
def kube_proxy_mode(ctx: FaultContext, mode: str, _: Step | None) -> Iterator[None]:
    with act.kube_proxy_mode(ctx, mode, f"kube-proxy-mode {mode}"):
        yield


@standard("stop-kubelet")
def stop_kubelet(ctx: FaultContext, where: str | dict, _: Step | None) -> Iterator[None]:
    node = ctx.workers[-1] if where == "worker" else ctx.pod(where["pod"]).spec.node_name
    with act.kubelet_stopped(ctx, node, wait_not_ready=where == "worker"):
        yield


@standard("reject-port")
def reject_port(ctx: FaultContext, spec: dict, _: Step | None) -> Iterator[None]:
    reject = ("-p", "tcp", "--dport", str(spec["port"]), "-j", "REJECT", "--reject-with",
              "tcp-reset")
    if "in-pod" in spec:
        node, pid = act.container_pid(ctx, ctx.pod(spec["in-pod"]), spec.get("container"))
        where = ("-i", spec["interface"]) if "interface" in spec else ()
        rule = act.Rule(node, "filter", "INPUT", (*where, *reject), netns_of=pid)
        said = f"pod {spec['in-pod']}'s network namespace rejects tcp to {spec['port']}"
    else:
        node = ctx.pod(spec["on-node-of-pod"]).spec.node_name
        master = ctx.core.read_node(ctx.control_plane)
        source = next(a.address for a in master.status.addresses if a.type == "InternalIP")
        rule = act.Rule(node, "filter", "INPUT", ("-s", source, *reject))
        said = f"{node} rejects {source} on port {spec['port']}"
    with act.rules_applied(ctx, [rule]):
        ctx.note(said)
        yield


@standard("remove-rbac-verbs")
def remove_rbac_verbs(ctx: FaultContext, spec: dict, _: Step | None) -> Iterator[None]:
    namespace, name = spec["service-account"].split("/")
    with act.cluster_role_without(ctx, spec["role"], (namespace, name), spec["group"],
                                  spec["resource"], tuple(spec["verbs"])):
        yield


def dotted(doc: dict, path: str) -> tuple[dict, str]:
    *parents, last = path.split(".")
    for key in parents:
        doc = doc[key]
    return doc, last


@standard("override-manifest")
def override_manifest(ctx: FaultContext, spec: dict, _: Step | None) -> Iterator[None]:
    relative = spec["manifest"]
    text = Path(manifest(relative)).read_text()
    if "with" in spec:
        other = spec["with"]
        text = (OPERATOR / other.removeprefix("operator/")).read_text() \
            if other.startswith("operator/") else Path(manifest(other)).read_text()
    for old, new in (spec.get("replace") or {}).items():
        if old not in text:
            raise FaultError(f"{relative} has no {old!r} to replace")
        text = text.replace(old, new)
    if "set" in spec or "delete" in spec:
        doc = yaml.safe_load(text)
        for path, value in (spec.get("set") or {}).items():
            parent, key = dotted(doc, path)
            parent[key] = value
        for path in spec.get("delete") or []:
            parent, key = dotted(doc, path)
            del parent[key]
        text = yaml.safe_dump(doc, sort_keys=False)
    ctx.override_manifest(relative, text, spec.get("what", f"{relative} changed"))
    yield


@standard("change-input")
def change_input(ctx: FaultContext, changes: dict, step: Step | None) -> Iterator[None]:
    if step is None:
        raise FaultError("change-input needs `before: STEP` (the step whose input it changes)")
    for name, change in changes.items():
        if name not in step.inputs:
            raise FaultError(f"step {step.name!r} has no input {name!r}: {sorted(step.inputs)}")
        value = step.inputs[name]
        if isinstance(change, dict) and "replace" in change:
            value = [change["replace"].get(v, v) for v in value]
        elif isinstance(change, dict) and "remove" in change:
            value = [v for v in value if v not in change["remove"]]
        else:
            value = change
        step.inputs[name] = value
        ctx.note(f"step {step.name!r}: {name} now {value!r}")
    yield


@standard("scale")
def scale(ctx: FaultContext, spec: dict, _: Step | None) -> Iterator[None]:
    target = [f"{spec['kind']}/{spec['name']}", "-n", spec["namespace"]]
    before = ctx.kubectl("get", *target, "-o", "jsonpath={.spec.replicas}").strip()
    ctx.kubectl("scale", *target, f"--replicas={spec['replicas']}")
    try:
        yield
    finally:
        ctx.kubectl("scale", *target, f"--replicas={before}")


@standard("kubectl")
def kubectl_commands(ctx: FaultContext, spec: dict, _: Step | None) -> Iterator[None]:
    names = {"CONTROL_PLANE": ctx.control_plane, "NAMESPACE": ctx.namespace}
    try:
        for command in spec["do"]:
            ctx.kubectl(*(names.get(arg, arg) for arg in command))
        yield
    finally:
        for command in spec.get("undo") or []:
            ctx.kubectl(*(names.get(arg, arg) for arg in command), check=False)
