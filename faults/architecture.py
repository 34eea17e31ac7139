"""The faults of suites/test_architecture.py (section I): for each of its claims,
what makes the claim false on the real cluster (faults.registry.fault)."""

import shutil
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from faults import actions as act
from faults import static_pods
from faults.actions import Rule, fault_manifest
from faults.common import pod
from faults.context import FaultContext, FaultError, command
from faults.leftovers import DOCKER_ON_NODE
from faults.registry import fault
from faults.static_pods import BACKUPS
from toolkit.commands import node_exec
from toolkit.credentials import UNISSUED_TOKEN
from toolkit.nodes import is_ready
from toolkit.timeouts import TIMEOUTS
from toolkit.waiting import wait_until


@fault("arch-control-plane-components")
def scheduler_removed(ctx: FaultContext) -> Iterator[None]:
    with static_pods.static_pod_removed(ctx, "kube-scheduler"):
        yield


@fault("arch-node-components")
def kubelet_stopped(ctx: FaultContext) -> Iterator[None]:
    node = ctx.workers[-1]

    def ready(expected: bool) -> tuple[bool, str]:
        found = ctx.core.read_node(node)
        state = {c.type: c.status for c in found.status.conditions or []}.get("Ready")
        return is_ready(found) == expected, f"Ready={state}"

    ctx.node(node, "systemctl", "stop", "kubelet")
    try:
        wait_until(f"{node} to be NotReady", lambda: ready(False),
                   timeout=TIMEOUTS.node_change, interval=2)
        ctx.note(f"{node} is NotReady: its kubelet no longer reports")
        yield
    finally:
        ctx.node(node, "systemctl", "start", "kubelet")
        wait_until(f"{node} to be Ready again", lambda: ready(True),
                   timeout=TIMEOUTS.node_change, interval=2)


@fault("arch-node-runtime-docker", "pod-is-docker-process")
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


@fault("arch-only-apiserver-talks-to-etcd")
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
        ctx.note("connected to etcd: " + wait_until("etcdctl to connect to etcd", connected,
                                                    timeout=TIMEOUTS.short))
        yield
    finally:
        ctx.node(node, "kill", pid, check=False)

        def gone() -> tuple[bool, str]:
            alive = node_exec(node, "sh", "-c", f"kill -0 {pid} 2>/dev/null && echo yes || echo no")
            return alive.strip() == "no", alive
        wait_until(f"etcdctl (pid {pid}) to end", gone, timeout=TIMEOUTS.short)
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


TOKEN_FILE = "/etc/kubernetes/pki/tutorial-suite-fault-tokens.csv"  # mounted in the apiserver


def token_status(ctx: FaultContext) -> int:
    url = f"{ctx.api.configuration.host}/api/v1/namespaces"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {UNISSUED_TOKEN}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, context=context, timeout=15) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0  # the apiserver restarting


@fault("arch-apiserver-authenticates")
def unverified_requests_served(ctx: FaultContext) -> Iterator[None]:
    binding = fault_manifest("anonymous-cluster-admin.yaml")
    node = ctx.control_plane
    ctx.node(node, "sh", "-c", f"echo '{UNISSUED_TOKEN},intruder,intruder,system:masters' > "
                               f"{TOKEN_FILE}")

    def edit(pod_manifest: dict) -> None:
        pod_manifest["spec"]["containers"][0]["command"].append(f"--token-auth-file={TOKEN_FILE}")

    try:
        with act.labelled(ctx, "clusterrolebinding", "tutorial-suite-fault-anonymous-admin",
                          binding), \
                static_pods.static_pod_edited(ctx, "kube-apiserver", edit, "a static token file"):
            status = wait_until("an anonymous request to be served",
                                lambda: (anonymous_get(ctx) == 200, anonymous_get(ctx)),
                                timeout=TIMEOUTS.slow_start, interval=2)
            ctx.note(f"anonymous GET of kube-system's secrets: HTTP {status}")
            status = wait_until("the unissued token to be accepted",
                                lambda: (token_status(ctx) == 200, token_status(ctx)),
                                timeout=TIMEOUTS.slow_start, interval=2)
            ctx.note(f"GET with the token nobody issued: HTTP {status}")
            yield
        wait_until("the unissued token to be refused again",
                   lambda: (token_status(ctx) == 401, token_status(ctx)),
                   timeout=TIMEOUTS.slow_start, interval=2)
    finally:
        ctx.node(node, "rm", "-f", TOKEN_FILE, check=False)
    wait_until("anonymous requests to be refused again",
               lambda: (anonymous_get(ctx) in (401, 403), anonymous_get(ctx)),
               timeout=TIMEOUTS.short)


@fault("arch-apiserver-talks-to-kubelet")
def kubelet_port_cut(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        node = pod(ctx, "redis").spec.node_name
        master = ctx.core.read_node(ctx.control_plane)
        source = next(a.address for a in master.status.addresses if a.type == "InternalIP")
        rule = Rule(node, "filter", "INPUT", ("-s", source, "-p", "tcp", "--dport", "10250",
                                              "-j", "REJECT", "--reject-with", "tcp-reset"))
        ctx.stack.enter_context(act.rules_applied(ctx, [rule]))
        ctx.note(f"{node} rejects {source} on the kubelet's port 10250")

    ctx.before(command("get", "--raw"), "the control plane cut off from the pod's kubelet",
               strike)
    yield


@fault("arch-kubelet-restarts-containers")
def kubelet_stopped_after_exit(ctx: FaultContext) -> Iterator[None]:
    def strike(_: tuple[str, ...]) -> None:
        node = pod(ctx, "redis").spec.node_name
        ctx.node(node, "systemctl", "stop", "kubelet")
        ctx.note(f"kubelet stopped on {node}")

        def restart() -> None:
            ctx.node(node, "systemctl", "start", "kubelet")
            wait_until(f"{node} to be Ready again",
                       lambda: (is_ready(ctx.core.read_node(node)), node),
                       timeout=TIMEOUTS.node_change, interval=2)

        ctx.stack.callback(restart)

    ctx.before(command("exec", "shutdown"), "no kubelet on the pod's node", strike)
    yield


@fault("arch-apps-on-workers")
def control_plane_untainted(ctx: FaultContext) -> Iterator[None]:
    taint = "node-role.kubernetes.io/control-plane:NoSchedule"
    ctx.kubectl("taint", "nodes", ctx.control_plane, f"{taint}-")
    ctx.note(f"{ctx.control_plane} without its {taint} taint")
    try:
        yield
    finally:
        ctx.kubectl("taint", "nodes", ctx.control_plane, taint, "--overwrite", check=False)


@fault("arch-kube-proxy-uses-ipvs",
       tests=("test_kube_proxy_runs_in_iptables_mode_not_ipvs",),
       untargeted="test_services_work_in_ipvs_mode_where_the_kernel_has_ipvs builds a one-node "
                  "IPVS cluster of its own (and skips where the kernel has no IPVS, as here): "
                  "no fault of this cluster reaches it")
def kube_proxy_nftables(ctx: FaultContext) -> Iterator[None]:
    with act.kube_proxy_mode(ctx, "nftables", "arch-kube-proxy-uses-ipvs"):
        yield
