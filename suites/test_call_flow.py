"""Section IV, "k8s component calling process": what happens after
`kubectl create deployment redis-deployment --image=redis`."""

import re
import time
from collections.abc import Callable

import pytest
from kubernetes import client

from tutorial_conformance.toolkit.commands import node_exec
from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.control_plane import audit_events, audit_line, etcdctl
from tutorial_conformance.toolkit.deployments import wait_ready_pods
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.tutorial import printed
from tutorial_conformance.toolkit.waiting import wait_until, watch_until

NAME = "redis-deployment"
COMPONENTS = ("system:kube-controller-manager", "system:kube-scheduler")
# etcd's metrics on the control-plane node (kubeadm's --listen-metrics-urls), and the lines
# that count what it serves: Range requests (a list) and watchers.
ETCD_METRICS = "http://127.0.0.1:2381/metrics"
ETCD_SERVED = re.compile(r'^(grpc_server_handled_total\{[^}]*grpc_method="Range"[^}]*\}|'
                         r"etcd_debugging_mvcc_watcher_total) (\S+)$", re.M)


def create_deployment(t: TestContext) -> None:
    with t.step("kubectl create deployment redis-deployment --image=redis"):
        t.kubectl("create", "deployment", NAME, "--image=redis", "-n", t.namespace)


def first_added(t: TestContext, list_fn: Callable[..., object], since: str) -> str:
    """Watches from `since`, as an informer resumes after its list, until an object is
    ADDED; returns its name."""
    kind = list_fn.__name__.removeprefix("list_namespaced_").title().replace("_", "")
    events = watch_until(f"a {kind} to be ADDED", list_fn, t.namespace, since,
                         lambda e: e["type"] == "ADDED", timeout=TIMEOUTS.sync,
                         diagnose=lambda: t.diagnose.pods(t.namespace, expected=1))
    return events[-1]["object"].metadata.name


@pytest.mark.claim("flow-list-watch")
def test_a_watch_sees_the_deployment_replicaset_and_pod_appear(t: TestContext):
    with t.step("list the Deployments"):
        listed = t.apps.list_namespaced_deployment(t.namespace)  # the "list" of list-watch
    assert listed.items == []
    since = listed.metadata.resource_version
    create_deployment(t)
    with t.step("watch from the list's resourceVersion"):
        seen = {
            "Deployment": first_added(t, t.apps.list_namespaced_deployment, since),
            "ReplicaSet": first_added(t, t.apps.list_namespaced_replica_set, since),
            "Pod": first_added(t, t.core.list_namespaced_pod, since),
        }
        t.evidence.add("ADDED events seen by watches from the list's resourceVersion", str(seen))
    assert seen["Deployment"] == NAME
    assert seen["ReplicaSet"].startswith(f"{NAME}-")
    assert seen["Pod"].startswith(seen["ReplicaSet"] + "-")


@pytest.mark.claim("flow-list-watch")
def test_list_gives_the_objects_now_and_watch_the_changes_after_it(t: TestContext):
    """Not "list = current state, watch = expected state": a list returns the objects as
    stored now, each with its desired state (spec) and observed state (status), and a
    resourceVersion; a watch from there returns only what changed after it."""
    with t.step("list a Deployment made before"):
        t.kubectl("create", "deployment", "listed-first", "--image=redis", "-n", t.namespace)
        listed = t.apps.list_namespaced_deployment(t.namespace)
    (first,) = listed.items
    assert first.spec.replicas == 1 and first.status is not None
    since = listed.metadata.resource_version
    create_deployment(t)
    with t.step("kubectl scale deployment redis-deployment --replicas=2"):
        t.kubectl("scale", "deployment", NAME, "--replicas=2", "-n", t.namespace)
    def observed(event: dict) -> bool:
        d = event["object"]
        return (d.metadata.name == NAME and d.spec.replicas == 2
                and d.status.observed_generation == d.metadata.generation)

    with t.step("watch from the list's resourceVersion"):
        seen = watch_until(f"{NAME}'s 2 replicas observed (status.observedGeneration)",
                           t.apps.list_namespaced_deployment, t.namespace, since, observed,
                           timeout=TIMEOUTS.sync,
                           diagnose=lambda: t.diagnose.pods(t.namespace, expected=3))
    events = [(e["type"], e["object"].metadata.name, e["object"].spec.replicas,
               e["object"].status.observed_generation, e["object"].metadata.generation)
              for e in seen]
    t.evidence.add("watch events from the list's resourceVersion "
                 "(type, name, spec.replicas, status.observedGeneration, generation)",
                 "\n".join(map(str, events)))
    assert ("ADDED", NAME) in [e[:2] for e in events], "the creation after the list"
    # The listed object is not sent again: the watch is the changes after the list.
    assert all(name != "listed-first" or kind != "ADDED" for kind, name, *_ in events)
    # The same stream carries desired-state changes (spec) and observed ones (status).
    assert {"MODIFIED"} <= {kind for kind, *_ in events}


def list_and_watch(events: list[dict], user: str) -> dict[str, int]:
    """How a component got the current state (LIST requests, or streaming lists: watches
    with sendInitialEvents=true, which client-go's informers send instead of a LIST where
    the WatchListClient feature is on) and followed its changes (watches)."""
    mine = [e for e in events if e["user"]["username"] == user]
    streaming = [e for e in mine if e["verb"] == "watch"
                 and "sendInitialEvents=true" in e.get("requestURI", "")]
    return {"list": sum(e["verb"] == "list" for e in mine), "streaming list": len(streaming),
            "watch": sum(e["verb"] == "watch" for e in mine)}


@pytest.mark.claim("flow-components-list-watch")
def test_the_controller_manager_scheduler_and_kubelets_list_and_watch(t: TestContext):
    if t.cluster.kind_name is None:
        pytest.skip("reads the apiserver's audit log inside the kind control-plane node")
    master = f"{t.cluster.kind_name}-control-plane"
    nodes = [n.metadata.name for n in t.core.list_node().items]
    with t.step("the components' requests in the apiserver's audit log"):
        events = audit_events(master)
        users = [*COMPONENTS, *(f"system:node:{n}" for n in nodes)]
        seen = {u: list_and_watch(events, u) for u in users}
    t.evidence.add("each component's requests in the apiserver's audit log (a streaming list is "
                 "a WATCH with sendInitialEvents=true: the list as the watch's first events)",
                 "\n".join(f"{u}: {counts}" for u, counts in seen.items()))
    for user, counts in seen.items():
        assert counts["watch"] and (counts["list"] or counts["streaming list"]), \
            f"{user} does not list and watch: {counts}"

    # A pod created now reaches the scheduler through its watch: bound with no new list.
    before = len(events)
    with t.step("kubectl run watched --image=redis"):
        t.kubectl("run", "watched", "--image=redis", "-n", t.namespace)

    def bindings_of_watched() -> list[dict]:
        return [e for e in audit_events(master)[before:] if e["verb"] == "create"
                and e.get("objectRef", {}).get("subresource") == "binding"
                and e["objectRef"].get("name") == "watched"
                and e["objectRef"].get("namespace") == t.namespace]

    def binding_logged() -> tuple[bool, str]:
        found = bindings_of_watched()
        pod = t.core.read_namespaced_pod("watched", t.namespace)
        return bool(found), f"no binding logged; pod watched on node {pod.spec.node_name}"

    with t.step("the scheduler binds it, seen through its watch"):
        wait_until("the binding of pod watched in the audit log", binding_logged,
                   timeout=TIMEOUTS.api_change,
                   diagnose=lambda: [*t.diagnose.pods("kube-system",
                                                      "component=kube-scheduler", expected=1),
                                     t.diagnose.pod(t.namespace, "watched")])
        bindings, new = bindings_of_watched(), audit_events(master)[before:]
    t.evidence.add("the audit log from the pod's creation to its binding",
                 "\n".join(audit_line(e) for e in new))
    assert bindings[0]["user"]["username"] == "system:kube-scheduler"
    relists = [e for e in new if e["user"]["username"] == "system:kube-scheduler"
               and e["verb"] == "list" and e.get("objectRef", {}).get("resource") == "pods"]
    assert not relists, f"the scheduler listed pods again: {[audit_line(e) for e in relists]}"

    # The apiserver's own list-watch is of etcd, which only it connects to
    # (arch-only-apiserver-talks-to-etcd): its watch cache lists (Range) then watches.
    with t.step("etcd's Range requests and watchers (its metrics on the control-plane node)"):
        served = ETCD_SERVED.findall(node_exec(master, "curl", "-s", "--max-time", "5",
                                               ETCD_METRICS))
        t.evidence.add(f"curl {ETCD_METRICS} on {master} (Range and watcher lines)",
                       "\n".join(f"{k} {v}" for k, v in served))
    ranges = sum(float(v) for k, v in served if "Range" in k)
    watchers = sum(float(v) for k, v in served if k == "etcd_debugging_mvcc_watcher_total")
    assert ranges > 0 and watchers > 0, \
        f"etcd serves the apiserver no list-watch: {ranges:.0f} Range requests, {watchers:.0f} " \
        f"watchers ({len(served)} metric lines)"


@pytest.mark.claim("flow-stored-in-etcd")
def test_the_created_deployment_is_stored_in_etcd(t: TestContext):
    create_deployment(t)
    key = f"/registry/deployments/{t.namespace}/{NAME}"
    with t.step("etcdctl get /registry/deployments/NAMESPACE/redis-deployment"):
        keys = etcdctl(t.kubectl, t.core, "get", key, "--keys-only")
        assert keys.strip() == key, f"etcd has no key {key}: {keys.strip() or 'nothing'}"
        # The value is the object, protobuf-encoded: its name and image are in it.
        value = etcdctl(t.kubectl, t.core, "get", key, "--print-value-only")
    assert NAME in value and "redis" in value


@pytest.mark.claim("flow-deployment-replicaset-pod")
def test_controllers_scheduler_and_kubelet_act_in_order(t: TestContext):
    create_deployment(t)
    (pod,) = wait_ready_pods(t.core, t.namespace, f"app={NAME}", 1)
    with t.step("kubectl get events --sort-by=.metadata.creationTimestamp"):
        t.kubectl("get", "events", "-n", t.namespace, "--sort-by=.metadata.creationTimestamp")
        events = t.core.list_namespaced_event(t.namespace).items

    rs_name = pod.metadata.owner_references[0].name
    rs = t.apps.read_namespaced_replica_set(rs_name, t.namespace)
    assert rs.metadata.owner_references[0].name == NAME

    def when(kind: str, name: str, reason: str, source: str) -> int:
        matching = [
            e for e in events
            if (e.involved_object.kind, e.involved_object.name, e.reason) == (kind, name, reason)
        ]
        assert matching, f"no {reason} event for {kind}/{name}"
        event = matching[0]
        component = event.reporting_component or event.source.component
        assert component == source, f"{reason} reported by {component}, expected {source}"
        stamp = event.event_time or event.first_timestamp or event.metadata.creation_timestamp
        return int(stamp.timestamp())  # legacy events carry whole seconds only

    steps = [
        when("Deployment", NAME, "ScalingReplicaSet", "deployment-controller"),
        when("ReplicaSet", rs_name, "SuccessfulCreate", "replicaset-controller"),
        when("Pod", pod.metadata.name, "Scheduled", "default-scheduler"),
        when("Pod", pod.metadata.name, "Pulling", "kubelet"),
        when("Pod", pod.metadata.name, "Pulled", "kubelet"),
        when("Pod", pod.metadata.name, "Started", "kubelet"),
    ]
    t.evidence.add("event times (deployment, replicaset, scheduler, pull, pulled, started)",
                   str(steps))
    # At one-second resolution the order may tie, but it must never go backwards.
    assert steps == sorted(steps)
    assert pod.spec.node_name
    # What kubelet "pulls up" is a container of its CRI runtime, not a docker.
    (status,) = pod.status.container_statuses
    t.evidence.add(f"pod {pod.metadata.name} container", status.container_id)
    assert status.container_id.startswith("containerd://")


@pytest.mark.claim("flow-create-command-as-printed")
def test_the_create_command_as_printed_is_refused(t: TestContext):
    printed_command = "kubectl create deployment redis deployment -- Image = redis"
    assert printed_command in printed(119, 119)
    argv = printed_command.split()[1:]
    with t.step("kubectl create deployment redis deployment -- Image = redis (as printed)",
                argv=argv) as step:
        # (-n first: after `--` every word is the container's command)
        refused = t.kubectl.run("-n", t.namespace, *step.inputs["argv"], check=False)
    assert refused.returncode != 0, f"kubectl accepted {printed_command!r}: {refused.stdout}"
    assert t.apps.list_namespaced_deployment(t.namespace).items == []
    assert 'required flag(s) "image" not set' in refused.stderr, refused.stderr
    with t.step("kubectl create deployment redis-deployment --image=redis (line 78)"):
        assert t.kubectl("create", "deployment", "redis-deployment", "--image=redis", "-n",
                         t.namespace).strip() == "deployment.apps/redis-deployment created"


@pytest.mark.claim("flow-three-components")
def test_the_master_is_three_components_and_kubelet_heartbeats_are_node_leases(t: TestContext):
    coordination = client.CoordinationV1Api(t.api)
    with t.step("kubectl get leases -n kube-system"):
        t.kubectl("get", "leases", "-n", "kube-system")
        leases = coordination.list_namespaced_lease("kube-system").items
    holders = {lease.metadata.name: lease.spec.holder_identity for lease in leases}
    # Each of the three runs as its own process: the scheduler and the controller manager
    # elect their leader with a Lease each; every apiserver keeps an identity Lease.
    for component in ("kube-scheduler", "kube-controller-manager"):
        assert holders.get(component), f"no {component} holds its Lease: {sorted(holders)}"
    identities = [lease for lease in leases if (lease.metadata.labels or {}).get(
        "apiserver.kubernetes.io/identity") == "kube-apiserver"]
    assert identities, f"no kube-apiserver identity Lease in kube-system: {sorted(holders)}"

    nodes = sorted(n.metadata.name for n in t.core.list_node().items)
    with t.step("kubectl get leases -n kube-node-lease (twice)"):
        t.kubectl("get", "leases", "-n", "kube-node-lease")
        first = {lease.metadata.name: lease.spec.renew_time
                 for lease in coordination.list_namespaced_lease("kube-node-lease").items}
        assert sorted(first) == nodes, f"Node Leases {sorted(first)}, nodes {nodes}"
        started = time.monotonic()
        renewed: dict[str, float] = {}

        def all_renewed() -> tuple[bool, str]:
            for lease in coordination.list_namespaced_lease("kube-node-lease").items:
                name = lease.metadata.name
                if name not in renewed and lease.spec.renew_time != first.get(name):
                    renewed[name] = time.monotonic() - started
            stale = [n for n in nodes if n not in renewed]
            return not stale, f"Node Leases not renewed since the first read: {stale}"

        wait_until("every kubelet to renew its Node Lease (its heartbeat)", all_renewed,
                   timeout=TIMEOUTS.api_change,
                   diagnose=lambda: [t.diagnose.node(n) for n in nodes if n not in renewed])
    for name, seconds in sorted(renewed.items()):
        t.evidence.measure(f"{name}'s Node Lease renewed after the first read", seconds)
