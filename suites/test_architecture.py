"""Section I, "k8s architecture": what runs on the master and on the nodes."""

import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from kubernetes import client

from tutorial_conformance.toolkit.commands import node_exec
from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.credentials import UNISSUED_TOKEN, foreign_client_certificate
from tutorial_conformance.toolkit.deployments import wait_ready_pods
from tutorial_conformance.toolkit.nodes import control_plane_nodes, is_ready
from tutorial_conformance.toolkit.pods import (
    is_running_and_ready,
    record_pod,
    wait_running_and_ready,
)
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.waiting import Unrecoverable, wait_until

CONTROL_PLANE_COMPONENTS = {"kube-apiserver", "kube-scheduler", "kube-controller-manager", "etcd"}


def control_plane_pods(core: client.CoreV1Api) -> dict[str, client.V1Pod]:
    master = control_plane_nodes(core)[0].metadata.name
    pods = core.list_namespaced_pod(
        "kube-system", label_selector="tier=control-plane", field_selector=f"spec.nodeName={master}"
    ).items
    return {p.metadata.labels.get("component"): p for p in pods}


def insecure_context() -> ssl.SSLContext:
    """TLS to our own apiserver without checking its certificate (what is tested is
    whether it serves the request)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def http_get(url: str, context: ssl.SSLContext, headers: dict[str, str] | None = None
             ) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - our apiserver
    try:
        with urllib.request.urlopen(request, context=context,  # noqa: S310
                                    timeout=TIMEOUTS.http) as answer:
            return answer.status, answer.read().decode()[:300]
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()[:300]


@pytest.mark.claim("arch-control-plane-components")
def test_control_plane_runs_apiserver_scheduler_controller_manager_and_etcd(t: TestContext):
    with t.step("kubectl get pods -n kube-system -l tier=control-plane"):
        assert control_plane_nodes(t.core), "no node carries the control-plane role"
        t.kubectl("get", "pods", "-n", "kube-system", "-l", "tier=control-plane", "-o", "wide")
        pods = control_plane_pods(t.core)
    running = {name for name, pod in pods.items() if is_running_and_ready(pod)}
    missing = sorted(CONTROL_PLANE_COMPONENTS - running)
    assert not missing, "missing or not ready on the control plane: " + "; ".join(
        t.diagnose.pod("kube-system", pods[m].metadata.name) if m in pods else f"{m}: no pod"
        for m in missing)


@pytest.mark.claim("arch-node-components")
def test_every_node_runs_kubelet_and_kube_proxy(t: TestContext):
    with t.step("kubectl get nodes -o wide"):
        t.kubectl("get", "nodes", "-o", "wide")
        nodes = t.core.list_node().items
    assert len(nodes) >= 2, "the tutorial's cluster has a master and at least one node"
    # A node is Ready only while its kubelet reports; kubeletVersion is what it runs.
    not_ready = [n for n in nodes if not is_ready(n)]
    assert not not_ready, "kubelet does not report Ready: " + "; ".join(
        t.diagnose.node(n.metadata.name) for n in not_ready)
    # Every kubelet runs the cluster's own Kubernetes version.
    server = client.VersionApi(t.api).get_code().git_version
    versions = {n.metadata.name: n.status.node_info.kubelet_version for n in nodes}
    assert versions == dict.fromkeys(versions, server), f"apiserver {server}, kubelets {versions}"

    with t.step("kubectl get pods -n kube-system -l k8s-app=kube-proxy"):
        t.kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-proxy", "-o", "wide")
        proxies = t.core.list_namespaced_pod("kube-system",
                                             label_selector="k8s-app=kube-proxy").items
    with_proxy = {p.spec.node_name for p in proxies if is_running_and_ready(p)}
    without = sorted({n.metadata.name for n in nodes} - with_proxy)
    assert not without, f"no ready kube-proxy on {without}: " + "; ".join(
        t.diagnose.pods("kube-system", "k8s-app=kube-proxy"))


@pytest.mark.claim("arch-node-runtime-docker", "pod-is-docker-process")
def test_nodes_run_containers_with_containerd_through_cri_not_docker(t: TestContext,
                                                                    kind_name: str):
    with t.step("the nodes' container runtime"):
        t.kubectl("get", "nodes", "-o", "custom-columns=NAME:.metadata.name,"
                  "RUNTIME:.status.nodeInfo.containerRuntimeVersion")
        for node in t.core.list_node().items:
            name = node.metadata.name
            runtime = node.status.node_info.container_runtime_version
            assert runtime.startswith("containerd://"), f"{name} runs {runtime}"
            configz = t.kubectl.json("get", "--raw", f"/api/v1/nodes/{name}/proxy/configz")
            endpoint = configz["kubeletconfig"]["containerRuntimeEndpoint"]
            assert endpoint == "unix:///run/containerd/containerd.sock", f"{name}: {endpoint}"
        proxies = t.core.list_namespaced_pod("kube-system",
                                             label_selector="k8s-app=kube-proxy").items
        for pod in proxies:
            assert pod.status.container_statuses[0].container_id.startswith("containerd://")

    node = f"{kind_name}-worker"
    with t.step("crictl version on a worker"):
        version = node_exec(node, "crictl", "version")
        t.evidence.add(f"crictl version on {node}", version)
        assert "RuntimeName:  containerd" in version
    with t.step("docker binaries on a worker"):
        found = node_exec(node, "sh", "-c", "command -v dockerd docker || echo none")
        t.evidence.add(f"docker binaries on {node}", found)
        assert found.strip() == "none", f"docker on {node}: {found.split()}"


@pytest.mark.claim("arch-only-apiserver-talks-to-etcd")
def test_only_the_apiserver_connects_to_etcd(t: TestContext, kind_name: str):
    with t.step("the control-plane components' etcd flags"):
        pods = control_plane_pods(t.core)
        flags = {name: " ".join(pod.spec.containers[0].command) for name, pod in pods.items()}
        assert "--etcd-servers=" in flags["kube-apiserver"]
        for other in ("kube-controller-manager", "kube-scheduler"):
            assert "--etcd" not in flags[other], f"{other} is configured to reach etcd"

    master = f"{kind_name}-control-plane"
    with t.step("ss: the connections to etcd's client port 2379"):
        clients = node_exec(master, "ss", "-Htnp", "state", "established", "( dport = :2379 )")
        t.evidence.add("connections to etcd's client port 2379 (ss)", clients)
    processes = {part.split('"')[1] for part in clients.split("users:((")[1:]}
    assert "kube-apiserver" in processes
    # etcd's own gRPC gateway dials its port too; nothing else may.
    assert processes <= {"kube-apiserver", "etcd"}, (
        f"processes other than the apiserver connected to etcd: "
        f"{sorted(processes - {'kube-apiserver', 'etcd'})}")


@pytest.mark.claim("arch-apiserver-authenticates")
def test_the_apiserver_refuses_anonymous_requests_and_serves_authenticated_ones(
    t: TestContext,
):
    url = f"{t.api.configuration.host}/api/v1/namespaces/kube-system/secrets"
    with t.step("an anonymous GET of kube-system's secrets"):
        status, body = http_get(url, insecure_context())
        t.evidence.add(f"anonymous GET {url}", f"HTTP {status}\n{body}")
    assert status in (401, 403), f"an anonymous request was answered HTTP {status}"
    assert status == 401 or "system:anonymous" in body

    with t.step("kubectl get --raw /api/v1/namespaces/kube-system/serviceaccounts"):
        served = t.kubectl.json("get", "--raw", "/api/v1/namespaces/kube-system/serviceaccounts")
    assert served["kind"] == "ServiceAccountList"


@pytest.mark.claim("arch-apiserver-authenticates")
def test_credentials_the_apiserver_cannot_verify_get_401(t: TestContext, tmp_path: Path):
    """Authentication, not only authorization: a token nobody issued and a client
    certificate of another CA are refused as unauthenticated (401), and a good client is
    known by name."""
    url = f"{t.api.configuration.host}/api/v1/namespaces"
    context = insecure_context()
    with t.step("GET with a token nobody issued"):
        token = http_get(url, context, {"Authorization": f"Bearer {UNISSUED_TOKEN}"})
        t.evidence.add("GET /api/v1/namespaces with a token nobody issued", str(token))
    with t.step("GET with a client certificate of another CA"):
        context.load_cert_chain(*foreign_client_certificate(tmp_path))
        foreign = http_get(url, context)
        t.evidence.add("GET /api/v1/namespaces with a certificate of another CA "
                       "(CN=intruder, O=system:masters)", str(foreign))
    assert token[0] == 401, f"a token nobody issued got {token}"
    assert foreign[0] == 401, f"a certificate of another CA got {foreign}"
    with t.step("kubectl auth whoami"):
        whoami = t.kubectl.json("auth", "whoami")
    assert whoami["status"]["userInfo"]["username"] == "kubernetes-admin"


@pytest.mark.claim("arch-apiserver-talks-to-kubelet")
def test_the_apiserver_reaches_each_kubelet_for_logs_exec_and_proxy(t: TestContext):
    with t.step("kubectl run redis --image=redis"):
        t.kubectl("run", "redis", "--image=redis", "-n", t.namespace)
        pod = wait_running_and_ready(t.core, t.namespace, "redis")
    node = pod.spec.node_name
    apiserver = control_plane_pods(t.core)["kube-apiserver"].spec.containers[0].command
    t.evidence.add("kube-apiserver's kubelet client flags",
                   "\n".join(f for f in apiserver if f.startswith("--kubelet-")))
    assert any(f.startswith("--kubelet-client-certificate=") for f in apiserver)
    # Each goes client -> apiserver -> the kubelet of the pod's node (port 10250).
    with t.step("kubectl get --raw /api/v1/nodes/NODE/proxy/healthz"):
        assert t.kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/healthz").strip() == "ok"
    with t.step("kubectl logs redis"):
        assert "Ready to accept connections" in t.kubectl("logs", "redis", "-n", t.namespace)
    with t.step("kubectl exec redis -- redis-cli ping"):
        assert t.exec("redis", "redis-cli", "ping").strip() == "PONG"


@pytest.mark.claim("arch-kubelet-restarts-containers")
def test_kubelet_restarts_a_container_that_exits(t: TestContext):
    with t.step("kubectl run redis --image=redis"):
        t.kubectl("run", "redis", "--image=redis", "-n", t.namespace)
        before = wait_running_and_ready(t.core, t.namespace, "redis")
    with t.step("redis-cli shutdown nosave"):
        # the server exits under the command: no answer
        t.exec("redis", "redis-cli", "shutdown", "nosave", check=False)

    def restarted() -> tuple[bool, str]:
        pod = t.core.read_namespaced_pod("redis", t.namespace)
        if pod.metadata.uid != before.metadata.uid:
            raise Unrecoverable("the pod was replaced, not its container restarted")
        (status,) = pod.status.container_statuses
        return status.restart_count >= 1 and is_running_and_ready(pod), (
            f"restarts={status.restart_count} ready={status.ready}")

    with t.step("kubelet restarts the exited container"):
        seen = wait_until("kubelet to restart redis's exited container", restarted,
                          timeout=TIMEOUTS.pod_change,
                          diagnose=lambda: [t.diagnose.pod(t.namespace, "redis"),
                                            t.diagnose.node(before.spec.node_name)])
        t.evidence.add("pod redis after its server exited", seen)
        record_pod(t.core, t.evidence, t.namespace, "redis")


@pytest.mark.claim("arch-apps-on-workers")
def test_applications_run_on_the_workers_not_on_the_control_plane(t: TestContext):
    with t.step("the control plane's taints"):
        (master,) = control_plane_nodes(t.core)
        taints = [(x.key, x.effect) for x in master.spec.taints or []]
        t.evidence.add(f"taints of {master.metadata.name}", str(taints))
    assert ("node-role.kubernetes.io/control-plane", "NoSchedule") in taints, (
        f"{master.metadata.name} has no control-plane NoSchedule taint: {taints}")
    with t.step("kubectl create deployment redis-deployment --image=redis --replicas=6"):
        t.kubectl("create", "deployment", "redis-deployment", "--image=redis", "--replicas=6",
                  "-n", t.namespace)
        pods = wait_ready_pods(t.core, t.namespace, "app=redis-deployment", 6,
                               timeout=TIMEOUTS.slow_start)
        t.kubectl("get", "pods", "-n", t.namespace, "-o", "wide")
    placed = sorted({p.spec.node_name for p in pods})
    assert master.metadata.name not in placed, f"application pods on the control plane: {placed}"
