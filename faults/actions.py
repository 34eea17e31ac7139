"""The cluster operations faults are made of. Each is a context manager that breaks one
thing, waits (bounded polling) until the break has taken effect, and in its `finally`
puts the thing back and waits until it works again.

What a killed run would leave behind is kept where faults/health.py finds and repairs it:
iptables rules commented `tutorial-suite-fault`, objects labelled `tutorial-suite/fault`,
configmaps annotated with their original data (static pods: faults/static_pods.py).
"""

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from kubernetes import client

from tutorial_conformance.faults.context import FaultContext, FaultError
from tutorial_conformance.toolkit import nodes
from tutorial_conformance.toolkit.deployments import rolled_out
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.nodes import is_ready
from tutorial_conformance.toolkit.timeouts import INTERVALS, TIMEOUTS
from tutorial_conformance.toolkit.waiting import wait_until

COMMENT = "tutorial-suite-fault"
FAULT_LABEL = "tutorial-suite/fault"
ORIGINAL = "tutorial-suite/fault-original"  # annotation: an object's data before the fault


# -- iptables, in a node or in a pod's network namespace ----------------------------
@dataclass(frozen=True)
class Rule:
    node: str
    table: str
    chain: str
    spec: tuple[str, ...]  # matches, then -j and the target's options
    binary: str = "iptables"
    netns_of: str | None = None  # a pid whose network namespace the rule goes into

    def argv(self, op: str) -> list[str]:
        prefix = ["nsenter", "-t", self.netns_of, "-n"] if self.netns_of else []
        jump = self.spec.index("-j")
        return [*prefix, self.binary, "-w", "5", "-t", self.table, op, self.chain,
                *self.spec[:jump], "-m", "comment", "--comment", COMMENT, *self.spec[jump:]]


@contextmanager
def rules_applied(ctx: FaultContext, rules: list[Rule]) -> Iterator[None]:
    applied: list[Rule] = []
    try:
        for rule in rules:
            ctx.node(rule.node, *rule.argv("-I"))
            applied.append(rule)
        yield
    finally:
        for rule in reversed(applied):
            # A pod's namespace may be gone with its pod: nothing left to remove then.
            ctx.node(rule.node, *rule.argv("-D"), check=rule.netns_of is None)


def container_pid(ctx: FaultContext, pod: client.V1Pod, container: str | None = None
                  ) -> tuple[str, str]:
    """The node of a pod and the host pid of one of its containers (toolkit/nodes.py)."""
    try:
        return nodes.container_pid(pod, container)
    except ValueError as err:
        raise FaultError(str(err)) from None


# -- Deployments and DaemonSets of kube-system ---------------------------------------
def wait_rollout(ctx: FaultContext, kind: str, namespace: str, name: str) -> None:
    apps = ctx.apps

    def probe() -> tuple[bool, str]:
        if kind == "deployment":
            return rolled_out(apps.read_namespaced_deployment(name, namespace))
        return rolled_out(apps.read_namespaced_daemon_set(name, namespace))

    wait_until(f"{kind} {namespace}/{name} to roll out", probe, timeout=TIMEOUTS.slow_start,
               interval=INTERVALS.slow)
    ctx.note(f"{kind} {namespace}/{name} rolled out")


def edit_config_map(ctx: FaultContext, namespace: str, name: str, key: str,
                    edit: Callable[[str], str]) -> Callable[[], None]:
    """Edits one key of a ConfigMap, its original data kept in an annotation; returns the
    undo."""
    cm = ctx.core.read_namespaced_config_map(name, namespace)
    if ORIGINAL in (cm.metadata.annotations or {}):
        raise FaultError(f"configmap {namespace}/{name} still carries {ORIGINAL}: an earlier "
                         "fault was not undone (run `python -m tutorial_conformance.faults.health "
                         "--repair`)")
    original = cm.data[key]
    faulted = edit(original)
    if faulted == original:
        raise FaultError(f"the edit leaves configmap {namespace}/{name} unchanged")
    ctx.core.patch_namespaced_config_map(name, namespace, {
        "metadata": {"annotations": {ORIGINAL: json.dumps(cm.data)}},
        "data": {key: faulted},
    })
    ctx.note(f"configmap {namespace}/{name} {key} now:\n{faulted}")

    def undo() -> None:
        ctx.core.patch_namespaced_config_map(name, namespace, {
            "metadata": {"annotations": {ORIGINAL: None}}, "data": {key: original},
        })
        ctx.note(f"configmap {namespace}/{name} restored")

    return undo


def restart(ctx: FaultContext, kind: str, namespace: str, name: str, claim: str
            ) -> Callable[[], None]:
    """Restarts a Deployment's or DaemonSet's pods (a template annotation, as `kubectl
    rollout restart` does); returns the undo, which puts the template back exactly as it
    was (and so restarts them again)."""
    read = (ctx.apps.read_namespaced_deployment if kind == "deployment"
            else ctx.apps.read_namespaced_daemon_set)
    original = read(name, namespace).spec.template.metadata.annotations
    patch = {"spec": {"template": {"metadata": {"annotations": {FAULT_LABEL: claim}}}}}
    ctx.kubectl("patch", kind, name, "-n", namespace, "-p", json.dumps(patch))

    def undo() -> None:
        op = ({"op": "remove", "path": "/spec/template/metadata/annotations"} if original is None
              else {"op": "replace", "path": "/spec/template/metadata/annotations",
                    "value": original})
        ctx.kubectl("patch", kind, name, "-n", namespace, "--type=json", "-p", json.dumps([op]))
        wait_rollout(ctx, kind, namespace, name)

    return undo


@contextmanager
def reconfigured(
    ctx: FaultContext, kind: str, namespace: str, name: str, config_map: str, key: str,
    edit: Callable[[str], str], claim: str,
) -> Iterator[None]:
    """A workload's ConfigMap edited and its pods restarted to read it; afterwards the
    ConfigMap restored first, then the pods restarted again from the original template."""
    undo_config = edit_config_map(ctx, namespace, config_map, key, edit)
    undo_restart = None
    try:
        undo_restart = restart(ctx, kind, namespace, name, claim)
        wait_rollout(ctx, kind, namespace, name)
        yield
    finally:
        undo_config()
        if undo_restart:
            undo_restart()


@contextmanager
def coredns_hosts(ctx: FaultContext, entries: dict[str, str], claim: str) -> Iterator[None]:
    """CoreDNS answers `entries` (name -> address) from a hosts block placed before its
    kubernetes plugin; its pods are restarted so that they read the new Corefile."""
    block = "".join(f"       {address} {name}\n" for name, address in entries.items())
    block = f"    hosts {{\n{block}       ttl 5\n       fallthrough\n    }}\n"
    marker = "    kubernetes cluster.local"

    def edit(corefile: str) -> str:
        if marker not in corefile:
            raise FaultError("the CoreDNS Corefile has no `kubernetes cluster.local` block")
        return corefile.replace(marker, block + marker, 1)

    with reconfigured(ctx, "deployment", "kube-system", "coredns", "coredns", "Corefile", edit,
                      claim):
        yield


@contextmanager
def kube_proxy_mode(ctx: FaultContext, mode: str, claim: str) -> Iterator[None]:
    """kube-proxy's configuration set to another mode, and its pods restarted in it."""

    def edit(conf: str) -> str:
        return re.sub(r"(?m)^mode: .*$", f"mode: {mode}", conf)

    def serving(expected: str) -> Callable[[], tuple[bool, dict[str, str]]]:
        def probe() -> tuple[bool, dict[str, str]]:
            modes = {node: nodes.proxy_mode(node) for node in ctx.nodes}
            return set(modes.values()) == {expected}, modes
        return probe

    with reconfigured(ctx, "daemonset", "kube-system", "kube-proxy", "kube-proxy",
                      "config.conf", edit, claim):
        wait_until(f"kube-proxy to serve in {mode} mode", serving(mode),
                   timeout=TIMEOUTS.pod_change)
        ctx.note(f"kube-proxy serves in {mode} mode on every node")
        yield
    wait_until("kube-proxy to serve in iptables mode again", serving("iptables"),
               timeout=TIMEOUTS.pod_change)


# -- kubelet ---------------------------------------------------------------------------
@contextmanager
def kubelet_stopped(ctx: FaultContext, node: str, wait_not_ready: bool) -> Iterator[None]:
    """kubelet stopped on a node (and, if asked, until the node is NotReady); started again
    afterwards, until the node is Ready."""

    def ready(expected: bool) -> tuple[bool, str]:
        found = ctx.core.read_node(node)
        state = {c.type: c.status for c in found.status.conditions or []}.get("Ready")
        return is_ready(found) == expected, f"{node} Ready={state}"

    ctx.node(node, "systemctl", "stop", "kubelet")
    ctx.note(f"kubelet stopped on {node}")
    try:
        if wait_not_ready:
            wait_until(f"{node} to be NotReady", lambda: ready(False),
                       timeout=TIMEOUTS.node_change, interval=INTERVALS.slow)
            ctx.note(f"{node} is NotReady: its kubelet no longer reports")
        yield
    finally:
        ctx.node(node, "systemctl", "start", "kubelet")
        wait_until(f"{node} to be Ready again", lambda: ready(True),
                   timeout=TIMEOUTS.node_change, interval=INTERVALS.slow)


# -- RBAC ------------------------------------------------------------------------------
def allowed(api: client.ApiClient, service_account: tuple[str, str], verb: str, group: str,
            resource: str, namespace: str = "default") -> bool:
    namespace_of_sa, name = service_account
    resource, _, subresource = resource.partition("/")
    review = client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
        user=f"system:serviceaccount:{namespace_of_sa}:{name}",
        groups=["system:serviceaccounts", f"system:serviceaccounts:{namespace_of_sa}",
                "system:authenticated"],
        resource_attributes=client.V1ResourceAttributes(
            verb=verb, group=group, resource=resource, subresource=subresource or None,
            namespace=namespace),
    ))
    return client.AuthorizationV1Api(api).create_subject_access_review(review).status.allowed


@contextmanager
def cluster_role_without(
    ctx: FaultContext, role: str, service_account: tuple[str, str], group: str, resource: str,
    verbs: tuple[str, ...],
) -> Iterator[None]:
    """A ClusterRole stripped of some verbs on one resource; the apiserver is asked (a
    SubjectAccessReview) until it denies them, and after the restore until it allows."""
    rbac = client.RbacAuthorizationV1Api(ctx.api)
    original = ctx.api.sanitize_for_serialization(rbac.read_cluster_role(role).rules)
    rules = []
    for rule in original:
        if group in rule.get("apiGroups", []) and resource in rule.get("resources", []):
            others = [r for r in rule["resources"] if r != resource]
            if others:
                rules.append({**rule, "resources": others})
            kept = [v for v in rule["verbs"] if v not in verbs]
            if kept:
                rules.append({**rule, "resources": [resource], "verbs": kept})
        else:
            rules.append(rule)
    if rules == original:
        raise FaultError(f"ClusterRole {role} grants none of {verbs} on {resource}")

    def decided(expected: bool) -> Callable[[], tuple[bool, dict[str, bool]]]:
        def probe() -> tuple[bool, dict[str, bool]]:
            seen = {v: allowed(ctx.api, service_account, v, group, resource) for v in verbs}
            return all(a == expected for a in seen.values()), seen
        return probe

    rbac.patch_cluster_role(role, {"rules": rules})
    ctx.note(f"ClusterRole {role}: {', '.join(verbs)} on {group}/{resource} removed")
    try:
        wait_until(f"the apiserver to deny {verbs} on {resource}", decided(False),
                   timeout=TIMEOUTS.api_change)
        yield
    finally:
        rbac.patch_cluster_role(role, {"rules": original})
        ctx.note(f"ClusterRole {role} restored")
        wait_until(f"the apiserver to allow {verbs} on {resource} again", decided(True),
                   timeout=TIMEOUTS.api_change)


def fault_manifest(name: str) -> dict:
    """One of the manifests a fault applies (manifests/faults/NAME), as a dict to name."""
    return yaml.safe_load(Path(manifest(f"faults/{name}")).read_text())


@contextmanager
def labelled(ctx: FaultContext, kind: str, name: str, manifest: dict,
             namespace: str | None = None) -> Iterator[None]:
    """An object of the fault's own (labelled tutorial-suite/fault), deleted afterwards."""
    manifest.setdefault("metadata", {}).setdefault("labels", {})[FAULT_LABEL] = "true"
    manifest["metadata"]["name"] = name
    where = ["-n", namespace] if namespace else []
    ctx.kubectl("create", *where, "-f", "-", stdin=json.dumps(manifest))
    try:
        yield
    finally:
        ctx.kubectl("delete", kind, name, *where, "--ignore-not-found", "--wait=true")
