"""A Ctrl-C in the middle of a run leaves nothing the run did not mean to keep: with
--keep-cluster the cluster stays but not the run's namespaces; without it, neither the
cluster nor any of its containers. Needs Docker and the offline toolchain (a real cluster
is created: about two minutes)."""

import os
import secrets
import signal
import sys
from pathlib import Path

import pytest
from kubernetes import client

from tutorial_conformance.toolkit.cluster import api_client
from tutorial_conformance.toolkit.commands import Process, TimeoutExpired, docker, run, start
from tutorial_conformance.toolkit.paths import CHECKOUT as REPO
from tutorial_conformance.toolkit.toolchain import find_binary
from tutorial_conformance.toolkit.waiting import Unrecoverable, WaitTimeout, wait_until

START_TIMEOUT = 900  # cluster creation (or reuse) and the first test's namespace
STOP_TIMEOUT = 300


def suite_run(name: str, reports: Path, *extra: str) -> tuple[Process[str], Path]:
    """The suite, as a user starts it in a terminal (its own process group); its output
    goes to a file."""
    log = reports / f"run-{len(list(reports.glob('run-*')))}.log"
    proc = start(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "suites/test_redis_standalone.py", f"--cluster-name={name}",
         "--tutorial-image-source=offline", f"--tutorial-reports-dir={reports}", *extra],
        output=log, cwd=REPO, new_session=True,
        # As in a terminal: a background job of a non-interactive shell (a CI step)
        # inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
        preexec=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    return proc, log


def run_namespaces(kubeconfig: Path) -> list[str]:
    """The namespaces of a suite run, not yet terminating."""
    core = client.CoreV1Api(api_client(kubeconfig))
    return [n.metadata.name for n in
            core.list_namespace(label_selector="tutorial-suite/run").items
            if n.status.phase != "Terminating"]


def interrupt_mid_test(started: tuple[Process[str], Path], kubeconfig: Path) -> str:
    """Waits until a test has its namespace, then Ctrl-C (SIGINT to the process group, as
    a terminal sends it); returns the run's output."""
    proc, log = started

    def a_test_runs() -> tuple[bool, object]:
        if proc.poll() is not None:
            raise Unrecoverable(f"the run ended (exit {proc.returncode}) before a test had its "
                                f"namespace: {log.read_text()[-1500:]}")
        if not kubeconfig.exists():
            return False, "no kubeconfig yet: the cluster is being made"
        found = run_namespaces(kubeconfig)
        return bool(found), found or "no namespace of the run yet"

    try:
        wait_until("a test of the run to have its namespace", a_test_runs,
                   timeout=START_TIMEOUT, interval=2)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=STOP_TIMEOUT)
    except (WaitTimeout, TimeoutExpired) as exc:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"{exc}" if isinstance(exc, WaitTimeout)
                    else f"the run did not stop within {STOP_TIMEOUT} s of Ctrl-C")
    return log.read_text()


@pytest.mark.skipif(not Path("/var/run/docker.sock").exists(), reason="needs Docker")
def test_ctrl_c_leaves_only_what_the_run_meant_to_keep(tmp_path: Path):
    name = f"interrupt-{secrets.token_hex(3)}"
    kubeconfig = REPO / ".pytest-kind" / name / "kubeconfig"
    kind = str(find_binary("kind"))
    try:
        kept = interrupt_mid_test(suite_run(name, tmp_path, "--keep-cluster"), kubeconfig)
        assert "KeyboardInterrupt" in kept, kept[-2000:]
        assert name in run([kind, "get", "clusters"], timeout=60).stdout.split(), kept[-2000:]
        assert run_namespaces(kubeconfig) == [], "the run's namespaces outlived it"

        # Without --keep-cluster (the kept one is reused): nothing of it is left.
        deleted = interrupt_mid_test(suite_run(name, tmp_path), kubeconfig)
        assert "KeyboardInterrupt" in deleted, deleted[-2000:]
        assert name not in run([kind, "get", "clusters"], timeout=60).stdout.split()
        left = docker("ps", "-a", "--filter", f"name=^{name}-", "--format", "{{.Names}}")
        assert left.split() == [], f"containers left: {left}"
    finally:
        run([kind, "delete", "cluster", "--name", name], timeout=300, check=False)
