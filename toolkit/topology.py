"""A cluster of its own for the topologies the tutorial names that the suite's cluster
lacks (manifests/cluster/kind-ha-external-etcd.yaml): three control-plane nodes behind
kind's load balancer, and etcd in a container outside them. Each resource is made beside
its undo; an interrupted run's leftovers of the same name are removed first."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client

from tutorial_conformance.toolkit import kind
from tutorial_conformance.toolkit.cluster import Cluster
from tutorial_conformance.toolkit.commands import CommandError, container_exec, docker
from tutorial_conformance.toolkit.credentials import self_signed
from tutorial_conformance.toolkit.errors import SetupError
from tutorial_conformance.toolkit.kubectl import Kubectl
from tutorial_conformance.toolkit.nodes import ASIDE, STATIC_PODS
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.toolchain import find_binary
from tutorial_conformance.toolkit.waiting import wait_until

ETCD_CLIENT_PORT = 2379
# The outside etcd's space quota, small so that a test can reach it (etcd's default: 2 GiB).
ETCD_QUOTA_BYTES = 32 * 1024 * 1024
# A control-plane node's own apiserver, through kubectl in the node (kind's apiserver
# certificate names 127.0.0.1), bypassing the load balancer.
LOCAL_KUBECTL = ("kubectl", "--kubeconfig=/etc/kubernetes/admin.conf",
                 "--server=https://127.0.0.1:6443")
# The load balancer's list of apiservers, as kind writes it for envoy
# (kind's pkg/cluster/internal/loadbalancer/config.go).
LOAD_BALANCER_CDS = "/home/envoy/cds.yaml"


@dataclass(frozen=True)
class Topology:
    name: str
    kubeconfig: Path
    api: client.ApiClient
    kubectl: Kubectl
    etcd_container: str
    etcd_endpoint: str
    load_balancer: str  # kind's load-balancer container

    @property
    def control_planes(self) -> list[str]:
        nodes = client.CoreV1Api(self.api).list_node(
            label_selector="node-role.kubernetes.io/control-plane").items
        return sorted(n.metadata.name for n in nodes)


def etcd_image(main: Cluster) -> str:
    """The etcd image of the suite's own cluster: the one its kubeadm chose."""
    pods = client.CoreV1Api(main.api).list_namespaced_pod(
        "kube-system", label_selector="component=etcd").items
    if not pods:
        raise SetupError("the suite's cluster runs no etcd pod to take the etcd image from")
    return pods[0].spec.containers[0].image


@contextmanager
def external_etcd(name: str, image: str, network: str = "kind",
                  quota: int = ETCD_QUOTA_BYTES) -> Iterator[str]:
    """etcd in a container of its own on kind's network, with a space quota; yields its
    client URL."""
    docker("rm", "-f", name, check=False)
    url = f"http://{name}:{ETCD_CLIENT_PORT}"
    peer = "http://127.0.0.1:2380"
    docker("run", "-d", "--name", name, "--hostname", name, "--network", network,
           "--label", "tutorial-suite/topology=external-etcd", image,
           "etcd", f"--name={name}", "--data-dir=/var/lib/etcd",
           f"--listen-client-urls=http://0.0.0.0:{ETCD_CLIENT_PORT}",
           f"--advertise-client-urls={url}", f"--listen-peer-urls={peer}",
           f"--initial-advertise-peer-urls={peer}", f"--initial-cluster={name}={peer}",
           f"--quota-backend-bytes={quota}")
    try:
        def healthy() -> tuple[bool, str]:
            try:
                return True, container_exec(name, "etcdctl", "endpoint", "health",
                                            timeout=TIMEOUTS.probe).strip()
            except CommandError as err:
                return False, str(err)

        wait_until(f"the external etcd {name} to be healthy", healthy, timeout=TIMEOUTS.api_change)
        yield url
    finally:
        docker("rm", "-f", name, check=False)


@contextmanager
def ha_external_etcd(main: Cluster) -> Iterator[Topology]:
    """The HA, external-etcd cluster, deleted afterwards (with its etcd)."""
    name = f"{main.kind_name}-ha"
    kubeconfig = Path(main.kubeconfig).parent.parent / name / "kubeconfig"
    ca_dir = kubeconfig.parent / "etcd-ca"
    with ExitStack() as stack:
        endpoint = stack.enter_context(external_etcd(f"{name}-etcd", etcd_image(main)))
        ca_dir.mkdir(parents=True, exist_ok=True)
        self_signed(ca_dir, "ca", "/CN=etcd-ca")
        spec = kind.KindSpec(
            name=name, kubeconfig=kubeconfig, kind_path=find_binary("kind"),
            kubectl_path=main.kubectl.binary, node_image=main.node_image,
            base="kind-ha-external-etcd.yaml", ha=True,
            values={"EXTERNAL_ETCD_ENDPOINT": endpoint, "/ETCD_CA_DIR": str(ca_dir)})
        kind.delete(spec)  # an interrupted run's: its etcd was just made anew
        _, cluster = stack.enter_context(kind.kind_cluster(spec))
        yield Topology(name, kubeconfig, cluster.api, cluster.kubectl, f"{name}-etcd",
                       endpoint, f"{name}-external-load-balancer")


def ready_through(kubectl: Kubectl) -> tuple[bool, str]:
    """Whether the cluster kubectl points at (here: its load balancer) answers /readyz."""
    proc = kubectl.run("get", "--raw", "/readyz", check=False, timeout=TIMEOUTS.probe)
    return proc.returncode == 0, (proc.stdout or proc.stderr).strip()[:200]


def apiserver_answers(node: str) -> tuple[bool, str]:
    try:
        answer = container_exec(node, "curl", "-sk", "--max-time", "5",
                                "https://127.0.0.1:6443/readyz", timeout=TIMEOUTS.probe).strip()
    except CommandError as err:
        return False, f"{node}: no answer ({str(err)[:120]})"
    return answer == "ok", f"{node}: {answer[:120]}"


@contextmanager
def apiserver_stopped(node: str) -> Iterator[None]:
    """One control-plane node's apiserver stopped (its static-pod manifest moved out: kubelet
    stops it), started again afterwards."""
    manifest, aside = f"{STATIC_PODS}/kube-apiserver.yaml", f"{ASIDE}/kube-apiserver.yaml"
    container_exec(node, "mkdir", "-p", ASIDE)
    container_exec(node, "mv", manifest, aside)
    try:
        def stopped() -> tuple[bool, str]:
            running = container_exec(node, "crictl", "ps", "-q", "--name", "^kube-apiserver$")
            answers, seen = apiserver_answers(node)
            return not running.strip() and not answers, f"containers={running.split()} {seen}"

        wait_until(f"the apiserver on {node} to stop", stopped, timeout=TIMEOUTS.pod_change)
        yield
    finally:
        container_exec(node, "mv", aside, manifest)
        wait_until(f"the apiserver on {node} to answer again", lambda: apiserver_answers(node),
                   timeout=TIMEOUTS.pod_start)
