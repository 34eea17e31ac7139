"""One fault per testable claim of suites/claims.yaml: what makes that claim false on the
real cluster. Each is applied once the test's fixtures are up and undone before they are
torn down; faults about objects the test itself creates strike at the moment the claim is
at stake, just before or after one of the test's own kubectl commands (ctx.before/after).

Where the claim is about an object as written (a manifest the test applies), the fault
is that manifest altered (ctx.override_manifest); every other fault is on the cluster.
"""

import json
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml
from kubernetes import client

from faults import actions as act
from faults.actions import BACKUPS, Rule
from faults.context import FaultContext, FaultError, command
from faults.health import DOCKER_ON_NODE, KIND_VERSION_BACKUP, SCHEDULER_CONFIG
from faults.registry import EXEMPT, FAULTS, fault
from fixtures.manifests import manifest
from fixtures.nodes import is_ready, node_exec
from fixtures.operator import DEPLOYMENT, IMAGE, NAMESPACE, load_image
from fixtures.pods import is_running_and_ready
from fixtures.toolchain import find_binary, pinned
from fixtures.waiting import wait_until

__all__ = ["EXEMPT", "FAULTS"]

TEST_NET = "192.0.2.10"  # RFC 5737 documentation address: nobody's
OPERATOR_ROLE = "memcached-operator-manager-role"
OPERATOR_SA = (NAMESPACE, "memcached-operator-controller-manager")
CACHE_GROUP = "cache.tutorial.example"


def pod(ctx: FaultContext, name: str) -> client.V1Pod:
    return ctx.core.read_namespaced_pod(name, ctx.namespace)


def pod_exec(ctx: FaultContext, pod_name: str, *cmd: str, container: str | None = None,
              check: bool = False) -> str:
    """A command in one of the test's pods, as the fault's own (not the test's) kubectl."""
    where = ["-c", container] if container else []
    return ctx.kubectl("exec", "-n", ctx.namespace, pod_name, *where, "--", *cmd, check=check)


# -- I. Architecture ------------------------------------------------------------------
@fault("arch-control-plane-components",
       summary="kube-scheduler's static-pod manifest moved out of /etc/kubernetes/manifests on "
               "the control-plane node: kubelet stops the scheduler, its mirror pod goes")
def scheduler_removed(ctx: FaultContext) -> Iterator[None]:
    with act.static_pod_removed(ctx, "kube-scheduler"):
        yield


@fault("arch-node-components",
       summary="kubelet stopped on a worker (`systemctl stop kubelet` in its node container) "
               "until the node goes NotReady")
def kubelet_stopped(ctx: FaultContext) -> Iterator[None]:
    node = ctx.workers[-1]

    def ready(expected: bool) -> tuple[bool, str]:
        found = ctx.core.read_node(node)
        state = {c.type: c.status for c in found.status.conditions or []}.get("Ready")
        return is_ready(found) == expected, f"Ready={state}"

    ctx.node(node, "systemctl", "stop", "kubelet")
    try:
        wait_until(f"{node} to be NotReady", lambda: ready(False), timeout=150, interval=2)
        ctx.note(f"{node} is NotReady: its kubelet no longer reports")
        yield
    finally:
        ctx.node(node, "systemctl", "start", "kubelet")
        wait_until(f"{node} to be Ready again", lambda: ready(True), timeout=150, interval=2)


@fault("arch-node-runtime-docker", "pod-is-docker-process",
       summary="Docker installed on a worker: the host's docker and dockerd binaries copied "
               "into its /usr/local/bin")
def docker_on_worker(ctx: FaultContext) -> Iterator[None]:
    node = f"{ctx.kind_name}-worker"
    found = [(shutil.which(Path(target).name), target) for target in DOCKER_ON_NODE]
    copies = [(source, target) for source, target in found if source]
    if not copies:
        raise FaultError("no docker binary on this host to install on the node")
    try:
        for source, target in copies:
            ctx.docker("cp", "-L", source, f"{node}:{target}")
        ctx.note(f"on {node}: " + node_exec(node, "sh", "-c", "command -v dockerd docker").strip())
        yield
    finally:
        ctx.node(node, "rm", "-f", *(target for _, target in copies))


@fault("arch-only-apiserver-talks-to-etcd",
       summary="a process other than the apiserver connected to etcd: etcdctl watching a key "
               "from the control-plane node, with etcd's client certificate")
def etcd_client(ctx: FaultContext) -> Iterator[None]:
    node = ctx.control_plane
    etcd = node_exec(node, "crictl", "ps", "--state", "running", "--name", "^etcd$", "-q").split()
    if not etcd:
        raise FaultError("no running etcd container")
    etcd_pid = node_exec(node, "crictl", "inspect", "-o", "go-template", "--template",
                     "{{.info.pid}}", etcd[0]).strip()
    etcdctl = f"/proc/{etcd_pid}/root/usr/local/bin/etcdctl"  # etcd's image's own etcdctl
    pki = "/etc/kubernetes/pki/etcd"
    pidfile = f"{BACKUPS}/etcdctl.pid"
    ctx.node(node, "mkdir", "-p", BACKUPS)
    ctx.node(node, "sh", "-c",
             f"nohup {etcdctl} --endpoints=https://127.0.0.1:2379 --cacert={pki}/ca.crt "
             f"--cert={pki}/healthcheck-client.crt --key={pki}/healthcheck-client.key "
             f"watch --prefix /tutorial-suite-fault >/dev/null 2>&1 & echo $! > {pidfile}")
    pid = node_exec(node, "cat", pidfile).strip()
    try:
        def connected() -> tuple[bool, str]:
            out = node_exec(node, "ss", "-Htnp", "state", "established", "( dport = :2379 )")
            mine = [line.strip() for line in out.splitlines() if f'"etcdctl",pid={pid},' in line]
            return bool(mine), " ".join(mine)
        ctx.note("connected to etcd: " + wait_until("etcdctl to connect to etcd", connected, 30))
        yield
    finally:
        ctx.node(node, "kill", pid, check=False)

        def gone() -> tuple[bool, str]:
            alive = node_exec(node, "sh", "-c", f"kill -0 {pid} 2>/dev/null && echo yes || echo no")
            return alive.strip() == "no", alive
        wait_until(f"etcdctl (pid {pid}) to end", gone, 30)
        ctx.node(node, "rm", "-f", pidfile)


def anonymous_get(ctx: FaultContext) -> int:
    url = f"{ctx.api.configuration.host}/api/v1/namespaces/kube-system/secrets"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, context=context, timeout=15) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


@fault("arch-apiserver-authenticates",
       summary="anonymous requests authorized: system:anonymous bound to cluster-admin "
               "(a ClusterRoleBinding)")
def anonymous_admin(ctx: FaultContext) -> Iterator[None]:
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                      "name": "system:anonymous"}],
    }
    with act.labelled(ctx, "clusterrolebinding", "tutorial-suite-fault-anonymous-admin", binding):
        status = wait_until("an anonymous request to be served",
                            lambda: (anonymous_get(ctx) == 200, anonymous_get(ctx)), 30)
        ctx.note(f"anonymous GET of kube-system's secrets: HTTP {status}")
        yield
    wait_until("anonymous requests to be refused again",
               lambda: (anonymous_get(ctx) in (401, 403), anonymous_get(ctx)), 30)


@fault("arch-kube-proxy-uses-ipvs",
       summary="kube-proxy configured and restarted in another mode than iptables (nftables, "
               "in its kube-system/kube-proxy ConfigMap)",
       tests=("test_kube_proxy_runs_in_iptables_mode_not_ipvs",),
       untargeted="test_services_work_in_ipvs_mode_where_the_kernel_has_ipvs builds a one-node "
                  "IPVS cluster of its own (and skips where the kernel has no IPVS, as here): "
                  "no fault of this cluster reaches it")
def kube_proxy_nftables(ctx: FaultContext) -> Iterator[None]:
    with act.kube_proxy_mode(ctx, "nftables", "arch-kube-proxy-uses-ipvs"):
        yield


# -- II. Building a cluster ----------------------------------------------------------
def other_apiserver_image(version: str) -> str | None:
    """A kube-apiserver image of another version on the host (the offline toolchain builds
    one per Kubernetes version), preferring the next minor."""
    out = subprocess.run(["docker", "images", "registry.k8s.io/kube-apiserver", "--format",
                          "{{.Tag}}"], capture_output=True, text=True, check=False,
                         timeout=60).stdout
    tags = sorted({t for t in out.split() if t.startswith("v1.") and t != version},
                  key=lambda t: (abs(minor(t) - minor(version)), minor(t) < minor(version)))
    return f"registry.k8s.io/kube-apiserver:{tags[0]}" if tags else None


def minor(version: str) -> int:
    return int(version.lstrip("v").split(".")[1])


@fault("cluster-kubectl-version",
       summary="the apiserver of another version than the node image's: kube-apiserver's "
               "static pod switched to another version's image (the host's other build, with "
               "--emulated-version of the cluster's); where the host has none, the node "
               "image's recorded version (/kind/version) changed instead",
       tests=("test_kubectl_version_reports_the_node_image_kubernetes_version",),
       untargeted="test_kubectl_version_prints_plain_versions_not_version_info checks the "
                  "format kubectl itself prints, which no cluster fault changes")
def apiserver_of_another_version(ctx: FaultContext) -> Iterator[None]:
    node = ctx.control_plane
    version = node_exec(node, "cat", "/kind/version").strip()
    image = other_apiserver_image(version)
    if image is None:
        ctx.note("no kube-apiserver image of another version on this host: changing the node "
                 "image's recorded version instead")
        ctx.node(node, "mkdir", "-p", BACKUPS)
        ctx.node(node, "cp", "/kind/version", KIND_VERSION_BACKUP)
        try:
            ctx.node(node, "sh", "-c", f"echo v1.{minor(version) + 1}.0 > /kind/version")
            yield
        finally:
            ctx.node(node, "sh", "-c", f"cp {KIND_VERSION_BACKUP} /kind/version && "
                                       f"rm {KIND_VERSION_BACKUP}")
        return
    other = image.rsplit(":", 1)[1]

    def load() -> None:
        ctx.note(f"loading {image} into {node}")
        run_checked(str(find_binary("kind")), "load", "docker-image", image,
                         "--name", ctx.kind_name, "--nodes", node)

    def edit(pod_manifest: dict) -> None:
        container = pod_manifest["spec"]["containers"][0]
        container["image"] = image
        if minor(other) > minor(version):  # newer: emulate ours, so that going back is safe
            container["command"].append(f"--emulated-version=1.{minor(version)}")

    def serving(expected: str) -> tuple[bool, str]:
        served = client.VersionApi(ctx.api).get_code().git_version
        return served == expected, served

    try:
        with act.static_pod_edited(ctx, "kube-apiserver", edit, f"image {image}",
                                   before_write=load):
            wait_until(f"the apiserver to serve {other}", lambda: serving(other), 240, 2)
            ctx.note(f"the apiserver serves {other}; the node image is {version}")
            yield
        wait_until(f"the apiserver to serve {version} again", lambda: serving(version), 240, 2)
    finally:
        ctx.node(node, "crictl", "rmi", image, check=False)


def run_checked(*argv: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise FaultError(f"{' '.join(argv)}: {proc.stderr.strip()}")


# -- III. Redis: Pod, Deployment, YAML -------------------------------------------------
@fault("redis-kubectl-run",
       summary="the redis image not pullable: the registry mirror (kind-registry) and any "
               "registry on tcp/443 rejected by iptables in every node's network namespace "
               "(the shared registry container itself untouched)")
def registry_unreachable(ctx: FaultContext) -> Iterator[None]:
    registry, port = pinned("REGISTRY_NAME"), pinned("REGISTRY_PORT")
    reject = ("-j", "REJECT", "--reject-with", "tcp-reset")
    rules = []
    for node in ctx.nodes:
        v4, v6 = act.addresses(node, registry)
        rules += [Rule(node, "filter", "OUTPUT", ("-p", "tcp", "-d", a, *reject)) for a in v4]
        rules += [Rule(node, "filter", "OUTPUT", ("-p", "tcp", "-d", a, *reject), "ip6tables")
                  for a in v6]
        rules += [Rule(node, "filter", "OUTPUT", ("-p", "tcp", "--dport", "443", *reject), b)
                  for b in ("iptables", "ip6tables")]
    with act.rules_applied(ctx, rules):
        for node in ctx.nodes:
            out = ctx.node(node, "sh", "-c", f"curl -s -m 5 http://{registry}:{port}/v2/ "
                                             "&& echo reachable || echo unreachable")
            if out.strip().endswith("reachable") and "unreachable" not in out:
                raise FaultError(f"{node} still reaches {registry}")
        ctx.note(f"{registry}:{port} unreachable from every node")
        yield


@fault("redis-exec-ping",
       summary="no redis-server listening in the pod: `CONFIG SET port 0` sent to it just "
               "before the test's `redis-cli ping`")
def redis_not_listening(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        pod_exec(ctx, "redis", "redis-cli", "CONFIG", "SET", "port", "0", check=True)
        if pod_exec(ctx, "redis", "sh", "-c", "redis-cli ping || true").strip() == "PONG":
            raise FaultError("redis still answers on its port")

    ctx.before(command("exec", "redis", "redis-cli", "ping"),
               "redis-server stops listening on tcp (CONFIG SET port 0)", strike)
    yield


@fault("pod-shares-network",
       summary="the collector no longer reaching Redis on localhost: iptables in the pod's "
               "network namespace rejects loopback connections to port 6379")
def loopback_cut(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        node, pid = act.container_pid(ctx, pod(ctx, "redis-with-collector"), "redis")
        rule = Rule(node, "filter", "INPUT", ("-i", "lo", "-p", "tcp", "--dport", "6379", "-j",
                                              "REJECT", "--reject-with", "tcp-reset"),
                    netns_of=pid)
        ctx.stack.enter_context(act.rules_applied(ctx, [rule]))

    ctx.before(command("exec", "redis-with-collector", "log-collector", "redis-cli", "ping"),
               "loopback to 6379 rejected in the pod's network namespace", strike)
    yield


@fault("pod-shares-volume",
       summary="the collector's /logs no longer the volume Redis writes its log to: an empty "
               "tmpfs mounted over it in the collector's mount namespace")
def collector_volume_replaced(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        node, pid = act.container_pid(ctx, pod(ctx, "redis-with-collector"), "log-collector")
        ctx.node(node, "nsenter", "-t", pid, "-m", "mount", "-t", "tmpfs", "-o", "ro,size=1m",
                 "tutorial-suite-fault", "/logs")
        ctx.stack.callback(ctx.node, node, "nsenter", "-t", pid, "-m", "umount", "/logs",
                           check=False)
        listing = pod_exec(ctx, "redis-with-collector", "ls", "-A", "/logs",
                            container="log-collector")
        ctx.note(f"the collector's /logs now holds: {listing.split() or 'nothing'}")

    ctx.before(command("exec", "redis-with-collector", "log-collector", "cat", "/logs/redis.log"),
               "an empty tmpfs over the collector's /logs", strike)
    yield


SCHEDULER_IGNORING_MEMORY = """\
# A scheduler that places pods as if memory were no object: NodeResourcesFit filters no
# node out, and scores prefer the node already most allocated.
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: /etc/kubernetes/scheduler.conf
leaderElection:
  leaderElect: true
profiles:
  - schedulerName: default-scheduler
    plugins:
      filter:
        disabled:
          - name: NodeResourcesFit
      score:
        disabled:
          - name: "*"
        enabled:
          - name: NodeResourcesFit
            weight: 1
    pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy:
            type: MostAllocated
            resources:
              - name: memory
                weight: 1
"""


@fault("pod-scheduling-unit",
       summary="a scheduler blind to memory: kube-scheduler restarted with a configuration "
               "whose NodeResourcesFit filters nothing out (and scores prefer the fullest "
               "node), so pods go where their containers do not fit")
def scheduler_ignoring_memory(ctx: FaultContext) -> Iterator[None]:
    node = ctx.control_plane

    def edit(pod_manifest: dict) -> None:
        spec = pod_manifest["spec"]
        spec["containers"][0]["command"].append(f"--config={SCHEDULER_CONFIG}")
        spec["containers"][0]["volumeMounts"].append(
            {"name": "fault-config", "mountPath": SCHEDULER_CONFIG, "readOnly": True})
        spec["volumes"].append(
            {"name": "fault-config", "hostPath": {"path": SCHEDULER_CONFIG, "type": "File"}})

    act.write_node_file(ctx, node, SCHEDULER_CONFIG, SCHEDULER_IGNORING_MEMORY)
    try:
        with act.static_pod_edited(ctx, "kube-scheduler", edit,
                                   f"--config={SCHEDULER_CONFIG} (NodeResourcesFit off)"):
            yield
    finally:
        ctx.node(node, "rm", "-f", SCHEDULER_CONFIG)


def adopter(labels: dict[str, str]) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "redis", "image": "redis"}]}}},
    }


@fault("pod-bare-not-replaced",
       summary="a controller owning the bare pod: a ReplicaSet whose selector matches it "
               "(run=redis) adopts it right after `kubectl run`, and would recreate it")
def bare_pod_adopted(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        ctx.stack.enter_context(act.labelled(ctx, "replicaset", "fault-adopter",
                                             adopter({"run": "redis"}), ctx.namespace))

        def adopted() -> tuple[bool, object]:
            owners = pod(ctx, "redis").metadata.owner_references or []
            return any(o.kind == "ReplicaSet" and o.controller for o in owners), owners

        owners = wait_until("the ReplicaSet to adopt pod redis", adopted, 60)
        ctx.note(f"pod redis is now owned: {[(o.kind, o.name) for o in owners]}")

    ctx.after(command("run", "redis"), "a ReplicaSet adopts pod redis", strike)
    yield


@fault("deployment-replaces-deleted-pod",
       summary="the ReplicaSet controller not running: kube-controller-manager stopped (its "
               "manifest moved out) just before the test deletes the Deployment's pod")
def controller_manager_stopped_before_delete(ctx: FaultContext) -> Iterator[None]:
    ctx.before(command("delete", "pod"), "kube-controller-manager stopped",
               lambda _: ctx.stack.enter_context(
                   act.static_pod_removed(ctx, "kube-controller-manager")))
    yield


@fault("deployment-uses-replicaset",
       summary="ReplicaSets not kept at their replica count: kube-controller-manager "
               "restarted with --controllers=...,-replicaset-controller")
def replicaset_controller_off(ctx: FaultContext) -> Iterator[None]:
    with act.controller_manager(ctx, off=("replicaset-controller",)):
        yield


@fault("deployment-survives-node-failure",
       summary="the pod not replaced while its node is down: the ReplicaSet controller "
               "disabled (kube-controller-manager --controllers=...,-replicaset-controller) "
               "once the Deployment's pod runs")
def replicaset_controller_off_before_failure(ctx: FaultContext) -> Iterator[None]:
    ctx.after(command("run", "redis"), "kube-controller-manager without its ReplicaSet "
              "controller", lambda _: ctx.stack.enter_context(
                  act.controller_manager(ctx, off=("replicaset-controller",))))
    yield


@fault("pod-bound-to-its-node",
       summary="a controller recreating the bare pod elsewhere: while its node is down, the "
               "pod is force-deleted and recreated under its name on the other worker, as a "
               "descheduler would",
       tests=("test_a_deployment_pod_moves_off_a_failed_node_while_a_bare_pod_is_evicted",),
       untargeted="test_a_pods_binding_to_its_node_cannot_change checks the apiserver's "
                  "validation of spec.nodeName and of Bindings, which no cluster fault changes")
def bare_pod_moved(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        node = pod(ctx, "redis").spec.node_name
        ready = [n.metadata.name for n in ctx.core.list_node().items
                 if is_ready(n) and n.metadata.name != node
                 and "node-role.kubernetes.io/control-plane" not in n.metadata.labels]
        if not ready:
            raise FaultError("no other ready worker to move the pod to")
        ctx.kubectl("delete", "pod", "redis", "-n", ctx.namespace, "--grace-period=0",
                    "--force", "--wait=true")
        ctx.kubectl("run", "redis", "--image=redis", "-n", ctx.namespace,
                    f"--overrides={json.dumps({'spec': {'nodeName': ready[0]}})}")
        ctx.note(f"pod redis moved from {node} to {ready[0]}")

    ctx.before(command("get", "pods", "-o", "wide"), "the bare pod moved to another node",
               strike)
    yield


@fault("yaml-create-equals-run",
       summary="pod.yaml's pod differing from `kubectl run`'s: its container's image changed "
               "to memcached")
def pod_yaml_differs(ctx: FaultContext) -> Iterator[None]:
    text = Path(manifest("redis/pod.yaml")).read_text()
    ctx.override_manifest("redis/pod.yaml", text.replace("image: redis", "image: memcached"),
                          "pod.yaml with another image")
    yield


@fault("yaml-as-printed",
       summary="the printed pod.yaml valid after all: the file as printed replaced by one "
               "with its metadata and spec/containers keys")
def printed_pod_yaml_fixed(ctx: FaultContext) -> Iterator[None]:
    ctx.override_manifest("redis/pod-as-printed.yaml",
                          Path(manifest("redis/pod.yaml")).read_text(),
                          "the printed pod.yaml with its lost keys restored")
    yield


# -- IV. Component call flow ----------------------------------------------------------
@fault("flow-list-watch",
       summary="no controller following the Deployment through its watch: "
               "kube-controller-manager restarted with --controllers=...,-deployment-controller")
def deployment_controller_off(ctx: FaultContext) -> Iterator[None]:
    with act.controller_manager(ctx, off=("deployment-controller",)):
        yield


@fault("flow-stored-in-etcd",
       summary="the authenticated request refused before storage, so nothing reaches etcd: "
               "a ResourceQuota of zero Deployments in the test's namespace")
def deployments_refused(ctx: FaultContext) -> Iterator[None]:
    quota = {"apiVersion": "v1", "kind": "ResourceQuota",
             "spec": {"hard": {"count/deployments.apps": "0"}}}
    with act.labelled(ctx, "resourcequota", "fault-no-deployments", quota, ctx.namespace):
        def enforced() -> tuple[bool, object]:
            status = ctx.core.read_namespaced_resource_quota(
                "fault-no-deployments", ctx.namespace).status
            return bool(status and status.hard), status and status.hard
        wait_until("the quota to be enforced", enforced, 60)
        yield


@fault("flow-deployment-replicaset-pod",
       summary="the scheduler's step missing: kube-scheduler stopped (its manifest moved out) "
               "and the test's pods bound to a worker by hand through the Binding API")
def pods_bound_without_scheduler(ctx: FaultContext) -> Iterator[None]:
    namespace, target = ctx.namespace, f"{ctx.kind_name}-worker"

    def bind(stop: object) -> None:
        core = client.CoreV1Api(ctx.new_api())
        while not stop.wait(0.5):  # type: ignore[attr-defined]
            for waiting in core.list_namespaced_pod(namespace).items:
                if waiting.spec.node_name or waiting.metadata.deletion_timestamp:
                    continue
                body = client.V1Binding(
                    metadata=client.V1ObjectMeta(name=waiting.metadata.name),
                    target=client.V1ObjectReference(api_version="v1", kind="Node", name=target))
                core.create_namespaced_binding(namespace, body, _preload_content=False)
                ctx.note(f"pod {waiting.metadata.name} bound to {target} by hand")

    with act.static_pod_removed(ctx, "kube-scheduler"), \
            ctx.watching(f"pods of {namespace} to bind by hand", bind):
        yield


# -- V. StatefulSet, headless Service, replication -------------------------------------
def statefulset(edit: Callable[[dict], None]) -> str:
    doc = yaml.safe_load(Path(manifest("redis-sfs/statefulset.yaml")).read_text())
    edit(doc)
    return yaml.safe_dump(doc, sort_keys=False)


@fault("sfs-ordinal-names",
       summary="pods named otherwise: the same pod template applied as a Deployment instead "
               "of a StatefulSet")
def statefulset_as_deployment(ctx: FaultContext) -> Iterator[None]:
    def edit(doc: dict) -> None:
        doc["kind"] = "Deployment"
        del doc["spec"]["serviceName"]

    ctx.override_manifest("redis-sfs/statefulset.yaml", statefulset(edit),
                          "the StatefulSet's template under a Deployment")
    yield


@fault("sfs-ordered-creation",
       summary="podManagementPolicy: Parallel in the StatefulSet as applied: redis-sfs-1 is "
               "created before redis-sfs-0 is Ready")
def statefulset_parallel(ctx: FaultContext) -> Iterator[None]:
    def edit(doc: dict) -> None:
        doc["spec"]["podManagementPolicy"] = "Parallel"

    ctx.override_manifest("redis-sfs/statefulset.yaml", statefulset(edit),
                          "the StatefulSet with podManagementPolicy: Parallel")
    yield


@fault("sfs-hostname-ordinal",
       summary="pods whose hostname is not their name: their UTS hostname changed (nsenter "
               "-u hostname) before the test reads it")
def hostnames_changed(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        for name in ("redis-sfs-0", "redis-sfs-1"):
            node, pid = act.container_pid(ctx, pod(ctx, name))
            ctx.node(node, "nsenter", "-t", pid, "-u", "hostname", "renamed-by-fault")
            ctx.note(f"{name}'s hostname now: "
                     f"{pod_exec(ctx, name, 'hostname', check=True).strip()}")

    ctx.before(command("exec", "--", "hostname"), "the pods' hostnames changed", strike)
    yield


@fault("sfs-script-master-replica",
       summary="the script's branches swapped in the StatefulSet as applied: ordinal 0 gets "
               "`slaveof redis-sfs-0.redis-sfs`, ordinal 1 an empty config")
def script_branches_swapped(ctx: FaultContext) -> Iterator[None]:
    master = "echo > /tmp/redis.conf"
    replica = 'echo "slaveof redis-sfs-0.redis-sfs 6379" > /tmp/redis.conf'

    def edit(doc: dict) -> None:
        command_ = doc["spec"]["template"]["spec"]["containers"][0]["command"]
        script = command_[-1]
        if master not in script or replica not in script:
            raise FaultError("the StatefulSet's script changed: cannot swap its branches")
        command_[-1] = script.replace(master, "\0").replace(replica, master).replace("\0",
                                                                                      replica)

    ctx.override_manifest("redis-sfs/statefulset.yaml", statefulset(edit),
                          "the script's master and replica branches swapped")
    yield


@fault("sfs-yaml-as-printed",
       summary="the printed server.yaml valid after all: the file as printed replaced by one "
               "with its lost keys and else/fi")
def printed_statefulset_fixed(ctx: FaultContext) -> Iterator[None]:
    ctx.override_manifest("redis-sfs/statefulset-as-printed.yaml",
                          Path(manifest("redis-sfs/statefulset.yaml")).read_text(),
                          "the printed server.yaml with its lost keys restored")
    yield


@fault("sfs-replica-needs-service",
       summary="the master's DNS name resolvable without the headless Service: a CoreDNS "
               "hosts entry for redis-sfs-0.redis-sfs.<namespace>.svc.cluster.local, to an "
               "address the nodes DNAT to redis-sfs-0's pod IP")
def master_reachable_without_service(ctx: FaultContext) -> Iterator[None]:
    namespace = ctx.namespace
    name = f"redis-sfs-0.redis-sfs.{namespace}.svc.cluster.local"
    applied: list[Rule] = []

    def forward(stop: object) -> None:
        core = client.CoreV1Api(ctx.new_api())
        while not stop.wait(0.2):  # type: ignore[attr-defined]
            try:
                ip = core.read_namespaced_pod("redis-sfs-0", namespace).status.pod_ip
            except client.exceptions.ApiException:
                continue
            if ip:
                for node in ctx.nodes:
                    rule = Rule(node, "nat", "PREROUTING",
                                ("-d", TEST_NET, "-p", "tcp", "--dport", "6379", "-j", "DNAT",
                                 "--to-destination", f"{ip}:6379"))
                    ctx.node(node, *rule.argv("-I"))
                    applied.append(rule)
                ctx.note(f"{TEST_NET}:6379 forwarded to redis-sfs-0 ({ip}) on every node")
                return

    try:
        with act.coredns_hosts(ctx, {name: TEST_NET}, "sfs-replica-needs-service"), \
                ctx.watching("redis-sfs-0's address, to forward to it", forward):
            yield
    finally:
        for rule in applied:
            ctx.node(rule.node, *rule.argv("-D"), check=False)


@fault("svc-headless-no-cluster-ip",
       summary="the Service given a cluster IP: service.yaml applied without clusterIP: None")
def service_not_headless(ctx: FaultContext) -> Iterator[None]:
    doc = yaml.safe_load(Path(manifest("redis-sfs/service.yaml")).read_text())
    del doc["spec"]["clusterIP"]
    ctx.override_manifest("redis-sfs/service.yaml", yaml.safe_dump(doc, sort_keys=False),
                          "the Service without clusterIP: None")
    yield


@fault("svc-headless-pod-dns",
       summary="CoreDNS answering redis-sfs-0's name with another address: a hosts entry "
               f"({TEST_NET}) ahead of its kubernetes plugin")
def dns_answers_wrong_address(ctx: FaultContext) -> Iterator[None]:
    name = f"redis-sfs-0.redis-sfs.{ctx.namespace}.svc.cluster.local"
    with act.coredns_hosts(ctx, {name: TEST_NET}, "svc-headless-pod-dns"):
        yield


@fault("svc-vip-spreads",
       summary="every connection reaching one pod: the Service switched to sessionAffinity: "
               "ClientIP right after the test creates it")
def service_sticky(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        ctx.kubectl("patch", "service", "redis-vip", "-n", ctx.namespace, "-p",
                    json.dumps({"spec": {"sessionAffinity": "ClientIP"}}))

    ctx.after(command("create", "*deployment-with-service.yaml"),
              "the Service made sticky (sessionAffinity: ClientIP)", strike)
    yield


@fault("sfs-replica-syncs",
       summary="a write not replicated: the replication link cut (iptables DROP between "
               "redis-sfs-1 and the master, in redis-sfs-1's network namespace) after the "
               "first sync")
def replication_cut(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        master_ip = pod(ctx, "redis-sfs-0").status.pod_ip
        node, pid = act.container_pid(ctx, pod(ctx, "redis-sfs-1"))
        rules = [Rule(node, "filter", "INPUT", ("-s", master_ip, "-j", "DROP"), netns_of=pid),
                 Rule(node, "filter", "OUTPUT", ("-d", master_ip, "-j", "DROP"), netns_of=pid)]
        ctx.stack.enter_context(act.rules_applied(ctx, rules))

    ctx.before(command("exec", "redis-sfs-0", "SET", "tutorial", "synced"),
               "redis-sfs-1 cut off from its master", strike)
    yield


@fault("sfs-deleted-pod-same-name",
       summary="the pod not recreated: the StatefulSet controller disabled "
               "(kube-controller-manager --controllers=...,-statefulset-controller) before the "
               "test deletes redis-sfs-0")
def statefulset_controller_off(ctx: FaultContext) -> Iterator[None]:
    ctx.before(command("delete", "pod", "redis-sfs-0"), "kube-controller-manager without its "
               "StatefulSet controller", lambda _: ctx.stack.enter_context(
                   act.controller_manager(ctx, off=("statefulset-controller",))))
    yield


@fault("sfs-pod-keeps-storage",
       summary="the pod bound to a new volume: its PersistentVolumeClaim deleted just before "
               "the pod, so the StatefulSet makes a new claim (and volume) for it")
def claim_deleted(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        ctx.kubectl("delete", "pvc", "data-redis-sfs-0", "-n", ctx.namespace, "--wait=false")
        claim = ctx.core.read_namespaced_persistent_volume_claim("data-redis-sfs-0",
                                                                 ctx.namespace)
        ctx.note(f"claim data-redis-sfs-0 (volume {claim.spec.volume_name}) terminating, "
                 "held by its pod until the pod goes")

    ctx.before(command("delete", "pod", "redis-sfs-0"), "redis-sfs-0's claim deleted", strike)
    yield


def sentinels_know_each_other(ctx: FaultContext) -> tuple[bool, list[str]]:
    seen = []
    for index in range(3):
        name = f"redis-sentinel-{index}"
        replicas = quiet_exec(ctx, name, "SENTINEL", "replicas", "mymaster")
        sentinels = quiet_exec(ctx, name, "SENTINEL", "sentinels", "mymaster")
        seen.append(f"{name}: replicas={replicas.count('runid')} "
                    f"sentinels={sentinels.count('runid')}")
        if replicas.count("runid") < 1 or sentinels.count("runid") < 2:
            return False, seen
    return True, seen


def quiet_exec(ctx: FaultContext, pod_name: str, *args: str) -> str:
    return ctx.cluster.kubectl("exec", "-n", ctx.namespace, pod_name, "--", "redis-cli", "-p",
                               "26379", *args)


@fault("sfs-no-failover",
       summary="something promoting the replica: three Redis Sentinels (quorum 2, master down "
               "after 1 s) deployed next to the StatefulSet before its master goes down")
def sentinels_deployed(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        text = Path(manifest("redis-sentinel/sentinel.yaml")).read_text()
        fast = text.replace("down-after-milliseconds mymaster 5000",
                            "down-after-milliseconds mymaster 1000")
        ctx.kubectl("create", "-n", ctx.namespace, "-f", "-", stdin=fast)

        def ready() -> tuple[bool, list[str]]:
            pods = ctx.core.list_namespaced_pod(ctx.namespace,
                                                label_selector="app=redis-sentinel").items
            states = [p.metadata.name for p in pods if is_running_and_ready(p)]
            return len(states) == 3, states

        wait_until("three Sentinels to be ready", ready, 180, 2)
        seen = wait_until("the Sentinels to know the replica and each other",
                          lambda: sentinels_know_each_other(ctx), 120, 2)
        ctx.note(f"Sentinels watch redis-sfs-0: {seen}")

    ctx.after(command("exec", "redis-sfs-1", "CONFIG", "SET", "repl-timeout"),
              "Redis Sentinel deployed", strike)
    yield


@fault("sentinel-failover",
       summary="no quorum of Sentinels: their quorum raised above their number (SENTINEL SET "
               "mymaster quorum 4, with three Sentinels)")
def sentinel_quorum_unreachable(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        for index in range(3):
            name = f"redis-sentinel-{index}"
            out = quiet_exec(ctx, name, "SENTINEL", "SET", "mymaster", "quorum", "4")
            if out.strip() != "OK":
                raise FaultError(f"{name}: SENTINEL SET answered {out.strip()!r}")
            master = quiet_exec(ctx, name, "SENTINEL", "master", "mymaster").split()
            ctx.note(f"{name}: quorum {master[master.index('quorum') + 1]}")

    ctx.before(command("exec", "redis-sentinel-0", "SENTINEL", "replicas", "mymaster"),
               "the Sentinels' quorum raised to 4", strike)
    yield


# -- VI. The Memcached operator --------------------------------------------------------
def operator_pods(ctx: FaultContext) -> list[client.V1Pod]:
    return ctx.core.list_namespaced_pod(NAMESPACE,
                                        label_selector="control-plane=controller-manager").items


def operator_ready(ctx: FaultContext) -> tuple[bool, str]:
    dep = ctx.apps.read_namespaced_deployment(DEPLOYMENT, NAMESPACE)
    ready = [p.metadata.name for p in operator_pods(ctx)
             if is_running_and_ready(p) and not p.metadata.deletion_timestamp]
    return dep.status.ready_replicas == 1 and len(ready) == 1, f"ready pods {ready}"


@fault("op-crd-and-operator-ready",
       summary="the operator image missing: removed from every node (crictl rmi) and the "
               "manager's pod restarted, which cannot pull it (Deployment 0/1)")
def operator_image_missing(ctx: FaultContext) -> Iterator[None]:
    ref = f"docker.io/{IMAGE}"
    ctx.kubectl("scale", "deployment", DEPLOYMENT, "-n", NAMESPACE, "--replicas=0")
    try:
        wait_until("the operator's pod to go", lambda: (not operator_pods(ctx), "pods left"),
                   120, 2)
        for node in ctx.nodes:
            ctx.node(node, "crictl", "rmi", ref, check=False)
        ctx.kubectl("scale", "deployment", DEPLOYMENT, "-n", NAMESPACE, "--replicas=1")

        def cannot_pull() -> tuple[bool, list[str]]:
            reasons = [s.state.waiting.reason for p in operator_pods(ctx)
                       for s in p.status.container_statuses or [] if s.state.waiting]
            return bool({"ErrImagePull", "ImagePullBackOff"} & set(reasons)), reasons

        ctx.note("the manager's pod: " + str(wait_until("the manager not to find its image",
                                                        cannot_pull, 120, 2)))
        yield
    finally:
        load_image(ctx.kind_name)
        ctx.note(f"{IMAGE} loaded into the nodes again")
        ctx.kubectl("delete", "pod", "-n", NAMESPACE, "-l", "control-plane=controller-manager",
                    "--wait=false")
        wait_until("the operator to be ready again", lambda: operator_ready(ctx), 180, 2)


@fault("op-sample-creates-deployment",
       summary="the operator unable to create Deployments: `create` on deployments removed "
               "from its ClusterRole")
def operator_cannot_create(ctx: FaultContext) -> Iterator[None]:
    with act.cluster_role_without(ctx, OPERATOR_ROLE, OPERATOR_SA, "apps", "deployments",
                                  ("create",)):
        yield


@fault("op-status-nodes",
       summary="the operator unable to update status: `patch` and `update` on "
               "memcacheds/status removed from its ClusterRole")
def operator_cannot_update_status(ctx: FaultContext) -> Iterator[None]:
    with act.cluster_role_without(ctx, OPERATOR_ROLE, OPERATOR_SA, CACHE_GROUP,
                                  "memcacheds/status", ("patch", "update")):
        yield


@fault("op-reconciles",
       summary="the operator unable to change its Deployments: `patch` and `update` on "
               "deployments removed from its ClusterRole (it still creates them)")
def operator_cannot_patch(ctx: FaultContext) -> Iterator[None]:
    with act.cluster_role_without(ctx, OPERATOR_ROLE, OPERATOR_SA, "apps", "deployments",
                                  ("patch", "update")):
        yield


@fault("op-garbage-collects",
       summary="no garbage collection: kube-controller-manager restarted with "
               "--enable-garbage-collector=false")
def garbage_collector_off(ctx: FaultContext) -> Iterator[None]:
    with act.controller_manager(ctx, "--enable-garbage-collector=false"):
        yield


@fault("op-restart-converges",
       summary="no reconciliation after the restart: `list` and `watch` on memcacheds removed "
               "from the operator's ClusterRole just before the test restarts it, so the new "
               "manager never syncs its cache")
def restarted_operator_blind(ctx: FaultContext) -> Iterator[None]:
    ctx.before(command("delete", "pod", NAMESPACE), "the operator loses list/watch on "
               "memcacheds", lambda _: ctx.stack.enter_context(act.cluster_role_without(
                   ctx, OPERATOR_ROLE, OPERATOR_SA, CACHE_GROUP, "memcacheds",
                   ("list", "watch"))))
    yield
    # The restarted manager may have given up on its cache: start it afresh.
    ctx.kubectl("delete", "pod", "-n", NAMESPACE, "-l", "control-plane=controller-manager",
                "--wait=false")
    wait_until("the operator to be ready again", lambda: operator_ready(ctx), 180, 2)


def invalid_accepted(ctx: FaultContext) -> bool:
    proc = ctx.cluster.kubectl.run("create", "--dry-run=server", "-n", "default", "-f",
                                   manifest("memcached/invalid-negative-size.yaml"), check=False)
    return proc.returncode == 0


@fault("op-rejects-invalid",
       summary="a CRD without validation: the Memcached CRD's schema replaced by "
               "x-kubernetes-preserve-unknown-fields (no types, no minimum)")
def crd_without_validation(ctx: FaultContext) -> Iterator[None]:
    name = f"memcacheds.{CACHE_GROUP}"
    crd = json.loads(ctx.kubectl("get", "crd", name, "-o", "json"))
    original = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    path = "/spec/versions/0/schema/openAPIV3Schema"
    loose = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    ctx.kubectl("patch", "crd", name, "--type=json",
                "-p", json.dumps([{"op": "replace", "path": path, "value": loose}]))
    try:
        wait_until("an invalid Memcached to be accepted", lambda: (invalid_accepted(ctx), ""), 60)
        ctx.note("a Memcached of size -1 is accepted (server-side dry run)")
        yield
    finally:
        ctx.kubectl("patch", "crd", name, "--type=json",
                    "-p", json.dumps([{"op": "replace", "path": path, "value": original}]))
        wait_until("invalid Memcacheds to be refused again",
                   lambda: (not invalid_accepted(ctx), ""), 60)
from faults import operator_workflow, operator_workflow_deploy  # noqa: E402,F401  (section VI)
