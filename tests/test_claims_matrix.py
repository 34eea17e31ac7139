"""tutorial_conformance/report/matrix.py: claims-results.json of several runs -> one
matrix, HTML and Markdown."""

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.reporting import claims_matrix, report_runs
from tutorial_conformance.toolkit.commands import Completed, run

cm = claims_matrix()
rs = report_runs()
MODULE = "tutorial_conformance.report.matrix"
SECTIONS = {"I": "Architecture", "III": "Redis"}


def claim(claim_id: str, status: str, section: str = "I", **extra: Any) -> dict[str, Any]:
    return {"id": claim_id, "section": section, "text": f"text of {claim_id}", "testable": True,
            "verdict": "confirmed", "today": None, "status": status, "reason": None,
            "tests": [{"nodeid": f"suites/test_x.py::test_{claim_id}", "outcome": status}],
            **extra}


def write_run(path: Path, version: str | None, claims: list[dict[str, Any]],
              timestamp: str = "2026-01-01T00:00:00+00:00") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "kubernetes": version, "timestamp": timestamp, "sections": SECTIONS, "claims": claims,
        "environment": {"node.image": f"kindest/node:{version}"},
    }))
    return path


def run_cli(*args: str) -> Completed[str]:
    return run([sys.executable, "-m", MODULE, *args], timeout=60, check=False)


@pytest.mark.parametrize(
    ("entry", "state", "text"),
    [
        (claim("a", "passed"), "confirmed", "confirmed"),
        (claim("a", "passed", verdict="outdated", today="t"), "outdated", "outdated"),
        (claim("a", "passed", verdict="incorrect", today="t"), "incorrect", "incorrect"),
        (claim("a", "passed", verdict="partly correct", today="t", holds="h"), "partly-correct",
         "partly correct"),
        (claim("a", "passed", shown="confirmed on kind (kubeadm)"), "confirmed",
         "confirmed on kind (kubeadm)"),
        (claim("a", "differs", reason="differs on this cluster (...)"), "differs",
         "differs on this cluster"),
        (claim("a", "failed"), "failed", "FAILED"),
        (claim("a", "skipped", reason="no IPVS"), "skipped", "skipped: no IPVS"),
        (claim("a", "not run"), "not-run", "not run"),
        (claim("a", "untestable", testable=False, verdict=None, reason="needs etcd outside"),
         "untestable", "untestable (needs etcd outside)"),
        (None, "not-run", "not run"),
    ],
)
def test_cells(entry: dict[str, Any] | None, state: str, text: str):
    cell = rs.cell(entry)
    assert (cell.state, cell.text) == (state, text)


def test_runs_are_merged_into_columns_by_version_and_rows_by_section(tmp_path: Path):
    docker = {"verdict": "outdated", "today": "containerd runs them"}
    old = write_run(tmp_path / "a" / "claims-results.json", "v1.35.4", [
        claim("redis", "failed", section="III"), claim("docker", "passed", **docker),
    ])
    new = write_run(tmp_path / "b" / "claims-results.json", "v1.34.4", [
        claim("redis", "passed", section="III"),
        claim("docker", "skipped", reason="why", **docker),
    ])
    out = tmp_path / "out" / "claims-matrix"
    proc = run_cli("-o", str(out), str(old), str(new))
    assert proc.returncode == 0, proc.stderr
    md = out.with_suffix(".md").read_text()
    assert "| claim | verdict | v1.34.4 | v1.35.4 |" in md
    assert md.index("## I. Architecture") < md.index("`docker`: text") < md.index("## III. Redis")
    assert "| skipped: why | outdated |" in md
    assert "*today:* containerd runs them" in md
    assert "| `redis`: text of redis | confirmed | confirmed | FAILED |" in md
    page = out.with_suffix(".html").read_text()
    assert '<td class="failed"' in page and '<td class="outdated"' in page
    assert "<script" not in page and "today:</b> containerd runs them" in page


def test_the_latest_run_of_a_version_counts(tmp_path: Path):
    first = write_run(tmp_path / "1.json", "v1.34.4", [claim("a", "failed")],
                      "2026-01-01T00:00:00+00:00")
    second = write_run(tmp_path / "2.json", "v1.34.4", [claim("a", "passed")],
                       "2026-01-02T00:00:00+00:00")
    proc = run_cli("-o", str(tmp_path / "m"), str(second), str(first))
    assert proc.returncode == 0, proc.stderr
    assert "2 runs of v1.34.4" in proc.stderr
    assert "| confirmed | confirmed |" in (tmp_path / "m.md").read_text()


def test_a_run_without_a_cluster_gets_a_column_of_its_own(tmp_path: Path):
    run = write_run(tmp_path / "offline-run" / "claims-results.json", None, [claim("a", "failed")])
    matrix = rs.build_matrix([rs.load_run(run)])
    assert matrix.runs[0].version == "unknown (offline-run)"


def test_text_is_escaped(tmp_path: Path):
    run = write_run(tmp_path / "r.json", "v1.34.4",
                    [claim("a", "passed", text="<script>x</script> | pipe")])
    assert run_cli("-o", str(tmp_path / "m"), str(run)).returncode == 0
    assert "&lt;script&gt;" in (tmp_path / "m.html").read_text()
    assert "\\| pipe" in (tmp_path / "m.md").read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not readable JSON"),
        ('{"claims": [{"id": "a"}]}', "not a claims-results.json"),
        ("[1, 2]", "not a claims-results.json"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, content: str | None, message: str
):
    path = tmp_path / "claims-results.json"
    if content is not None:
        path.write_text(content)
    proc = run_cli("-o", str(tmp_path / "m"), str(path))
    assert proc.returncode == 1
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "m.html").exists()


def test_a_verdict_that_differs_between_versions_is_shown_per_version(tmp_path: Path):
    older = claim("ipvs", "passed", verdict="incorrect", today="iptables is the default")
    newer = claim("ipvs", "passed", verdict="incorrect", today="IPVS needs its feature gate")
    runs = [rs.load_run(write_run(tmp_path / v / "claims-results.json", v, [c]))
            for v, c in (("v1.36.3", older), ("v1.37.2", newer))]
    matrix = rs.build_matrix(runs)
    verdict, today = cm.verdict_text(matrix, matrix.claims[0])
    assert verdict == "differs by version"
    assert today == ("v1.36.3: incorrect (today: iptables is the default); "
                     "v1.37.2: incorrect (today: IPVS needs its feature gate)")
    assert "differs by version" in cm.render_markdown(matrix)
    same = rs.build_matrix([runs[0], rs.load_run(write_run(
        tmp_path / "b" / "claims-results.json", "v1.35.4", [older]))])
    assert cm.verdict_text(same, same.claims[0]) == ("incorrect", "iptables is the default")


def test_the_tutorials_words_are_shown_with_each_claim(tmp_path: Path):
    quoted = claim("q", "passed", quote=["Only apiserver will connect ETCD."], lines="15")
    matrix = rs.build_matrix([rs.load_run(write_run(tmp_path / "r.json", "v1.37.2", [quoted]))])
    assert "*tutorial, lines 15:* “Only apiserver will connect ETCD.”" in cm.render_markdown(matrix)
    assert "tutorial, lines 15: “Only apiserver will connect ETCD.”" in cm.render_html(matrix, "")


def test_each_claim_shows_its_basis_and_the_added_claims_are_apart(tmp_path: Path):
    basis = {"kind": "conformance", "refs": ["Pods, lifecycle"], "part": None,
             "label": "conformance: Pods, lifecycle"}
    run = write_run(tmp_path / "r" / "claims-results.json", "v1.37.2", [
        claim("pod", "passed", basis=basis),
        claim("gc", "passed", beyond="the suite's addition"),
    ])
    out = tmp_path / "m"
    assert run_cli("-o", str(out), str(run)).returncode == 0
    md = out.with_suffix(".md").read_text()
    assert "`pod`: text of pod<br>*basis:* conformance: Pods, lifecycle" in md
    assert md.index("## I. Architecture") < md.index("`pod`") < md.index(
        "## Beyond the tutorial's words") < md.index("`gc`")
    assert "*beyond the tutorial's words:* the suite's addition" in md
    html = out.with_suffix(".html").read_text()
    assert '<div class="basis"><b>basis:</b> conformance: Pods, lifecycle</div>' in html


def test_the_matrix_opens_with_what_differs_and_what_changes_in_the_next_minor(tmp_path: Path):
    runs = [write_run(tmp_path / v / "claims-results.json", v, claims) for v, claims in (
        ("v1.36.5", [claim("same", "passed"), claim("ipvs", "skipped", reason="no IPVS")]),
        ("v1.37.2", [claim("same", "passed"), claim("ipvs", "passed")]),
        ("v1.38.0-beta.0", [claim("same", "failed"), claim("ipvs", "passed")]))]
    proc = run_cli("-o", str(tmp_path / "m"), *map(str, runs))
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "m.md").read_text()
    differs = md.index("## What differs between versions")
    nxt = md.index("## Changes in the next minor (v1.38.0-beta.0)")
    assert differs < nxt < md.index("## I. Architecture")
    assert "- `ipvs`: v1.36.5: skipped: no IPVS; v1.37.2: confirmed" in md[differs:nxt]
    assert "`same`" not in md[differs:nxt]
    assert "- `same`: v1.37.2: confirmed; v1.38.0-beta.0: FAILED" in md[nxt:]
    assert "| v1.38.0-beta.0 (pre-release) |" in md
    page = (tmp_path / "m.html").read_text()
    assert '<a href="#same">same</a>: v1.37.2: confirmed; v1.38.0-beta.0: FAILED' in page


def test_a_matrix_of_one_released_version_says_nothing_differs(tmp_path: Path):
    run = write_run(tmp_path / "r.json", "v1.37.2", [claim("a", "passed")])
    assert run_cli("-o", str(tmp_path / "m"), str(run)).returncode == 0
    assert "No claim's state differs." in (tmp_path / "m.md").read_text()


def test_a_rerun_of_some_claims_updates_those_and_keeps_the_others(tmp_path: Path):
    full = write_run(tmp_path / "full.json", "v1.36.5",
                     [claim("a", "passed"), claim("b", "failed")], "2026-01-01T00:00:00+00:00")
    rerun = write_run(tmp_path / "rerun.json", "v1.36.5", [claim("a", "not run"),
                                                           claim("b", "passed")],
                      "2026-01-02T00:00:00+00:00")
    runs, notes = rs.latest_per_version([rs.load_run(full), rs.load_run(rerun)])
    assert [r.version for r in runs] == ["v1.36.5"]
    assert {k: c["status"] for k, c in runs[0].claims.items()} == {"a": "passed", "b": "passed"}
    assert notes and "each claim's latest result counts" in notes[0]
