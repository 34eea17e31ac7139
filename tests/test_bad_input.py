"""Bad input ends the run with one clear message and a non-zero exit, not a traceback."""

import os
from pathlib import Path

import pytest

from tests.reporting import pytest_run
from tutorial_conformance.toolkit.commands import Completed

REPO = Path(__file__).resolve().parent.parent
UNREACHABLE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: not-a-secret}}]
contexts: [{name: kind-x, context: {cluster: c, user: u}},
           {name: production, context: {cluster: c, user: u}}]
current-context: kind-x
"""


def run_suite(*args: str, env: dict[str, str] | None = None) -> Completed[str]:
    return pytest_run(REPO, "suites/test_cluster_setup.py", *args, timeout=300,
                      env={**os.environ, **(env or {})})


def assert_clear_error(proc: Completed[str], message: str) -> None:
    output = proc.stdout + proc.stderr
    assert proc.returncode == 4, output
    assert message in output, output
    assert "Traceback" not in output, output


def test_bad_kubeconfig(tmp_path: Path):
    bad = tmp_path / "kubeconfig"
    bad.write_text("clusters: [this is not: a kubeconfig")
    assert_clear_error(run_suite(f"--existing-kubeconfig={bad}"), "bad kubeconfig")


def test_missing_kubeconfig(tmp_path: Path):
    missing = tmp_path / "nope"
    assert_clear_error(run_suite(f"--existing-kubeconfig={missing}"), "does not exist")


def test_unreachable_apiserver(tmp_path: Path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(UNREACHABLE_KUBECONFIG)
    proc = run_suite(f"--existing-kubeconfig={kubeconfig}")
    assert_clear_error(proc, "the apiserver at https://127.0.0.1:1 is unreachable")
    assert "not-a-secret" not in proc.stdout + proc.stderr


def test_unknown_kube_context(tmp_path: Path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(UNREACHABLE_KUBECONFIG)
    proc = run_suite(f"--tutorial-existing-kubeconfig={kubeconfig}",
                     "--tutorial-kube-context=kind-nope")
    assert_clear_error(proc, "no context 'kind-nope' in")
    assert "kind-x, production" in proc.stdout + proc.stderr


def test_a_context_that_is_not_kind_needs_the_explicit_flag(tmp_path: Path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(UNREACHABLE_KUBECONFIG)
    args = (f"--tutorial-existing-kubeconfig={kubeconfig}", "--tutorial-kube-context=production")
    assert_clear_error(run_suite(*args), "context 'production' does not look like a throwaway")
    # With the flag the run goes on, to that context's (unreachable) apiserver.
    assert_clear_error(run_suite(*args, "--tutorial-allow-non-kind"),
                       "the apiserver at https://127.0.0.1:1 is unreachable")


def test_the_previous_option_names_still_work_with_a_deprecation_warning():
    proc = run_suite("--collect-only", "-q", "--image-source=offline")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "--image-source is the previous name of --tutorial-image-source" in proc.stdout


def test_unknown_kubernetes_version():
    assert_clear_error(run_suite("--k8s-version=1.34"), "unknown Kubernetes version '1.34'")


def test_no_kind_binary():
    assert_clear_error(run_suite("--kind-bin=/nonexistent/kind"), "does not exist")


# Stand-ins for kind and kubectl: these checks come before either runs, and so also hold
# where the toolchain is not installed yet (the workflow's test step comes before it).
TOOLS = ("--kind-bin=/bin/true", "--kind-kubectl-bin=/bin/true")


def test_docker_engine_not_running():
    proc = run_suite(*TOOLS, env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert_clear_error(proc, "the Docker engine is not running or not reachable")


def test_no_docker_cli(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("kind", "kubectl"):
        (bin_dir / tool).symlink_to("/bin/true")
    proc = run_suite(env={"PATH": str(bin_dir), "SUITE_CACHE": str(tmp_path / "cache")})
    assert_clear_error(proc, "no Docker: the docker CLI is not installed")


@pytest.mark.parametrize("version", ["v1.30.99"])
def test_offline_node_image_missing(version: str):
    proc = run_suite(f"--k8s-version={version}", "--image-source=offline", *TOOLS)
    assert_clear_error(proc, f"node image tutorial-suite/node:{version} is missing")
