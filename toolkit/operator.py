"""The tutorial's Memcached operator (operator/, what section VI's workflow makes): its
image, what `make deploy` applies, and the sample."""

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from tutorial_conformance.toolkit.commands import run
from tutorial_conformance.toolkit.errors import SetupError
from tutorial_conformance.toolkit.paths import OPERATOR
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.toolchain import docker_image_present, find_binary

IMAGE = "tutorial-suite/memcached-operator:v0.0.1"
NAMESPACE = "memcached-operator-system"
DEPLOYMENT = "memcached-operator-controller-manager"
MANAGER_ROLE = "memcached-operator-manager-role"
MANAGER_ROLE_BINDING = "memcached-operator-manager-rolebinding"
if TYPE_CHECKING:
    from tutorial_conformance.toolkit.context import TestContext

SAMPLE = OPERATOR / "config" / "samples" / "cache_v1alpha1_memcached.yaml"


def load_image(kind_name: str) -> None:
    """Puts the operator image on the nodes: built by the offline toolchain, or here from
    operator/Dockerfile for users with internet."""
    if not docker_image_present(IMAGE):
        proc = run(["docker", "build", "-t", IMAGE, str(OPERATOR)], timeout=TIMEOUTS.image_build,
                   check=False)
        if proc.returncode != 0:
            raise SetupError(f"cannot build {IMAGE} (offline: run `bash ci/images/build.sh`):"
                             f" {proc.stderr.strip().splitlines()[-1:]}")
    run([str(find_binary("kind")), "load", "docker-image", IMAGE, "--name", kind_name],
        timeout=TIMEOUTS.teardown)


@cache
def deploy_manifest(kubectl: Path | None = None) -> str:
    """What `make deploy IMG=<IMAGE>` applies: kustomize's build of config/default (kubectl's
    own kustomize, no download), with the manager's image ours. The tutorial's edit wrote
    its Docker Hub image into manager.yaml, where `IMG` no longer reaches it: set here."""
    built = run([str(kubectl or find_binary("kubectl")), "kustomize",
                 str(OPERATOR / "config" / "default")], timeout=TIMEOUTS.command).stdout
    docs = [doc for doc in yaml.safe_load_all(built) if doc]
    (manager,) = [d for d in docs if d["kind"] == "Deployment"
                  and d["metadata"]["name"] == DEPLOYMENT]
    manager["spec"]["template"]["spec"]["containers"][0]["image"] = IMAGE
    return yaml.safe_dump_all(docs, sort_keys=False)


def deploy_objects() -> dict[tuple[str, str], dict]:
    """The objects of deploy_manifest() by (kind, name)."""
    return {(d["kind"], d["metadata"]["name"]): d
            for d in yaml.safe_load_all(deploy_manifest()) if d}


def operator_log(t: "TestContext", operator: str, *words: str) -> str:
    """The operator's newest log line with one of `words`, for a failure's message: its
    message and its `error` (controller-runtime logs JSON after the message)."""
    logs = t.kubectl("logs", "-n", operator, f"deployment/{DEPLOYMENT}")
    found = [x for x in logs.splitlines() if any(w in x for w in words)]
    if not found:
        return f"the operator's log: nothing of {'/'.join(words)}"
    line = found[-1]
    fields = line.split("\t")
    message = fields[2] if len(fields) > 2 else line[:120]
    error = re.search(r'"error": "((?:[^"\\]|\\.)*)"', line)
    return f"the operator's log: {message}" + (f": {error.group(1)[:300]}" if error else "")
