"""Section I, "k8s architecture": what runs on the master and on the nodes."""

import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from kubernetes import client

from toolkit.cluster import (
    Cluster,
    ClusterOptions,
    api_client,
    bring_up_kind,
    wait_for_cluster_ready,
)
from toolkit.commands import node_exec
from toolkit.credentials import UNISSUED_TOKEN, foreign_client_certificate
from toolkit.deployments import wait_ready_pods
from toolkit.evidence import Evidence
from toolkit.kubectl import Kubectl
from toolkit.manifests import manifest
from toolkit.nodes import control_plane_nodes, is_ready
from toolkit.pods import is_running_and_ready, record_pod, wait_running_and_ready
from toolkit.timeouts import TIMEOUTS
from toolkit.toolchain import find_binary
from toolkit.waiting import Unrecoverable, wait_until

CONTROL_PLANE_COMPONENTS = {"kube-apiserver", "kube-scheduler", "kube-controller-manager", "etcd"}


def control_plane_pods(core: client.CoreV1Api) -> dict[str, client.V1Pod]:
    master = control_plane_nodes(core)[0].metadata.name
    pods = core.list_namespaced_pod(
        "kube-system", label_selector="tier=control-plane", field_selector=f"spec.nodeName={master}"
    ).items
    return {p.metadata.labels.get("component"): p for p in pods}


def require_kind(cluster: Cluster) -> str:
    if cluster.kind_name is None:
        pytest.skip("needs a kind cluster: this checks inside the node containers")
    return cluster.kind_name


@pytest.mark.claim("arch-control-plane-components")
def test_control_plane_runs_apiserver_scheduler_controller_manager_and_etcd(
    core_v1: client.CoreV1Api, kubectl: Kubectl
):
    assert control_plane_nodes(core_v1), "no node carries the control-plane role"
    kubectl("get", "pods", "-n", "kube-system", "-l", "tier=control-plane", "-o", "wide")
    pods = control_plane_pods(core_v1)
    running = {name for name, pod in pods.items() if is_running_and_ready(pod)}
    assert running >= CONTROL_PLANE_COMPONENTS, (
        f"missing or not ready on the control plane: {sorted(CONTROL_PLANE_COMPONENTS - running)}"
    )


@pytest.mark.claim("arch-node-components")
def test_every_node_runs_kubelet_and_kube_proxy(core_v1: client.CoreV1Api, kubectl: Kubectl):
    kubectl("get", "nodes", "-o", "wide")
    nodes = core_v1.list_node().items
    assert len(nodes) >= 2, "the tutorial's cluster has a master and at least one node"
    # A node is Ready only while its kubelet reports; kubeletVersion is what it runs.
    not_ready = [n.metadata.name for n in nodes if not is_ready(n)]
    assert not not_ready, f"kubelet does not report Ready on {not_ready}"
    # Every kubelet runs the cluster's own Kubernetes version.
    server = client.VersionApi(core_v1.api_client).get_code().git_version
    versions = {n.metadata.name: n.status.node_info.kubelet_version for n in nodes}
    assert versions == dict.fromkeys(versions, server), f"apiserver {server}, kubelets {versions}"

    kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-proxy", "-o", "wide")
    proxies = core_v1.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-proxy").items
    with_proxy = {p.spec.node_name for p in proxies if is_running_and_ready(p)}
    without = sorted({n.metadata.name for n in nodes} - with_proxy)
    assert not without, f"no ready kube-proxy on {without}"


@pytest.mark.claim("arch-node-runtime-docker", "pod-is-docker-process")
def test_nodes_run_containers_with_containerd_through_cri_not_docker(
    cluster: Cluster, core_v1: client.CoreV1Api, kubectl: Kubectl, evidence: Evidence
):
    kubectl("get", "nodes", "-o", "custom-columns=NAME:.metadata.name,"
            "RUNTIME:.status.nodeInfo.containerRuntimeVersion")
    for node in core_v1.list_node().items:
        name = node.metadata.name
        assert node.status.node_info.container_runtime_version.startswith("containerd://"), name
        configz = kubectl.json("get", "--raw", f"/api/v1/nodes/{name}/proxy/configz")
        endpoint = configz["kubeletconfig"]["containerRuntimeEndpoint"]
        assert endpoint == "unix:///run/containerd/containerd.sock", name
    proxies = core_v1.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-proxy").items
    for pod in proxies:
        assert pod.status.container_statuses[0].container_id.startswith("containerd://")

    kind = require_kind(cluster)
    node = f"{kind}-worker"
    evidence.add(f"crictl version on {node}", node_exec(node, "crictl", "version"))
    assert "RuntimeName:  containerd" in node_exec(node, "crictl", "version")
    no_docker = node_exec(node, "sh", "-c", "command -v dockerd docker || echo none")
    evidence.add(f"docker binaries on {node}", no_docker)
    assert no_docker.strip() == "none"


@pytest.mark.claim("arch-only-apiserver-talks-to-etcd")
def test_only_the_apiserver_connects_to_etcd(
    cluster: Cluster, core_v1: client.CoreV1Api, evidence: Evidence
):
    pods = control_plane_pods(core_v1)
    flags = {name: " ".join(pod.spec.containers[0].command) for name, pod in pods.items()}
    assert "--etcd-servers=" in flags["kube-apiserver"]
    for other in ("kube-controller-manager", "kube-scheduler"):
        assert "--etcd" not in flags[other], f"{other} is configured to reach etcd"

    kind = require_kind(cluster)
    clients = node_exec(f"{kind}-control-plane", "ss", "-Htnp", "state", "established",
                        "( dport = :2379 )")
    evidence.add("connections to etcd's client port 2379 (ss)", clients)
    processes = {part.split('"')[1] for part in clients.split("users:((")[1:]}
    assert "kube-apiserver" in processes
    # etcd's own gRPC gateway dials its port too; nothing else may.
    assert processes <= {"kube-apiserver", "etcd"}, processes


@pytest.mark.claim("arch-apiserver-authenticates")
def test_the_apiserver_refuses_anonymous_requests_and_serves_authenticated_ones(
    cluster: Cluster, kubectl: Kubectl, evidence: Evidence
):
    url = f"{cluster.api.configuration.host}/api/v1/namespaces/kube-system/secrets"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, context=context, timeout=15)  # noqa: S310 - our apiserver
    body = refused.value.read().decode()
    evidence.add(f"anonymous GET {url}", f"HTTP {refused.value.code}\n{body}")
    assert refused.value.code in (401, 403)
    assert refused.value.code == 401 or "system:anonymous" in body

    served = kubectl.json("get", "--raw", "/api/v1/namespaces/kube-system/serviceaccounts")
    assert served["kind"] == "ServiceAccountList"


@pytest.mark.claim("arch-kube-proxy-uses-ipvs")
def test_kube_proxy_runs_in_iptables_mode_not_ipvs(
    cluster: Cluster, core_v1: client.CoreV1Api, kubectl: Kubectl, evidence: Evidence
):
    config = core_v1.read_namespaced_config_map("kube-proxy", "kube-system").data["config.conf"]
    evidence.add("configmap kube-system/kube-proxy config.conf", config)
    assert "\nmode: iptables\n" in f"\n{config}\n"

    kind = require_kind(cluster)
    node = f"{kind}-worker"
    mode = node_exec(node, "curl", "-s", "http://127.0.0.1:10249/proxyMode")
    evidence.add(f"kube-proxy /proxyMode on {node}", mode)
    assert mode.strip() == "iptables"
    rules = node_exec(node, "iptables", "-t", "nat", "-S", "KUBE-SERVICES")
    evidence.add(f"iptables -t nat -S KUBE-SERVICES on {node}", rules)
    assert "default/kubernetes:https cluster IP" in rules
    ipvs = node_exec(node, "sh", "-c", "cat /proc/net/ip_vs 2>/dev/null || echo absent")
    evidence.add(f"/proc/net/ip_vs on {node}", ipvs)


@pytest.mark.claim("arch-kube-proxy-uses-ipvs")
def test_services_work_in_ipvs_mode_where_the_kernel_has_ipvs(
    cluster: Cluster, evidence: Evidence
):
    kind = require_kind(cluster)
    probe = "test -e /proc/net/ip_vs || modprobe ip_vs 2>/dev/null && echo yes || echo no"
    has_ipvs = node_exec(f"{kind}-worker", "sh", "-c", probe).strip() == "yes"
    evidence.add("kernel IPVS on the nodes", "present" if has_ipvs else "absent")
    if not has_ipvs:
        pytest.skip("this machine's kernel has no IPVS (no /proc/net/ip_vs, no ip_vs module "
                    "to load): kube-proxy cannot run in ipvs mode here")

    # A one-node cluster of the same node image with kube-proxy in IPVS mode.
    name = f"{kind}-ipvs"
    opts = ClusterOptions(
        name=name, kubernetes_version=None, node_image=cluster.node_image, image_source="auto",
        keep=False, kubeconfig=Path(cluster.kubeconfig).parent.parent / name / "kubeconfig",
        kind_path=find_binary("kind"), kubectl_path=cluster.kubectl.binary,
    )
    ipvs, _ = bring_up_kind(opts, base="kind-ipvs.yaml")
    try:
        api = api_client(opts.kubeconfig)
        wait_for_cluster_ready(api)
        kubectl = Kubectl(opts.kubectl_path, opts.kubeconfig, evidence)
        core = client.CoreV1Api(api)
        mode = node_exec(f"{name}-control-plane", "curl", "-s", "http://127.0.0.1:10249/proxyMode")
        assert mode.strip() == "ipvs"
        kubectl("create", "-f", manifest("redis/deployment-with-service.yaml"))
        wait_ready_pods(core, "default", "app=redis", 3)
        kubectl("run", "client", "--image=redis", "--command", "--", "sleep", "3600")
        wait_ready_pods(core, "default", "run=client", 1)
        answer = kubectl("exec", "client", "--", "redis-cli", "-h", "redis-vip", "ping")
        assert answer.strip() == "PONG"
    finally:
        ipvs.delete()


def refused(url: str, context: ssl.SSLContext, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our apiserver
    try:
        with urllib.request.urlopen(request, context=context, timeout=15) as answer:  # noqa: S310
            return answer.status, answer.read().decode()[:200]
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()[:300]


@pytest.mark.claim("arch-apiserver-authenticates")
def test_credentials_the_apiserver_cannot_verify_get_401(
    cluster: Cluster, kubectl: Kubectl, evidence: Evidence, tmp_path: Path
):
    """Authentication, not only authorization: a token nobody issued and a client
    certificate of another CA are refused as unauthenticated (401), and a good client is
    known by name."""
    url = f"{cluster.api.configuration.host}/api/v1/namespaces"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    token = refused(url, context, {"Authorization": f"Bearer {UNISSUED_TOKEN}"})
    evidence.add("GET /api/v1/namespaces with a token nobody issued", str(token))
    context.load_cert_chain(*foreign_client_certificate(tmp_path))
    foreign = refused(url, context, {})
    evidence.add("GET /api/v1/namespaces with a certificate of another CA "
                 "(CN=intruder, O=system:masters)", str(foreign))
    assert token[0] == 401, f"a token nobody issued got {token}"
    assert foreign[0] == 401, f"a certificate of another CA got {foreign}"
    whoami = kubectl.json("auth", "whoami")
    assert whoami["status"]["userInfo"]["username"] == "kubernetes-admin"


@pytest.mark.claim("arch-apiserver-talks-to-kubelet")
def test_the_apiserver_reaches_each_kubelet_for_logs_exec_and_proxy(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    kubectl("run", "redis", "--image=redis", "-n", namespace)
    pod = wait_running_and_ready(core_v1, namespace, "redis")
    node = pod.spec.node_name
    apiserver = control_plane_pods(core_v1)["kube-apiserver"].spec.containers[0].command
    evidence.add("kube-apiserver's kubelet client flags",
                 "\n".join(f for f in apiserver if f.startswith("--kubelet-")))
    assert any(f.startswith("--kubelet-client-certificate=") for f in apiserver)
    # Each goes client -> apiserver -> the kubelet of the pod's node (port 10250).
    assert kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/healthz").strip() == "ok"
    assert "Ready to accept connections" in kubectl("logs", "redis", "-n", namespace)
    assert kubectl("exec", "redis", "-n", namespace, "--", "redis-cli", "ping").strip() == "PONG"


@pytest.mark.claim("arch-kubelet-restarts-containers")
def test_kubelet_restarts_a_container_that_exits(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    kubectl("run", "redis", "--image=redis", "-n", namespace)
    before = wait_running_and_ready(core_v1, namespace, "redis")
    kubectl("exec", "redis", "-n", namespace, "--", "redis-cli", "shutdown", "nosave",
            check=False)  # the server exits under the command: no answer

    def restarted() -> tuple[bool, str]:
        pod = core_v1.read_namespaced_pod("redis", namespace)
        if pod.metadata.uid != before.metadata.uid:
            raise Unrecoverable("the pod was replaced, not its container restarted")
        (status,) = pod.status.container_statuses
        return status.restart_count >= 1 and is_running_and_ready(pod), (
            f"restarts={status.restart_count} ready={status.ready}")

    seen = wait_until("kubelet to restart redis's exited container", restarted,
                      timeout=TIMEOUTS.pod_change)
    evidence.add("pod redis after its server exited", seen)
    record_pod(core_v1, evidence, namespace, "redis")


@pytest.mark.claim("arch-apps-on-workers")
def test_applications_run_on_the_workers_not_on_the_control_plane(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    (master,) = control_plane_nodes(core_v1)
    taints = [(t.key, t.effect) for t in master.spec.taints or []]
    evidence.add(f"taints of {master.metadata.name}", str(taints))
    assert ("node-role.kubernetes.io/control-plane", "NoSchedule") in taints
    kubectl("create", "deployment", "redis-deployment", "--image=redis", "--replicas=6",
            "-n", namespace)
    pods = wait_ready_pods(core_v1, namespace, "app=redis-deployment", 6,
                           timeout=TIMEOUTS.slow_start)
    kubectl("get", "pods", "-n", namespace, "-o", "wide")
    placed = sorted({p.spec.node_name for p in pods})
    assert master.metadata.name not in placed, f"application pods on the control plane: {placed}"
