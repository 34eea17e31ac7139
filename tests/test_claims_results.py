"""What a suite run leaves for reviewers: claims-results.json (fixtures/claims.py) and the
cluster's versions in Allure's environment.properties (fixtures/report.py)."""

import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.reporting import (
    REPO,
    SAMPLE_ATTACHMENTS,
    SAMPLE_STATUS,
    module_in_suites,
    pytest_run,
    run_sample_suite,
)
from tutorial_conformance.fixtures import report
from tutorial_conformance.toolkit.catalogue import load_catalogue
from tutorial_conformance.toolkit.cluster import Cluster
from tutorial_conformance.toolkit.commands import Completed
from tutorial_conformance.toolkit.kubectl import Kubectl


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reports = tmp_path_factory.mktemp("reports")
    proc = run_sample_suite(reports)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the sample has a failing test
    assert "Traceback" not in proc.stderr
    return reports


def test_every_claim_of_the_catalogue_has_its_status(sample: Path):
    results = json.loads((sample / "claims-results.json").read_text())
    assert results["kubernetes"] is None  # no cluster in the sample run
    assert results["timestamp"]
    claims = {c["id"]: c for c in results["claims"]}
    catalogue = load_catalogue().claims
    assert list(claims) == list(catalogue)
    for claim_id, status in SAMPLE_STATUS.items():
        assert claims[claim_id]["status"] == status
        assert claims[claim_id]["verdict"] == catalogue[claim_id].verdict
        assert [t["outcome"] for t in claims[claim_id]["tests"]] == [status]
        assert claims[claim_id]["tests"][0]["nodeid"].startswith("suites/test_zz_report_sample_")
    assert claims["arch-kube-proxy-uses-ipvs"]["reason"] == "the kernel has no IPVS"
    untestable = [c for c in catalogue.values() if not c.testable]
    for claim in untestable:
        assert (claims[claim.id]["status"], claims[claim.id]["reason"]) == (
            "untestable", claim.reason)
    others = set(catalogue) - set(SAMPLE_STATUS) - {c.id for c in untestable}
    assert {claims[i]["status"] for i in others} == {"not run"}


def test_allure_results_carry_claims_verdicts_and_evidence(sample: Path):
    results = [json.loads(p.read_text()) for p in (sample / "allure-results").glob("*-result.json")]
    by_name = {r["name"]: r for r in results}
    docker = by_name["test_nodes_run_containerd"]
    labels = {(label["name"], label["value"]) for label in docker["labels"]}
    assert ("tag", "verdict:outdated") in labels
    assert any(n == "feature" and v.startswith("arch-node-runtime-docker: ") for n, v in labels)
    assert "Verdict: outdated" in docker["description"]
    assert "Today: " in docker["description"]
    attached = {a["name"] for r in results for a in r.get("attachments", [])}
    assert set(SAMPLE_ATTACHMENTS) <= attached


def test_no_results_file_without_suite_tests(tmp_path: Path):
    proc = pytest_run(REPO, "tests/test_waiting.py", f"--tutorial-reports-dir={tmp_path}",
                      timeout=120)
    assert proc.returncode == 0, proc.stdout
    assert not (tmp_path / "claims-results.json").exists()


def test_properties_are_escaped():
    text = report.properties_text({"a key": "C:\\path\nnext", "kind": "kind v0.30.0"})
    assert text == "a\\ key=C:\\\\path\\nnext\nkind=kind v0.30.0\n"


class FakeApi:
    """The two calls fixtures/report.py makes of the apiserver."""

    def __init__(self, _api: object = None) -> None:
        pass

    def get_code(self, **_: object) -> SimpleNamespace:
        return SimpleNamespace(git_version="v1.34.4")

    def list_node(self, **_: object) -> SimpleNamespace:
        info = SimpleNamespace(container_runtime_version="containerd://2.1.4",
                               os_image="Debian GNU/Linux 12 (bookworm)", kernel_version="6.1")
        return SimpleNamespace(items=[SimpleNamespace(status=SimpleNamespace(node_info=info))] * 3)


def fake_binary(path: Path, output: str) -> Path:
    path.write_text(f"#!/bin/sh\ncat <<'EOF'\n{output}\nEOF\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_environment_properties_name_the_cluster_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(report.client, "VersionApi", FakeApi)
    monkeypatch.setattr(report.client, "CoreV1Api", FakeApi)
    kind = fake_binary(tmp_path / "kind", "kind v0.30.0 go1.24.6 linux/amd64")
    kubectl = fake_binary(tmp_path / "kubectl", '{"clientVersion": {"gitVersion": "v1.34.4"}}')
    options = {"kind_bin": str(kind), "allure_report_dir": str(tmp_path / "allure-results")}
    config = SimpleNamespace(stash=pytest.Stash(), getoption=lambda name, default=None:
                             options.get(name, default))
    cluster = Cluster(tmp_path / "kubeconfig", Kubectl(kubectl, tmp_path / "kubeconfig"),
                      object(), "tutorial-suite", "tutorial-suite/node:v1.34.4")
    report.record_environment(config, cluster, ours=True)  # type: ignore[arg-type]
    written = (tmp_path / "allure-results" / "environment.properties").read_text()
    assert written.splitlines() == [
        "kubernetes.server=v1.34.4",
        "kubectl.client=v1.34.4",
        "kind=kind v0.30.0 go1.24.6 linux/amd64",
        "node.container.runtime=containerd://2.1.4",
        "node.image=tutorial-suite/node:v1.34.4",
        "node.os=Debian GNU/Linux 12 (bookworm)",
        "node.kernel=6.1",
        "image.source=offline (built from the package registries)",
    ]
    assert config.stash[report.ENVIRONMENT]["kubernetes.server"] == "v1.34.4"
    assert config.stash[report.ENVIRONMENT]["cluster.habits"] == (
        "the suite's own kind cluster (kind, kubeadm-built, etcd stacked)")


def test_a_version_that_cannot_be_read_does_not_fail_the_run():
    def broken() -> str:
        raise ConnectionError("refused\nmore")

    assert report._probe(broken) == "unknown (ConnectionError: refused)"


RERUN_MODULE = '''
import os

import pytest


@pytest.mark.claim("arch-control-plane-components")
def test_passes():
    pass


@pytest.mark.claim("redis-kubectl-run", "pod-is-docker-process")
def test_fails_the_first_time():
    assert os.environ.get("SAMPLE_MENDED"), "pod/redis never became Running"
'''


def test_rerun_of_the_failed_claims_runs_their_tests_and_keeps_the_rest(tmp_path: Path):
    def run(module: Path, *args: str, mended: bool = False) -> Completed[str]:
        env = {**os.environ, **({"SAMPLE_MENDED": "1"} if mended else {})}
        return pytest_run(REPO, str(module), f"--tutorial-reports-dir={tmp_path}", *args,
                          timeout=120, env=env)

    with module_in_suites("rerun_sample", RERUN_MODULE) as module:
        first = run(module)
        assert first.returncode == 1, first.stdout[-2000:]
        before = json.loads((tmp_path / "claims-results.json").read_text())
        rerun = run(module, "--tutorial-rerun-failed-claims", "-v", mended=True)
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-1000:]
    assert "test_fails_the_first_time PASSED" in rerun.stdout
    assert "test_passes" not in rerun.stdout.split("rerun of the failed claims")[1]
    assert "1 deselected" in rerun.stdout
    claims = {c["id"]: c for c in json.loads((tmp_path / "claims-results.json").read_text())[
        "claims"]}
    assert claims["redis-kubectl-run"]["status"] == "passed"
    assert "from_run" not in claims["redis-kubectl-run"]
    carried = claims["arch-control-plane-components"]
    assert (carried["status"], carried["from_run"]) == ("passed", before["timestamp"])
    assert claims["sfs-replica-syncs"]["status"] == "not run"


@pytest.mark.parametrize("content, says", [
    (None, "no "),
    ("{not json", "cannot read"),
    ('{"claims": 3}', "is not a claims-results.json"),
])
def test_rerun_without_usable_results_says_so_in_one_line(
    tmp_path: Path, content: str | None, says: str
):
    if content is not None:
        (tmp_path / "claims-results.json").write_text(content)
    proc = pytest_run(REPO, "--collect-only", "-q", "--tutorial-rerun-failed-claims",
                      f"--tutorial-reports-dir={tmp_path}", "suites", timeout=120)
    assert proc.returncode == 4, proc.stdout[-1000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "--tutorial-rerun-failed-claims: " in proc.stderr and says in proc.stderr
