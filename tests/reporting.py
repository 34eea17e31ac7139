"""For the report tests: the report modules, and a small suite run without a
cluster (a few claim tests: passed, skipped, failed, with evidence) made with the suite's
real plugins, for what reports are made of."""

import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from tutorial_conformance.toolkit.commands import Completed, run

REPO = Path(__file__).resolve().parent.parent

# Claim tests without a cluster: the evidence a test's context would keep, kept directly.
SAMPLE_MODULE = '''
import pytest

from tutorial_conformance.toolkit.evidence import Evidence


@pytest.mark.claim("arch-node-runtime-docker", "pod-is-docker-process")
def test_nodes_run_containerd():
    Evidence().add("$ kubectl get nodes -o wide", "NAME  CONTAINER-RUNTIME\\nw1  containerd://2.1.4")


@pytest.mark.claim("arch-control-plane-components")
def test_control_plane_pods():
    Evidence().add("$ kubectl get pods -n kube-system", "kube-apiserver-cp  1/1  Running")


@pytest.mark.claim("arch-kube-proxy-uses-ipvs")
def test_ipvs_mode():
    pytest.skip("the kernel has no IPVS")


@pytest.mark.claim("redis-kubectl-run")
def test_redis_pod_running():
    Evidence().add("$ kubectl get pod redis", "redis  0/1  ImagePullBackOff")
    raise AssertionError("pod/redis never became Running")
'''

# claim id -> the status the sample run gives it
SAMPLE_STATUS = {
    "arch-node-runtime-docker": "passed",
    "pod-is-docker-process": "passed",
    "arch-control-plane-components": "passed",
    "arch-kube-proxy-uses-ipvs": "skipped",
    "redis-kubectl-run": "failed",
}
SAMPLE_ATTACHMENTS = ["$ kubectl get nodes -o wide", "$ kubectl get pods -n kube-system"]
ENVIRONMENT = {"kubernetes.server": "v1.34.4", "kind": "kind v0.30.0 go1.24.6 linux/amd64"}


@contextmanager
def module_in_suites(stem: str, source: str) -> Iterator[Path]:
    """A test module in suites/ (where the claims plugin links tests to claims) while the
    block runs; its name starts with test_zz_, which the faults catalogue's check ignores."""
    module = REPO / "suites" / f"test_zz_{stem}_{os.getpid()}.py"
    module.write_text(source)
    try:
        yield module
    finally:
        module.unlink()


def pytest_run(cwd: Path, *args: str, timeout: float = 300, env: dict[str, str] | None = None,
               python: str = sys.executable) -> Completed[str]:
    """`python -m pytest ARGS` in `cwd`, without the cache provider; its result."""
    return run([python, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
               timeout=timeout, check=False, env=env)


def run_sample_suite(reports: Path) -> Completed[str]:
    """Runs the sample claim tests with --alluredir=REPORTS/allure-results and
    --tutorial-reports-dir=REPORTS."""
    with module_in_suites("report_sample", SAMPLE_MODULE) as module:
        return pytest_run(REPO, str(module), f"--alluredir={reports / 'allure-results'}",
                          f"--tutorial-reports-dir={reports}")


def write_environment(reports: Path) -> None:
    """What fixtures/report.py writes when a cluster is up (the sample has none)."""
    lines = "".join(f"{k}={v}\n" for k, v in ENVIRONMENT.items())
    (reports / "allure-results" / "environment.properties").write_text(lines)


def claims_matrix() -> ModuleType:
    from tutorial_conformance.report import matrix

    return matrix


def report_runs() -> ModuleType:
    from tutorial_conformance.report import runs

    return runs


def annotated_tutorial() -> ModuleType:
    from tutorial_conformance.report import tutorial

    return tutorial


def ci_script(name: str) -> ModuleType:
    path = REPO / "ci" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
