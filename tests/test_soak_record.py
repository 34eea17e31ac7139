"""ci/soak_record.py: the soak's record names the flaky tests and counts each run."""

import sys
from pathlib import Path

from tutorial_conformance.toolkit.commands import run

REPO = Path(__file__).resolve().parent.parent


def junit(*cases: tuple[str, str]) -> str:
    body = "".join(
        f'<testcase classname="suites.test_x" name="{name}" time="1">'
        + ("<failure message='no'/>" if result == "failed" else "")
        + ("<skipped message='why'/>" if result == "skipped" else "") + "</testcase>"
        for name, result in cases)
    suite = f'<testsuite name="pytest" tests="{len(cases)}">{body}</testsuite>'
    return f"<testsuites>{suite}</testsuites>"


def test_a_test_that_passed_once_and_failed_once_is_flaky(tmp_path: Path):
    (tmp_path / "run-1.xml").write_text(junit(("test_a", "passed"), ("test_b", "passed"),
                                              ("test_c", "skipped")))
    (tmp_path / "run-2.xml").write_text(junit(("test_a", "failed"), ("test_b", "passed"),
                                              ("test_c", "skipped")))
    (tmp_path / "runs.txt").write_text("1 0 100\n2 1 110\n")
    record = tmp_path / "SOAK.md"
    proc = run([sys.executable, str(REPO / "ci" / "soak_record.py"), str(tmp_path),
                str(record)], timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    text = record.read_text()
    assert "Flaky (passed in one run, failed in another): 1" in text
    assert "- `suites.test_x::test_a`" in text
    assert "| 2 | 1 | 110 s | 1 | 1 | 1 |" in text
    assert "test_b" not in text  # passed every time


def test_bad_input_is_one_line(tmp_path: Path):
    proc = run([sys.executable, str(REPO / "ci" / "soak_record.py"), str(tmp_path / "none")],
               timeout=60, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
