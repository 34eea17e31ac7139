"""The tutorial's Memcached operator (operator/): its image, manifests and sample."""

import subprocess

from toolkit.errors import SetupError
from toolkit.toolchain import REPO, docker_image_present, find_binary

OPERATOR = REPO / "operator"
IMAGE = "tutorial-suite/memcached-operator:v0.0.1"
NAMESPACE = "memcached-operator-system"
DEPLOYMENT = "memcached-operator-controller-manager"
DEPLOY_MANIFEST = OPERATOR / "config" / "deploy.yaml"
SAMPLE = OPERATOR / "config" / "samples" / "cache_v1alpha1_memcached.yaml"


def load_image(kind_name: str) -> None:
    """Puts the operator image on the nodes: built by the offline toolchain, or here from
    operator/Dockerfile for users with internet."""
    if not docker_image_present(IMAGE):
        proc = subprocess.run(["docker", "build", "-t", IMAGE, str(OPERATOR)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SetupError(f"cannot build {IMAGE} (offline: run `bash ci/images/build.sh`):"
                             f" {proc.stderr.strip().splitlines()[-1:]}")
    subprocess.run([str(find_binary("kind")), "load", "docker-image", IMAGE, "--name", kind_name],
                   capture_output=True, check=True, timeout=300)
