"""The Python faults of suites/test_cluster_setup.py (section II)."""

import json
from collections.abc import Iterator

from kubernetes import client

from tutorial_conformance.faults import static_pods
from tutorial_conformance.faults.context import FaultContext, FaultError
from tutorial_conformance.faults.leftovers import KIND_VERSION_BACKUP
from tutorial_conformance.faults.registry import fault
from tutorial_conformance.faults.static_pods import BACKUPS
from tutorial_conformance.toolkit.commands import CommandError, docker, node_exec, run
from tutorial_conformance.toolkit.kind_config import minor
from tutorial_conformance.toolkit.timeouts import INTERVALS, TIMEOUTS
from tutorial_conformance.toolkit.toolchain import find_binary
from tutorial_conformance.toolkit.waiting import wait_until


def other_apiserver_image(version: str) -> str | None:
    """A kube-apiserver image of another version on the host (the offline toolchain builds
    one per Kubernetes version), preferring the next minor."""
    out = docker("images", "registry.k8s.io/kube-apiserver", "--format", "{{.Tag}}",
                 check=False)
    tags = sorted({t for t in out.split() if t.startswith("v1.") and t != version},
                  key=lambda t: (abs(minor(t) - minor(version)), minor(t) < minor(version)))
    return f"registry.k8s.io/kube-apiserver:{tags[0]}" if tags else None


@fault("cluster-kubectl-version")
@fault("cluster-consistent-versions")
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
        with static_pods.static_pod_edited(ctx, "kube-apiserver", edit, f"image {image}",
                                   before_write=load):
            wait_until(f"the apiserver to serve {other}", lambda: serving(other),
                       timeout=TIMEOUTS.slow_start, interval=INTERVALS.slow)
            ctx.note(f"the apiserver serves {other}; the node image is {version}")
            yield
        wait_until(f"the apiserver to serve {version} again", lambda: serving(version),
                   timeout=TIMEOUTS.slow_start, interval=INTERVALS.slow)
    finally:
        ctx.node(node, "crictl", "rmi", image, check=False)


def run_checked(*argv: str) -> None:
    try:
        run(argv, timeout=TIMEOUTS.teardown)
    except CommandError as err:
        raise FaultError(str(err)) from None


@fault("cluster-kubeadm")
def kubeadm_config_removed(ctx: FaultContext) -> Iterator[None]:
    saved = ctx.kubectl("get", "configmap", "kubeadm-config", "-n", "kube-system", "-o", "json")
    ctx.kubectl("delete", "configmap", "kubeadm-config", "-n", "kube-system")
    try:
        yield
    finally:
        restored = json.loads(saved)
        for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
            restored["metadata"].pop(key, None)
        ctx.kubectl("create", "-f", "-", stdin=json.dumps(restored))
