"""The kind configuration of a cluster: the base config under manifests/cluster/ with what
this host and this Kubernetes version need (registry mirror, containerd and kubelet
settings, feature gates, the workers' memory), and the official node images by version."""

import re
from pathlib import Path

import yaml
from kubernetes.utils import parse_quantity

from tutorial_conformance.toolkit.commands import docker
from tutorial_conformance.toolkit.errors import SetupError
from tutorial_conformance.toolkit.paths import MANIFESTS as ALL_MANIFESTS
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.toolchain import pinned

MANIFESTS = ALL_MANIFESTS / "cluster"


def official_images() -> dict[str, str]:
    """Kubernetes version -> its kindest/node image, by digest, as published with the
    pinned kind release (kind's node images are tied to its releases); newest first."""
    images = pinned("OFFICIAL_NODE_IMAGES").split()
    return {kubernetes_version_of(image, image): image for image in images}


def official_image(version: str | None) -> str:
    """The published image of `version` (None: the newest); an unpublished version is an
    error that names the published ones."""
    images = official_images()
    if version is None:
        return next(iter(images.values()))
    if version not in images:
        raise SetupError(
            f"no kindest/node image of Kubernetes {version} was published with kind "
            f"{pinned('KIND_VERSION')}; published: {', '.join(images)} "
            f"(or build {version} offline: OFFLINE=1 KUBERNETES_VERSION={version} "
            "bash ci/images/build.sh)"
        )
    return images[version]


def kubernetes_version_of(image: str, default: str) -> str:
    match = re.search(r":(v1\.\d+\.\d+(-(alpha|beta|rc)\.\d+)?)", image)
    return match.group(1) if match else default


CAP_SYS_RESOURCE = 24


def host_lacks_sys_resource() -> bool:
    status = Path("/proc/self/status").read_text()
    bounding = int(re.search(r"^CapBnd:\s*([0-9a-f]+)", status, re.M).group(1), 16)
    return not bounding & (1 << CAP_SYS_RESOURCE)


# kind's own /etc/default/kubelet, which the shaped workers' files replace.
KIND_KUBELET_EXTRA_ARGS = "--runtime-cgroups=/system.slice/containerd.service"


def host_memory() -> int:
    """What kubelet reports as memory capacity on a kind node: the host's MemTotal."""
    meminfo = Path("/proc/meminfo").read_text()
    return int(re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M).group(1)) * 1024


def shape_workers(cluster: dict, workdir: Path) -> None:
    """Gives the workers the allocatable memory of worker-memory.yaml, through kubelet's
    --system-reserved in each worker's /etc/default/kubelet."""
    shapes = yaml.safe_load((MANIFESTS / "worker-memory.yaml").read_text())["workers"]
    workers = [n for n in cluster["nodes"] if n["role"] == "worker"]
    capacity = host_memory()
    for index, (node, shape) in enumerate(zip(workers, shapes, strict=False)):
        reserved = capacity - int(parse_quantity(shape["allocatable"]))
        if reserved <= 0:
            return  # a small host: leave every worker as it is
        env = workdir / f"kubelet-worker-{index}.env"
        env.write_text(
            f"KUBELET_EXTRA_ARGS={KIND_KUBELET_EXTRA_ARGS} "
            f"--system-reserved=memory={reserved // 1024}Ki\n"
        )
        node.setdefault("extraMounts", []).append(
            {"hostPath": str(env), "containerPath": "/etc/default/kubelet", "readOnly": True}
        )


def docker_uses_cgroup_v1() -> bool:
    return docker("info", "--format", "{{.CgroupVersion}}", timeout=TIMEOUTS.probe,
                  check=False).strip() == "1"


def needs_cgroup_v1_settings(kubernetes_version: str, cgroup_v1: bool) -> bool:
    """kubelet 1.35 and newer refuse cgroup v1 unless told not to."""
    return cgroup_v1 and minor(kubernetes_version) >= 35


def needs_ipvs_gate(kubernetes_version: str) -> bool:
    """kube-proxy 1.37 and newer accept mode ipvs only while the (deprecated)
    KubeProxyIPVS feature gate is on: set it explicitly rather than rely on its default."""
    return minor(kubernetes_version) >= 37


def minor(kubernetes_version: str) -> int:
    """35 of v1.35.4."""
    return int(kubernetes_version.split(".")[1])


def kind_config(
    offline: bool, lacks_sys_resource: bool, workdir: Path, base: str = "kind.yaml",
    cgroup_v1_settings: bool = False, ipvs_gate: bool = False,
) -> str:
    """kind.yaml (or another base), plus the registry mirror for offline node images, the
    containerd setting that hosts without CAP_SYS_RESOURCE need, the kubelet setting that
    Kubernetes 1.35+ needs on cgroup v1 hosts, the feature gate IPVS mode needs from 1.37,
    and the workers' memory shapes."""
    cluster = yaml.safe_load((MANIFESTS / base).read_text())
    for node in cluster["nodes"]:
        for mount in node.get("extraMounts", []):
            mount["hostPath"] = str(MANIFESTS / mount["hostPath"])  # absolute stays absolute
    if ipvs_gate and cluster.get("networking", {}).get("kubeProxyMode") == "ipvs":
        cluster.setdefault("featureGates", {})["KubeProxyIPVS"] = True
    if cgroup_v1_settings:
        extra = yaml.safe_load((MANIFESTS / "cgroup-v1.yaml").read_text())
        cluster.setdefault("kubeadmConfigPatches", []).extend(extra["kubeadmConfigPatches"])
    shape_workers(cluster, workdir)
    patches = cluster.setdefault("containerdConfigPatches", [])
    if offline:
        extra = yaml.safe_load((MANIFESTS / "offline-registry.yaml").read_text())
        patches += extra["containerdConfigPatches"]
        for mount in extra["extraMounts"]:
            mount["hostPath"] = str(MANIFESTS / mount["hostPath"])
        for node in cluster["nodes"]:
            node.setdefault("extraMounts", []).extend(extra["extraMounts"])
    if lacks_sys_resource:
        extra = yaml.safe_load((MANIFESTS / "no-sys-resource.yaml").read_text())
        patches += extra["containerdConfigPatches"]
    return yaml.safe_dump(cluster)
