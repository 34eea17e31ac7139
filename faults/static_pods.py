"""Faults on the control plane's static pods: a component's manifest moved out of
/etc/kubernetes/manifests or edited (kubelet stops or restarts it), waiting until the
component is gone or runs the new manifest and leads again; undone from the original
kept under /etc/kubernetes/fault-backup, where faults/health.py finds what a killed run
left behind."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import yaml

from tutorial_conformance.faults.context import FaultContext, FaultError
from tutorial_conformance.toolkit.commands import node_exec
from tutorial_conformance.toolkit.control_plane import (
    LEASED,
    lease_holder,
    mirror_pod,
    running_containers,
)
from tutorial_conformance.toolkit.nodes import STATIC_PODS
from tutorial_conformance.toolkit.pods import is_running_and_ready
from tutorial_conformance.toolkit.timeouts import INTERVALS, TIMEOUTS
from tutorial_conformance.toolkit.waiting import wait_until

MANIFESTS = STATIC_PODS
BACKUPS = "/etc/kubernetes/fault-backup"


def write_node_file(ctx: FaultContext, node: str, path: str, text: str) -> None:
    """Writes a file atomically (a hidden temporary file, which kubelet ignores, renamed)."""
    directory, _, name = path.rpartition("/")
    tmp = f"{directory}/.{name}.fault-tmp"
    ctx.node(node, "sh", "-c", 'cat > "$1" && mv "$1" "$2"', "sh", tmp, path, stdin=text)


def backup_manifest(ctx: FaultContext, component: str) -> str:
    node, backup = ctx.control_plane, f"{BACKUPS}/{component}.yaml"
    if node_exec(node, "sh", "-c", f"test -e {backup} && echo yes || echo no").strip() == "yes":
        raise FaultError(f"{node}:{backup} exists: an earlier fault was not undone "
                         "(run `python -m tutorial_conformance.faults.health --repair`)")
    ctx.node(node, "mkdir", "-p", BACKUPS)
    ctx.node(node, "cp", f"{MANIFESTS}/{component}.yaml", backup)
    return node_exec(node, "cat", backup)


def wait_component(
    ctx: FaultContext, component: str, command: list[str], since: float,
    old_holder: str | None,
) -> None:
    """Until the static pod runs `command`, started after `since`, is Ready and, for the
    components that elect a leader, leads (a new holder of its lease, renewed lately)."""
    core = ctx.core

    def probe() -> tuple[bool, str]:
        pod = mirror_pod(core, component)
        if pod is None:
            return False, "no mirror pod yet"
        if pod.spec.containers[0].command != command:
            return False, "the mirror pod still shows the former command"
        state = (pod.status.container_statuses or [None])[0]
        started = state and state.state.running and state.state.running.started_at
        if not started or started.timestamp() < since - 1:
            return False, f"container not (re)started: {state and state.state}"
        if not is_running_and_ready(pod):
            return False, f"not ready: phase={pod.status.phase}"
        if component in LEASED:
            holder, renewed = lease_holder(ctx.api, component)
            fresh = renewed and (datetime.now(UTC) - renewed).total_seconds() < 20
            if holder == old_holder or not fresh:
                return False, f"lease held by {holder}, renewed {renewed}"
        return True, "running"

    wait_until(f"{component} to run its manifest again and lead", probe,
               timeout=TIMEOUTS.slow_start, interval=INTERVALS.slow)
    ctx.note(f"{component} runs and is ready")


def restore_manifest(ctx: FaultContext, component: str, original: str) -> None:
    node = ctx.control_plane
    holder = lease_holder(ctx.api, component)[0] if component in LEASED else None
    since = time.time()
    write_node_file(ctx, node, f"{MANIFESTS}/{component}.yaml", original)
    command = yaml.safe_load(original)["spec"]["containers"][0]["command"]
    wait_component(ctx, component, command, since, holder)
    ctx.node(node, "rm", "-f", f"{BACKUPS}/{component}.yaml")


@contextmanager
def static_pod_removed(ctx: FaultContext, component: str) -> Iterator[None]:
    """Moves a control-plane component's manifest out of /etc/kubernetes/manifests:
    kubelet stops the component and deletes its mirror pod."""
    node = ctx.control_plane
    original = backup_manifest(ctx, component)
    try:
        ctx.node(node, "rm", f"{MANIFESTS}/{component}.yaml")

        def stopped() -> tuple[bool, str]:
            running = running_containers(node, component)
            mirror = mirror_pod(ctx.core, component)
            return not running and mirror is None, f"containers={running} mirror={bool(mirror)}"

        wait_until(f"{component} to stop", stopped, timeout=TIMEOUTS.pod_change)
        ctx.note(f"{component} stopped: its container and its mirror pod are gone")
        yield
    finally:
        restore_manifest(ctx, component, original)


@contextmanager
def static_pod_edited(
    ctx: FaultContext, component: str, edit: Callable[[dict], None], what: str,
    before_write: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Edits a control-plane component's static-pod manifest; kubelet restarts it."""
    node = ctx.control_plane
    original = backup_manifest(ctx, component)
    try:
        manifest = yaml.safe_load(original)
        edit(manifest)
        if before_write:
            before_write()
        holder = lease_holder(ctx.api, component)[0] if component in LEASED else None
        since = time.time()
        write_node_file(ctx, node, f"{MANIFESTS}/{component}.yaml", yaml.safe_dump(manifest))
        ctx.note(f"{component}'s manifest edited: {what}")
        command = manifest["spec"]["containers"][0]["command"]
        wait_component(ctx, component, command, since, holder)
        yield
    finally:
        restore_manifest(ctx, component, original)


def command_of(manifest: dict) -> list[str]:
    return manifest["spec"]["containers"][0]["command"]


def controllers_off(*controllers: str) -> Callable[[dict], None]:
    """An edit of kube-controller-manager's manifest that disables controllers."""

    def edit(manifest: dict) -> None:
        command = command_of(manifest)
        (index,) = [i for i, arg in enumerate(command) if arg.startswith("--controllers=")]
        command[index] += "".join(f",-{name}" for name in controllers)

    return edit


def flags_added(*flags: str) -> Callable[[dict], None]:
    def edit(manifest: dict) -> None:
        command_of(manifest).extend(flags)

    return edit


@contextmanager
def controller_manager(ctx: FaultContext, *flags: str, off: tuple[str, ...] = ()) -> Iterator[None]:
    """kube-controller-manager restarted with controllers disabled or flags added."""
    edits = [controllers_off(*off)] if off else []
    edits += [flags_added(*flags)] if flags else []
    what = ", ".join([f"--controllers=...,{','.join('-' + c for c in off)}"] if off else []
                     + list(flags))

    def edit(manifest: dict) -> None:
        for one in edits:
            one(manifest)

    with static_pod_edited(ctx, "kube-controller-manager", edit, what):
        yield


SCHEDULER_CONFIG = "/etc/kubernetes/fault-scheduler-config.yaml"  # faults/leftovers.py too


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

    write_node_file(ctx, node, SCHEDULER_CONFIG, config)
    try:
        with static_pod_edited(ctx, "kube-scheduler", edit,
                               f"--config={SCHEDULER_CONFIG} ({what})"):
            yield
    finally:
        ctx.node(node, "rm", "-f", SCHEDULER_CONFIG)
