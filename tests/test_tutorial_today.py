"""tutorial_conformance/report/today.py: the tutorial with today's blocks and truths, its
plain text and its errata, from claims-results.json."""

import json
from pathlib import Path
from typing import Any

import pytest

from tutorial_conformance.report import today
from tutorial_conformance.toolkit.tutorial import lines

DELETED = ['pod "redis" deleted from default namespace',
           'pod "redis-deployment-5d8f9c7b6d-x2x4z" deleted from default namespace']


def claim(claim_id: str, verdict: str, lines_: str, **extra: Any) -> dict[str, Any]:
    return {"id": claim_id, "section": "III", "text": f"text of {claim_id}", "testable": True,
            "verdict": verdict, "shown": verdict, "today": f"today of {claim_id}",
            "lines": lines_, "quote": ["q"], "status": "passed", "tests": [], **extra}


def write(path: Path, version: str, claims: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"kubernetes": version, "timestamp": "2026-12-02T00:00:00+00:00",
                                "sections": {"III": "Redis"}, "claims": claims}))
    return path


def test_blocks_are_replaced_notes_follow_and_errata_list_them(tmp_path: Path):
    delete = claim("redis-delete-two-pods-output", "outdated", "88-90", blocks=[
        {"lines": "89-90", "printed": lines()[88:90], "today": DELETED, "same": False},
        {"lines": "79", "printed": [], "today": ["deployment.apps/redis-deployment created"],
         "same": True}])
    bound = claim("pod-bound-to-its-node", "partly correct", "76", holds="it does not migrate")
    fine = claim("redis-kubectl-run", "confirmed", "56-59")
    old = write(tmp_path / "a" / "claims-results.json", "v1.35.8", [delete, fine])
    new = write(tmp_path / "b" / "claims-results.json", "v1.37.2", [delete, bound, fine])
    out = tmp_path / "out" / "tutorial-today"
    assert today.main(["-o", str(out), str(old), str(new)]) == 0

    text = out.with_suffix(".md").read_text()
    original = lines()
    got = text.splitlines()
    # Line 76's note added after it; lines 89-90 replaced in place, after line 88.
    assert got[:76] == original[:76] and got[76].startswith("[today, pod-bound-to-its-node")
    assert got[77:89] == original[76:88] and got[89:91] == DELETED
    assert got[91:] == original[90:]
    assert "[today, pod-bound-to-its-node: today of pod-bound-to-its-node]" in text
    assert text.count("deployment.apps/redis-deployment created") == 1  # the same block stays

    page = out.with_suffix(".html").read_text()
    assert 'id="today-redis-delete-two-pods-output-L89"' in page
    assert "<del>pod &quot;redis&quot; deleted" in page and "from default namespace" in page
    assert 'href="annotated-tutorial.html#pod-bound-to-its-node"' in page

    errata = (out.parent / "errata.md").read_text()
    assert "**lines 88-90** (redis-delete-two-pods-output, outdated, from v1.35.8 on)" in errata
    assert "**lines 76** (pod-bound-to-its-node, partly correct, from v1.37.2 (the only" in errata
    assert "  - holds: it does not migrate" in errata
    assert "redis-kubectl-run" not in errata


def test_a_results_file_that_is_not_one_is_one_line(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]):
    bad = tmp_path / "claims-results.json"
    bad.write_text("{}")
    assert today.main(["-o", str(tmp_path / "t"), str(bad)]) == 1
    assert capsys.readouterr().err.startswith("tutorial_today: ")
