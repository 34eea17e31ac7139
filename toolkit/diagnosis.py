"""Why an object is not as a test waits for it, in one line per object, as `kubectl
describe` would say it: a pod's phase and the reason behind it (the scheduler's message,
each unbound claim, a container's waiting or terminated reason, its node's Ready
condition, its newest warning events); a workload's counts and conditions; a Service's
EndpointSlices; a node's conditions and taints. The formatters take API objects (and are
unit-tested on recorded ones); `Diagnose` fetches them.
"""

import re
from collections.abc import Iterable, Sequence

from kubernetes import client
from kubernetes.client.exceptions import ApiException

WARNINGS_PER_OBJECT = 2
OUTPUT_LINES = 3  # of a failed command's output, after its meaning


def _condition(conditions: Iterable[object] | None, kind: str) -> object | None:
    return next((c for c in conditions or [] if c.type == kind), None)


def _because(reason: str | None, message: str | None) -> str:
    said = ": ".join(part for part in (reason, message) if part)
    return re.sub(r"\s+", " ", said).strip()


def node_line(node: client.V1Node) -> str:
    """`node kind-worker NotReady (NodeStatusUnknown: Kubelet stopped posting node
    status.); taints: node.kubernetes.io/unreachable:NoExecute`."""
    ready = _condition(node.status.conditions, "Ready")
    state = "Ready" if ready is not None and ready.status == "True" else "NotReady"
    why = f" ({_because(ready.reason, ready.message)})" if ready is not None and \
        state != "Ready" else ""
    pressure = [c.type for c in node.status.conditions or []
                if c.type != "Ready" and c.status == "True"]
    taints = [f"{t.key}:{t.effect}" for t in node.spec.taints or []
              if t.key != "node-role.kubernetes.io/control-plane"]
    return (f"node {node.metadata.name} {state}{why}"
            + (f"; {', '.join(pressure)}" if pressure else "")
            + (f"; taints: {', '.join(taints)}" if taints else "")
            + ("; cordoned" if node.spec.unschedulable else ""))


def _containers(pod: client.V1Pod) -> list[str]:
    said = []
    for status in (pod.status.init_container_statuses or []) + (pod.status.container_statuses
                                                                 or []):
        state, last = status.state, status.last_state
        if state and state.waiting:
            why = _because(state.waiting.reason, state.waiting.message)[:160]
            if last and last.terminated:
                why += f" (last exit {last.terminated.exit_code}: {last.terminated.reason})"
            said.append(f"{status.name}: {why}")
        elif state and state.terminated and state.terminated.exit_code:
            said.append(f"{status.name}: terminated {state.terminated.reason} "
                        f"(exit {state.terminated.exit_code})")
        elif state and state.running and not status.ready:
            said.append(f"{status.name}: running, not ready")
    return said


def _warnings(events: Sequence[client.CoreV1Event], limit: int = WARNINGS_PER_OBJECT
              ) -> list[str]:
    found = [e for e in events if e.type == "Warning"]
    found.sort(key=lambda e: str(e.last_timestamp or e.event_time or ""), reverse=True)
    return [_because(e.reason, e.message)[:160] for e in found[:limit]]


def pod_line(pod: client.V1Pod, node: client.V1Node | None = None,
             events: Sequence[client.CoreV1Event] = (),
             claims: Sequence[tuple[client.V1PersistentVolumeClaim,
                                    Sequence[client.CoreV1Event]]] = ()) -> str:
    """`redis-sfs-0 Pending: Unschedulable: 0/3 nodes are available: ...; PVC
    data-redis-sfs-0 Pending (ProvisioningFailed: ...)`, and so on for each state; `claims`
    are the pod's PVCs, each with its events."""
    name, phase = pod.metadata.name, pod.status.phase or "Unknown"
    parts: list[str] = []
    scheduled = _condition(pod.status.conditions, "PodScheduled")
    if scheduled is not None and scheduled.status != "True":
        parts.append(_because(scheduled.reason, scheduled.message)[:240])
    if pod.status.reason or pod.status.message:
        parts.append(_because(pod.status.reason, pod.status.message)[:200])
    parts += _containers(pod)
    ready = _condition(pod.status.conditions, "Ready")
    if phase == "Running" and ready is not None and ready.status != "True" and \
            not _containers(pod):
        why = _because(ready.reason, ready.message)
        parts.append(f"not ready: {why}"[:160] if why else "not ready")
    for claim, claim_events in claims:
        why = _warnings(claim_events, 1)
        parts.append(f"PVC {claim.metadata.name} {claim.status.phase}"
                     + (f" ({why[0]})" if why else ""))
    if phase == "Pending" and not pod.spec.node_name and scheduled is None:
        parts.append("not yet seen by any scheduler (no PodScheduled condition)")
    if pod.spec.node_name:
        where = f"on {pod.spec.node_name}"
        if node is not None and not node_line(node).split(" ", 2)[2].startswith("Ready"):
            where += f" ({node_line(node).split(' ', 2)[2]})"
        parts.append(where)
    if pod.metadata.deletion_timestamp:
        parts.append(f"terminating since {pod.metadata.deletion_timestamp:%H:%M:%S}")
    parts += [f"warning {w}" for w in _warnings(events)]
    return f"{name} {phase}" + (": " + "; ".join(parts) if parts else "")


def workload_line(obj: object) -> str:
    """`Deployment redis-deployment: desired 1, current 1, ready 0, updated 1;
    Available=False (MinimumReplicasUnavailable)` for a Deployment, ReplicaSet or
    StatefulSet."""
    kind = type(obj).__name__.removeprefix("V1")
    s = obj.status  # type: ignore[attr-defined]
    counts = (f"desired {obj.spec.replicas}, current {s.replicas or 0}, "  # type: ignore[attr-defined]
              f"ready {s.ready_replicas or 0}")
    if hasattr(s, "updated_replicas"):
        counts += f", updated {s.updated_replicas or 0}"
    bad = [f"{c.type}={c.status} ({_because(c.reason, c.message)[:120]})"
           for c in s.conditions or [] if c.status != "True" or c.type == "ReplicaFailure"]
    generation = obj.metadata.generation  # type: ignore[attr-defined]
    if generation and (s.observed_generation or 0) < generation:
        # No controller has acted on its latest spec: its controller is not running.
        bad.insert(0, f"its controller has not seen generation {generation} "
                      f"(observedGeneration {s.observed_generation or 0})")
    return (f"{kind} {obj.metadata.name}: {counts}"  # type: ignore[attr-defined]
            + (f"; {'; '.join(bad)}" if bad else ""))


def service_line(service: client.V1Service, slices: Sequence[client.V1EndpointSlice]) -> str:
    """`Service redis-sfs (headless): ready endpoints none; not ready 10.244.1.4
    (redis-sfs-0)`, or `no EndpointSlice: its selector app=x matches no pod`."""
    spec = service.spec
    address = "headless" if spec.cluster_ip == "None" else spec.cluster_ip
    head = f"Service {service.metadata.name} ({address})"
    if not slices:
        selector = ",".join(f"{k}={v}" for k, v in (spec.selector or {}).items())
        return f"{head}: no EndpointSlice (selector {selector or 'none'})"
    ready, not_ready = [], []
    for endpoint in (e for s in slices for e in s.endpoints or []):
        target = endpoint.target_ref.name if endpoint.target_ref else "?"
        shown = f"{','.join(endpoint.addresses)} ({target})"
        (ready if endpoint.conditions and endpoint.conditions.ready else not_ready).append(shown)
    line = f"{head}: ready endpoints {', '.join(ready) or 'none'}"
    return line + (f"; not ready {', '.join(not_ready)}" if not_ready else "")


def _deduplicated(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if out and out[-1].split(" (x")[0] == line:
            count = int(out[-1].rsplit("(x", 1)[1][:-1]) + 1 if "(x" in out[-1] else 2
            out[-1] = f"{line} (x{count})"
        else:
            out.append(line)
    return out


def exec_failure(pod: str, command: Sequence[str], returncode: int | None, output: str,
                 timeout: float) -> str:
    """What a failed command in a pod means for the claim, in one line, then the first
    lines of its output (repeats folded)."""
    shown = " ".join(command)
    text = output.strip()
    lower = text.lower()
    if returncode is None:
        meaning = f"the command hung: no answer within {timeout:.0f} s"
    elif m := re.search(r"could not connect to redis at (\S+): (.+)", text, re.I):
        meaning = f"the connection to {m.group(1)} fails: {m.group(2).strip()}"
    elif "connection refused" in lower:
        meaning = "the connection is refused"
    elif (tuple(command[:1]) == ("getent",) and returncode == 2
          or "name or service not known" in lower or "could not resolve" in lower):
        meaning = f"the name {command[-1]} does not resolve"
    elif "timed out" in lower or "timeout" in lower:
        meaning = "the connection timed out"
    elif "container not found" in lower or "not found" in lower and "pod" in lower:
        meaning = "the pod or its container is gone"
    else:
        meaning = f"it exited {returncode}"
    lines = _deduplicated([line.strip() for line in text.splitlines() if line.strip()])
    said = f"{pod}: `{shown}`: {meaning}"
    return said + "".join(f"\n  {line[:200]}" for line in lines[:OUTPUT_LINES])


class Diagnose:
    """The objects behind a wait, fetched and said in one line each. Never raises: what
    cannot be fetched is said instead."""

    def __init__(self, api: client.ApiClient) -> None:
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.discovery = client.DiscoveryV1Api(api)

    def _safe(self, what: str, fetch: object) -> list[str]:
        try:
            return fetch()  # type: ignore[operator]
        except (ApiException, OSError, ValueError) as exc:
            return [f"({what}: cannot read it: {type(exc).__name__})"]

    def _pod(self, pod: client.V1Pod, nodes: dict[str, client.V1Node]) -> str:
        namespace = pod.metadata.namespace
        events = self.core.list_namespaced_event(
            namespace, field_selector=f"involvedObject.kind=Pod,involvedObject.name="
                                      f"{pod.metadata.name}").items
        claims = []
        pending = pod.status.phase == "Pending"
        for volume in (pod.spec.volumes or []) if pending else []:
            if volume.persistent_volume_claim:
                name = volume.persistent_volume_claim.claim_name
                claims.append((self.core.read_namespaced_persistent_volume_claim(name, namespace),
                               self.core.list_namespaced_event(
                                   namespace, field_selector="involvedObject.kind="
                                   f"PersistentVolumeClaim,involvedObject.name={name}").items))
        return pod_line(pod, nodes.get(pod.spec.node_name or ""), events, claims)

    def pods(self, namespace: str, selector: str | None = None, expected: int = 0
             ) -> list[str]:
        """Each pod (of `selector`, else of the namespace) and the workloads that own pods
        there. Where fewer pods exist than `expected` (a wait for pods that did not appear),
        the workloads come first: their counts say who should have made them."""
        def fetch() -> list[str]:
            pods = self.core.list_namespaced_pod(namespace, label_selector=selector or "").items
            nodes = {n.metadata.name: n for n in self.core.list_node().items}
            lines = [self._pod(p, nodes) for p in pods]
            owners = self.workloads(namespace) or [f"no workload in {namespace}"]
            if not lines:
                what = f"no pod {selector} in {namespace}" if selector else f"no pod in {namespace}"
                return [f"{what}; {owners[0]}", *owners[1:]]
            return [*owners, *lines] if len(pods) < expected else [*lines, *owners]
        return self._safe(f"pods of {namespace}", fetch)

    def pod(self, namespace: str, name: str) -> str:
        def fetch() -> list[str]:
            try:
                pod = self.core.read_namespaced_pod(name, namespace)
            except ApiException as exc:
                if exc.status == 404:
                    return [f"{name} absent"]
                raise
            nodes = {n.metadata.name: n for n in self.core.list_node().items}
            return [self._pod(pod, nodes)]
        return self._safe(f"pod {name}", fetch)[0]

    def workloads(self, namespace: str) -> list[str]:
        def fetch() -> list[str]:
            # The pods' own owners first (ReplicaSets, StatefulSets), then the Deployments.
            found: list[object] = [rs for rs in self.apps.list_namespaced_replica_set(
                namespace).items if rs.spec.replicas]
            found += [*self.apps.list_namespaced_stateful_set(namespace).items,
                      *self.apps.list_namespaced_deployment(namespace).items]
            return [workload_line(w) for w in found]
        return self._safe(f"workloads of {namespace}", fetch)

    def service(self, namespace: str, name: str) -> str:
        def fetch() -> list[str]:
            service = self.core.read_namespaced_service(name, namespace)
            slices = self.discovery.list_namespaced_endpoint_slice(
                namespace, label_selector=f"kubernetes.io/service-name={name}").items
            return [service_line(service, slices)]
        return self._safe(f"Service {name}", fetch)[0]

    def nodes(self) -> list[str]:
        return self._safe("nodes", lambda: [node_line(n) for n in self.core.list_node().items])

    def node(self, name: str) -> str:
        return self._safe(f"node {name}", lambda: [node_line(self.core.read_node(name))])[0]
