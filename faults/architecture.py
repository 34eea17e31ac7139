"""The Python faults of suites/test_architecture.py (section I); the others are declared
in faults/catalogue.yaml."""

import shutil
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tutorial_conformance.faults import actions as act
from tutorial_conformance.faults import static_pods
from tutorial_conformance.faults.actions import fault_manifest
from tutorial_conformance.faults.context import FaultContext, FaultError
from tutorial_conformance.faults.leftovers import DOCKER_ON_NODE
from tutorial_conformance.faults.registry import fault
from tutorial_conformance.faults.static_pods import BACKUPS
from tutorial_conformance.toolkit.commands import node_exec
from tutorial_conformance.toolkit.credentials import UNISSUED_TOKEN
from tutorial_conformance.toolkit.timeouts import INTERVALS, TIMEOUTS
from tutorial_conformance.toolkit.waiting import wait_until


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


fault("arch-node-runtime-docker")(docker_on_worker)
fault("pod-is-docker-process")(docker_on_worker)


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
            return bool(mine), " ".join(mine) or f"no connection of pid {pid}"
        ctx.note("connected to etcd: " + wait_until("etcdctl to connect to etcd", connected,
                                                    timeout=TIMEOUTS.short))
        yield
    finally:
        ctx.node(node, "kill", pid, check=False)

        def gone() -> tuple[bool, str]:
            alive = node_exec(node, "sh", "-c", f"kill -0 {pid} 2>/dev/null && echo yes || echo no")
            return alive.strip() == "no", f"pid {pid} alive: {alive.strip()}"
        wait_until(f"etcdctl (pid {pid}) to end", gone, timeout=TIMEOUTS.short)
        ctx.node(node, "rm", "-f", pidfile)


def status_of(ctx: FaultContext, path: str, token: str | None = None) -> int:
    """The HTTP status the apiserver answers a GET of `path` with (0: no answer)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"{ctx.api.configuration.host}{path}",  # noqa: S310
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, context=context,  # noqa: S310
                                    timeout=TIMEOUTS.http) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0  # the apiserver restarting


TOKEN_FILE = "/etc/kubernetes/pki/tutorial-suite-fault-tokens.csv"  # mounted in the apiserver
SECRETS = "/api/v1/namespaces/kube-system/secrets"


@fault("arch-apiserver-authenticates")
def unverified_requests_served(ctx: FaultContext) -> Iterator[None]:
    node = ctx.control_plane
    ctx.node(node, "sh", "-c", f"echo '{UNISSUED_TOKEN},intruder,intruder,system:masters' > "
                               f"{TOKEN_FILE}")

    def edit(pod_manifest: dict) -> None:
        pod_manifest["spec"]["containers"][0]["command"].append(f"--token-auth-file={TOKEN_FILE}")

    def answered(what: str, path: str, token: str | None, codes: tuple[int, ...]) -> None:
        status = wait_until(what, lambda: (status_of(ctx, path, token) in codes,
                                           f"HTTP {status_of(ctx, path, token)}"),
                            timeout=TIMEOUTS.slow_start, interval=INTERVALS.slow)
        ctx.note(f"{what}: {status}")

    try:
        with act.labelled(ctx, "clusterrolebinding", "tutorial-suite-fault-anonymous-admin",
                          fault_manifest("anonymous-cluster-admin.yaml")), \
                static_pods.static_pod_edited(ctx, "kube-apiserver", edit, "a static token file"):
            answered("an anonymous request to be served", SECRETS, None, (200,))
            answered("the unissued token to be accepted", "/api/v1/namespaces", UNISSUED_TOKEN,
                     (200,))
            yield
        answered("the unissued token to be refused again", "/api/v1/namespaces", UNISSUED_TOKEN,
                 (401,))
    finally:
        ctx.node(node, "rm", "-f", TOKEN_FILE, check=False)
    answered("anonymous requests to be refused again", SECRETS, None, (401, 403))
