"""The tutorial's Memcached operator (operator/, what section VI's workflow makes): its
image, what `make deploy` applies, and the sample."""

from functools import cache
from pathlib import Path

import yaml

from toolkit.commands import run
from toolkit.errors import SetupError
from toolkit.paths import OPERATOR
from toolkit.toolchain import docker_image_present, find_binary

IMAGE = "tutorial-suite/memcached-operator:v0.0.1"
NAMESPACE = "memcached-operator-system"
DEPLOYMENT = "memcached-operator-controller-manager"
MANAGER_ROLE = "memcached-operator-manager-role"
MANAGER_ROLE_BINDING = "memcached-operator-manager-rolebinding"
SAMPLE = OPERATOR / "config" / "samples" / "cache_v1alpha1_memcached.yaml"


def load_image(kind_name: str) -> None:
    """Puts the operator image on the nodes: built by the offline toolchain, or here from
    operator/Dockerfile for users with internet."""
    if not docker_image_present(IMAGE):
        proc = run(["docker", "build", "-t", IMAGE, str(OPERATOR)], timeout=1800, check=False)
        if proc.returncode != 0:
            raise SetupError(f"cannot build {IMAGE} (offline: run `bash ci/images/build.sh`):"
                             f" {proc.stderr.strip().splitlines()[-1:]}")
    run([str(find_binary("kind")), "load", "docker-image", IMAGE, "--name", kind_name],
        timeout=300)


@cache
def deploy_manifest(kubectl: Path | None = None) -> str:
    """What `make deploy IMG=<IMAGE>` applies: kustomize's build of config/default (kubectl's
    own kustomize, no download), with the manager's image ours. The tutorial's edit wrote
    its Docker Hub image into manager.yaml, where `IMG` no longer reaches it: set here."""
    built = run([str(kubectl or find_binary("kubectl")), "kustomize",
                 str(OPERATOR / "config" / "default")], timeout=120).stdout
    docs = [doc for doc in yaml.safe_load_all(built) if doc]
    (manager,) = [d for d in docs if d["kind"] == "Deployment"
                  and d["metadata"]["name"] == DEPLOYMENT]
    manager["spec"]["template"]["spec"]["containers"][0]["image"] = IMAGE
    return yaml.safe_dump_all(docs, sort_keys=False)


def deploy_objects() -> dict[tuple[str, str], dict]:
    """The objects of deploy_manifest() by (kind, name)."""
    return {(d["kind"], d["metadata"]["name"]): d
            for d in yaml.safe_load_all(deploy_manifest()) if d}
