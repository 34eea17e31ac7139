"""`pytest -n` on one shared cluster (fixtures/parallel.py): the disruptive tests' lock,
and a parallel run on a kind cluster with one merged claims-results.json and JUnit file."""

import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path

from lxml import etree

from tests.reporting import pytest_run
from tutorial_conformance.fixtures.parallel import longest_first, turn
from tutorial_conformance.toolkit.commands import run
from tutorial_conformance.toolkit.toolchain import find_binary

REPO = Path(__file__).resolve().parent.parent


def test_the_longest_modules_are_handed_out_first():
    queue: OrderedDict[str, object] = OrderedDict.fromkeys([
        "suites/test_architecture.py", "operator", "suites/test_statefulset.py",
        "suites/test_topologies.py", "suites/test_pods.py"])
    longest_first(queue)
    assert list(queue) == ["suites/test_topologies.py", "operator", "suites/test_statefulset.py",
                           "suites/test_architecture.py", "suites/test_pods.py"]


def test_a_waiting_disruptive_test_goes_before_new_tests(tmp_path: Path):
    lock, order = tmp_path / "disruptive.lock", []
    first_in, release_first = threading.Event(), threading.Event()

    def first() -> None:
        with turn(lock, exclusive=False):
            first_in.set()
            release_first.wait(10)
            order.append("first")

    def disruptive() -> None:
        with turn(lock, exclusive=True):
            order.append("disruptive")

    def later() -> None:
        with turn(lock, exclusive=False):
            order.append("later")

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert first_in.wait(10)
    threads.append(threading.Thread(target=disruptive))
    threads[1].start()
    time.sleep(0.5)  # the disruptive test is waiting for the first to end
    threads.append(threading.Thread(target=later))
    threads[2].start()
    time.sleep(0.5)
    assert order == [], "a test ran beside the first, or before the waiting disruptive one"
    release_first.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first", "disruptive", "later"]


def test_a_parallel_run_shares_one_cluster_and_merges_its_reports(tmp_path: Path):
    name = f"parallel-{secrets.token_hex(2)}"
    image_source = "offline" if os.environ.get("OFFLINE") else "auto"
    try:
        proc = pytest_run(
            REPO, "-n", "2",
            "-k", "cluster-kubectl-version or arch-apps-on-workers or redis-kubectl-run",
            f"--cluster-name={name}", f"--tutorial-image-source={image_source}",
            f"--tutorial-reports-dir={tmp_path}", f"--junitxml={tmp_path / 'junit.xml'}",
            timeout=1200)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-1000:]
        clusters = run([str(find_binary("kind")), "get", "clusters"], timeout=60,
                       check=False).stdout.split()
        assert name not in clusters, "the shared cluster was not deleted at the end"
    finally:
        run([str(find_binary("kind")), "delete", "cluster", "--name", name], timeout=300,
            check=False)
    assert "created: 2/2 workers" in proc.stdout or "2 workers" in proc.stdout, proc.stdout[:500]
    results = json.loads((tmp_path / "claims-results.json").read_text())
    ran = {c["id"]: c["status"] for c in results["claims"]
           if c["status"] not in ("not run", "untestable")}
    assert ran == {"cluster-kubectl-version": "passed", "arch-apps-on-workers": "passed",
                   "redis-kubectl-run": "passed"}
    assert results["kubernetes"], "the merged results name no Kubernetes version"
    junit = etree.parse(str(tmp_path / "junit.xml"))
    named = {p.get("name") for p in junit.iter("property")}
    assert {n for n in named if n.startswith("claims:")} and len(list(junit.iter("testcase"))) >= 4
