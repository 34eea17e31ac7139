"""Section V.2, "Headless Service": the tutorial's service.yaml, what clusterIP: None
means, whom a Service exposes pods to, and the tutorial's order (the Service created
after the StatefulSet, the replica recovering by itself)."""

import pytest
from kubernetes import client

from toolkit.cluster import Cluster
from toolkit.deployments import wait_ready_pods
from toolkit.evidence import Evidence
from toolkit.kubectl import Kubectl
from toolkit.manifests import manifest
from toolkit.nodes import is_ready
from toolkit.outside import outside_client
from toolkit.redis import create, ready_pods, replication, wait_link_up
from toolkit.timeouts import TIMEOUTS
from toolkit.tutorial import printed
from toolkit.waiting import wait_until


@pytest.mark.claim("svc-yaml-as-printed")
def test_the_service_yaml_as_printed_is_rejected(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    evidence.add("the tutorial's service.yaml (lines 190-197)", printed(190, 197))
    proc = kubectl.run("create", "-n", namespace, "-f",
                       manifest("redis-sfs/service-as-printed.yaml"), check=False)
    assert proc.returncode != 0, "the service.yaml as printed was accepted"
    assert "error converting YAML to JSON" in proc.stderr
    assert core_v1.list_namespaced_service(namespace).items == []
    # With its metadata, spec, selector and ports keys back, it creates the Service.
    create(kubectl, namespace, "service.yaml")
    assert core_v1.read_namespaced_service("redis-sfs", namespace).spec.cluster_ip == "None"


def allocated(kubectl: Kubectl, namespace: str, service: str) -> list[str]:
    """The cluster IPs the apiserver allocated to a Service (networking.k8s.io IPAddress
    objects, one per allocated address, naming the Service as their parent)."""
    addresses = kubectl.json("get", "ipaddresses.networking.k8s.io")["items"]
    return [a["metadata"]["name"] for a in addresses
            if a["spec"]["parentRef"].get("namespace") == namespace
            and a["spec"]["parentRef"]["name"] == service]


@pytest.mark.claim("svc-headless-means-allocated")
def test_a_headless_service_gets_no_address_allocated(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    create(kubectl, namespace, "service.yaml")
    kubectl("create", "-n", namespace, "-f", manifest("redis/deployment-with-service.yaml"))
    headless = core_v1.read_namespaced_service("redis-sfs", namespace).spec
    vip = core_v1.read_namespaced_service("redis-vip", namespace).spec
    assert headless.cluster_ip == "None" and headless.cluster_ips == ["None"]
    # An ordinary Service gets an address from the service range, recorded as allocated;
    # a headless one gets none: "None" means no virtual IP, not "allocated by k8s".
    assert allocated(kubectl, namespace, "redis-vip") == [vip.cluster_ip]
    assert allocated(kubectl, namespace, "redis-sfs") == []


@pytest.mark.claim("svc-exposes-to-outside")
def test_only_a_nodeport_service_is_reachable_from_outside_the_cluster(
    cluster: Cluster, core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str,
    evidence: Evidence,
):
    if cluster.kind_name is None or cluster.node_image is None:
        pytest.skip("needs a kind cluster: the outside client sits on kind's network")
    with outside_client(namespace, cluster.node_image) as outside:
        kubectl("create", "-n", namespace, "-f", manifest("redis/deployment-with-service.yaml"))
        kubectl("create", "-n", namespace, "-f", manifest("redis/service-nodeport.yaml"))
        create(kubectl, namespace, "service.yaml")
        wait_ready_pods(core_v1, namespace, "app=redis", 3)
        worker = next(n for n in core_v1.list_node().items if is_ready(n)
                      and "node-role.kubernetes.io/control-plane" not in n.metadata.labels)
        node_ip = next(a.address for a in worker.status.addresses if a.type == "InternalIP")
        node_port = core_v1.read_namespaced_service(
            "redis-nodeport", namespace).spec.ports[0].node_port
        vip = core_v1.read_namespaced_service("redis-vip", namespace).spec.cluster_ip
        evidence.add("routes of the client outside the cluster", outside.routes())
        seen = {
            f"NodePort {node_ip}:{node_port}": outside.redis_ping(node_ip, node_port),
            f"ClusterIP {vip}:6379": outside.redis_ping(vip, 6379),
        }
        evidence.add("redis PING from outside the cluster", "\n".join(
            f"{target}: {answer}" for target, answer in seen.items()))
        assert seen[f"NodePort {node_ip}:{node_port}"] == "PONG"
        assert seen[f"ClusterIP {vip}:6379"] != "PONG", "the cluster IP answered from outside"
        # The headless Service has no address at all to reach from anywhere.
        assert core_v1.read_namespaced_service("redis-sfs", namespace).spec.cluster_ip == "None"


@pytest.mark.claim("sfs-service-after-statefulset", "sfs-replica-log-lines")
def test_the_replica_recovers_by_itself_once_the_service_is_created(
    core_v1: client.CoreV1Api, kubectl: Kubectl, namespace: str, evidence: Evidence
):
    """The tutorial's order: the StatefulSet first (the replica cannot find its master),
    then the Service, and the same replica process syncs, restarted by nobody."""
    create(kubectl, namespace, "statefulset.yaml")
    before = ready_pods(core_v1, namespace)["redis-sfs-1"]

    def failing() -> tuple[bool, str]:
        log = kubectl("logs", "-n", namespace, "redis-sfs-1")
        return "Unable to connect to MASTER" in log, log[-400:]

    log = wait_until("redis-sfs-1 to log that it cannot reach its master", failing,
                     timeout=TIMEOUTS.sync)
    lines = [line for line in log.splitlines() if "MASTER" in line][:4]
    evidence.add("the tutorial printed (lines 175-177)", printed(175, 177))
    evidence.add("kubectl logs redis-sfs-1 prints today", "\n".join(lines))
    assert any(line.endswith("* Connecting to MASTER redis-sfs-0.redis-sfs:6379")
               for line in lines)
    assert any("# Unable to connect to MASTER: " in line for line in lines)

    create(kubectl, namespace, "service.yaml")
    wait_link_up(kubectl, namespace)
    after = core_v1.read_namespaced_pod("redis-sfs-1", namespace)
    assert after.metadata.uid == before.metadata.uid, "redis-sfs-1 was recreated"
    assert after.status.container_statuses[0].restart_count == 0, "redis-sfs-1 restarted"
    assert replication(kubectl, namespace, "redis-sfs-1")["role"] == "slave"
    assert "MASTER <-> REPLICA sync: Finished with success" in kubectl(
        "logs", "-n", namespace, "redis-sfs-1")
