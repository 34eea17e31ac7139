"""tutorial_conformance/report/tutorial.py: the tutorial's text with each quoted passage
marked with its claim's state per version, the claim's box beside it, and links to the
evidence."""

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from tests.reporting import annotated_tutorial
from tutorial_conformance.toolkit.commands import run

at = annotated_tutorial()
QUOTE = "In the early stage, iptables was used, and now ipvs technology is used."


def ipvs(status: str, today: str) -> dict[str, Any]:
    return {"id": "arch-kube-proxy-uses-ipvs", "section": "I", "text": "kube-proxy uses IPVS",
            "quote": [QUOTE], "lines": "23", "testable": True, "verdict": "incorrect",
            "today": today, "status": status, "reason": None,
            "tests": [{"nodeid": "suites/test_architecture.py::test_ipvs", "outcome": status}]}


def write_run(base: Path, version: str, claim: dict[str, Any]) -> Path:
    base.mkdir(parents=True)
    (base / "claims-results.json").write_text(json.dumps({
        "kubernetes": version, "timestamp": "2026-11-27T00:00:00+00:00",
        "sections": {"I": "Architecture"}, "claims": [claim], "environment": {}}))
    results = base / "allure-results"
    results.mkdir()
    (results / "a-result.json").write_text(json.dumps(
        {"uuid": "u-1", "fullName": "suites.test_architecture#test_ipvs"}))
    (base / "html").mkdir()
    (base / "html" / "index.html").write_text("<html></html>")
    return base / "claims-results.json"


def test_the_quoted_passage_is_marked_and_boxed_per_version(tmp_path: Path):
    older = write_run(tmp_path / "runs" / "v1.36.3", "v1.36.3", ipvs("passed", "iptables"))
    newer = write_run(tmp_path / "runs" / "v1.37.2", "v1.37.2", ipvs("failed", "gate"))
    out = tmp_path / "annotated-tutorial.html"
    proc = run([sys.executable, "-m", "tutorial_conformance.report.tutorial", "-o",
                str(out), str(older), str(newer)], timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    # The worst state of the two versions colours the passage.
    assert f'<mark class="failed" title="arch-kube-proxy-uses-ipvs">{QUOTE}</mark>' in page
    assert 'id="arch-kube-proxy-uses-ipvs@v1.36.3"' in page
    assert '<td class="incorrect">incorrect</td>' in page
    assert '<td class="failed">FAILED</td>' in page
    assert "<b>today:</b> iptables" in page
    page_id = hashlib.md5(b"u-1").hexdigest()
    assert f'href="runs/v1.37.2/html/index.html#/{page_id}"' in page
    # The whole tutorial is there, line by line.
    assert page.count('<div class="row" id="L') == len(at.TUTORIAL.read_text().splitlines())


def test_bad_results_are_one_line(tmp_path: Path):
    bad = tmp_path / "claims-results.json"
    bad.write_text("{")
    proc = run([sys.executable, "-m", "tutorial_conformance.report.tutorial", "-o",
                str(tmp_path / "out.html"), str(bad)], timeout=60, check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "not readable JSON" in proc.stderr
