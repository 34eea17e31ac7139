"""The one owner of a kind cluster's life (as e2e-framework's envfuncs): create, wait ready,
export logs and delete are plain functions, each beside its undo. The pytest fixture, the
`pytest -n` controller, ci/fault_demo.py and the side clusters (IPVS, the HA topology) all
call them, and nothing else creates or deletes a kind cluster."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tutorial_conformance.toolkit.cluster import Cluster, api_client, wait_ready
from tutorial_conformance.toolkit.commands import CommandError, docker, run
from tutorial_conformance.toolkit.errors import SetupError
from tutorial_conformance.toolkit.kind_config import (
    docker_uses_cgroup_v1,
    host_lacks_sys_resource,
    kind_config,
    kubernetes_version_of,
    needs_cgroup_v1_settings,
    needs_ipvs_gate,
    official_image,
)
from tutorial_conformance.toolkit.kubectl import Kubectl
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.toolchain import check_docker, docker_image_present, pinned


@dataclass(frozen=True)
class KindSpec:
    """What a kind cluster is to be: its name and node image (or how to choose one), its
    config (a base under manifests/cluster/ and its placeholders' values), where its
    kubeconfig goes, and the kind and kubectl binaries to use."""

    name: str
    kubeconfig: Path
    kind_path: Path
    kubectl_path: Path
    kubernetes_version: str | None = None  # None: the pinned default of the image source
    node_image: str | None = None  # given: used as is
    image_source: str = "auto"  # auto | offline | official
    base: str = "kind.yaml"
    values: dict[str, str] = field(default_factory=dict)
    ha: bool = False  # several control-plane nodes: a longer bound for their creation


@dataclass(frozen=True)
class KindCluster:
    spec: KindSpec
    image: str
    offline: bool
    created: bool  # by this run (False: an identical one reused)

    @property
    def name(self) -> str:
        return self.spec.name

    def cluster(self, context: str | None = None) -> Cluster:
        """What tests get of it: its API client, kubectl, name and node image."""
        api = api_client(self.spec.kubeconfig, context)
        return Cluster(self.spec.kubeconfig, Kubectl(self.spec.kubectl_path,
                                                     self.spec.kubeconfig), api, self.name,
                       self.image)


def node_image(spec: KindSpec) -> tuple[str, bool]:
    """The node image to use, and whether it comes from the offline toolchain."""
    if spec.node_image:
        return spec.node_image, spec.node_image.startswith("tutorial-suite/")
    version = spec.kubernetes_version or pinned("KUBERNETES_VERSION")
    offline = f"tutorial-suite/node:{version}"
    if spec.image_source == "offline" or (
        spec.image_source == "auto" and docker_image_present(offline)
    ):
        if not docker_image_present(offline):
            raise SetupError(f"node image {offline} is missing: build it offline with "
                             f"`KUBERNETES_VERSION={version} bash ci/images/build.sh`")
        return offline, True
    return official_image(spec.kubernetes_version), False


def _kind(spec: KindSpec, *args: str, timeout: float) -> str:
    """kind ARGS; a failure is a SetupError naming what kind said went wrong."""
    try:
        proc = run([str(spec.kind_path), *args], timeout=timeout, check=False)
    except CommandError as err:
        raise SetupError(str(err)) from None
    if proc.returncode != 0:
        raise SetupError(f"`kind {args[0]} {args[1] if len(args) > 1 else ''}` for "
                         f"{spec.name} failed:\n{failure_lines(proc.stderr)}")
    return proc.stdout


def failure_lines(stderr: str) -> str:
    """The lines of kind's output that say what went wrong (kubeadm's errors come with Go
    stack traces), else its last lines."""
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.lower().startswith(("error", "fatal"))]
    return "\n".join(errors[:4] or lines[-8:])


def exists(spec: KindSpec) -> bool:
    return spec.name in _kind(spec, "get", "clusters", timeout=TIMEOUTS.probe).split()


def config_of(spec: KindSpec, offline: bool, image: str) -> str:
    version = kubernetes_version_of(image, spec.kubernetes_version or pinned("KUBERNETES_VERSION"))
    text = kind_config(offline, host_lacks_sys_resource(), spec.kubeconfig.parent, spec.base,
                       needs_cgroup_v1_settings(version, docker_uses_cgroup_v1()),
                       needs_ipvs_gate(version))
    for placeholder, value in spec.values.items():
        text = text.replace(placeholder, value)
    return text


def create(spec: KindSpec) -> KindCluster:
    """Creates the cluster, or reuses one of the same name, image and config (an
    interrupted run's, or a kept one): the undo is delete()."""
    check_docker()
    image, offline = node_image(spec)
    spec.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    config = config_of(spec, offline, image)
    made_with = spec.kubeconfig.parent / "kind-config.yaml"
    if exists(spec):
        running = docker("inspect", "-f", "{{.Config.Image}}", f"{spec.name}-control-plane",
                         check=False).strip()
        if (made_with.exists() and made_with.read_text() == config and running == image
                and spec.kubeconfig.exists()):
            if offline:
                connect_registry()
            return KindCluster(spec, image, offline, created=False)
        delete(spec)  # left by an interrupted run, or of another version or config
    made_with.write_text(config)
    try:
        _kind(spec, "create", "cluster", f"--name={spec.name}", f"--image={image}",
              f"--kubeconfig={spec.kubeconfig}", f"--config={made_with}", "--wait=5m",
              timeout=TIMEOUTS.kind_create_ha if spec.ha else TIMEOUTS.kind_create)
        if offline:
            connect_registry()
    except BaseException:
        delete(spec)  # never leave a half-created cluster behind, even on Ctrl-C
        raise
    return KindCluster(spec, image, offline, created=True)


def delete(spec: KindSpec) -> None:
    """The undo of create(): the cluster's node containers and its kubeconfig entry."""
    run([str(spec.kind_path), "delete", "cluster", f"--name={spec.name}"],
        timeout=TIMEOUTS.teardown, check=False)


def export_logs(spec: KindSpec, directory: Path) -> None:
    """`kind export logs` (no undo: the files are the run's to keep)."""
    run([str(spec.kind_path), "export", "logs", str(directory), f"--name={spec.name}"],
        timeout=TIMEOUTS.teardown, check=False)


def connect_registry(network: str = "kind") -> None:
    """Puts the local registry on kind's network, where nodes resolve it by name (its
    undo is the network's removal with the last kind cluster)."""
    name = pinned("REGISTRY_NAME")
    proc = run(["docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", name],
               timeout=TIMEOUTS.probe, check=False)
    if proc.returncode != 0:
        raise SetupError(f"the registry mirror {name} is not running: run "
                         "`bash ci/images/build.sh`")
    if f'"{network}"' not in proc.stdout:
        try:
            docker("network", "connect", network, name, timeout=TIMEOUTS.probe)
        except CommandError as err:
            raise SetupError(f"cannot put the registry mirror on kind's network: {err}") from None


def up(spec: KindSpec) -> tuple[KindCluster, Cluster]:
    """create(), then wait until every node is Ready and DNS serves (wait_ready)."""
    kind = create(spec)
    try:
        cluster = kind.cluster()
        wait_ready(cluster.api)
    except BaseException:
        if kind.created:
            delete(spec)
        raise
    return kind, cluster


@contextmanager
def kind_cluster(spec: KindSpec, keep: bool = False) -> Iterator[tuple[KindCluster, Cluster]]:
    """A cluster for a block (a side cluster of one test or module): up, then deleted
    unless kept."""
    kind, cluster = up(spec)
    try:
        yield kind, cluster
    finally:
        if not keep:
            delete(spec)
