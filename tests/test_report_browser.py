"""The HTML reports as a reviewer sees them, rendered by Debian's headless Chromium.

REPORT_DIR=reports/html (ci/test.sh, after ci/report.sh) checks the real report: its
results are REPORT_DIR/../allure-results, the claims matrix REPORT_DIR/../claims-matrix.html,
and the screenshots go next to them. Then nothing may be missing: no Chromium, no
results, no claims or no cluster versions in them fail the tests, they never skip them.
Without REPORT_DIR, a small report is made here with ci/report.sh from a sample run of
claim tests with the suite's real plugins (tests/reporting.py).
"""

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.browser import Page, Seen, chromium, normal, render
from tests.reporting import REPO, report_runs, run_sample_suite, write_environment
from tutorial_conformance.toolkit.commands import run

REPORT_ENV = "REPORT_DIR"


@dataclass(frozen=True)
class Report:
    html: Path  # index.html is here
    results: Path  # its Allure results
    reports: Path  # claims-results.json and claims-matrix.html; the screenshots go here
    real: bool  # the real report (REPORT_DIR): whatever is missing fails


def missing(report: Report | None, why: str) -> NoReturn:
    if report is None or report.real:
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    given = os.environ.get(REPORT_ENV)
    if given:
        html = Path(given).resolve()
        if not (html / "index.html").is_file():
            missing(None, f"{REPORT_ENV}={given} holds no index.html: run `bash ci/report.sh`")
        if chromium() is None:
            missing(None, "chromium is not installed: run `bash ci/install-browser.sh`")
        return Report(html, html.parent / "allure-results", html.parent, real=True)
    if chromium() is None:
        pytest.skip(f"no {REPORT_ENV} and no chromium to check a sample report with "
                    "(bash ci/install-browser.sh)")
    base = tmp_path_factory.mktemp("report")
    sample = run_sample_suite(base)
    assert (base / "claims-results.json").is_file(), sample.stdout + sample.stderr
    write_environment(base)
    made = run(["bash", "ci/report.sh", str(base / "allure-results"), str(base / "html")],
               cwd=REPO, timeout=900, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    return Report(base / "html", base / "allure-results", base, real=False)


@dataclass(frozen=True)
class Shown:
    """What the report must show of one test: on its page, its full name, the claims it
    checks with their verdicts, and the names of its evidence attachments."""

    page: str  # Allure's id of the test: the md5 of its result's uuid
    expect: list[str]
    claims: int
    sections: list[str]


def attachment_names(node: dict[str, Any]) -> list[str]:
    names = [a["name"] for a in node.get("attachments") or []]
    for step in node.get("steps") or []:
        names += attachment_names(step)
    return names


def shown_tests(report: Report) -> list[Shown]:
    listed = report.html / "test-results.json"
    if not listed.is_file():
        missing(report, f"{listed} is missing: not a report of ci/report.sh")
    pages = set(json.loads(listed.read_text())["byId"])
    shown = []
    for path in sorted(report.results.glob("*-result.json")):
        result = json.loads(path.read_text())
        page = hashlib.md5(result["uuid"].encode()).hexdigest()
        if page not in pages:
            continue  # an earlier try of a test the report shows once
        labels = result.get("labels") or []
        claims = [label["value"] for label in labels if label["name"] == "feature"]
        sections = [label["value"] for label in labels if label["name"] == "epic"]
        verdicts = [label["value"] for label in labels if label["value"].startswith("verdict:")]
        steps = [step["name"] for step in result.get("steps") or []]  # the test as its steps
        expect = [result["fullName"], *claims, *verdicts, *steps, *attachment_names(result)]
        shown.append(Shown(page, expect, len(claims), sections))
    if len(shown) != len(pages):
        missing(report, f"the report shows {len(pages)} tests, {report.results} has results "
                f"of {len(shown)} of them: report and results do not match")
    return shown


def environment(report: Report) -> dict[str, str]:
    path = report.results / "environment.properties"
    if not path.is_file():
        missing(report, f"{path} is missing: the suite writes it once the cluster is up")
    pairs = (line.partition("=") for line in path.read_text().splitlines() if "=" in line)
    return {key.replace("\\", ""): value.replace("\\\\", "\\") for key, _, value in pairs}


def overview(report: Report, shown: list[Shown]) -> list[str]:
    """The overview shows the cluster's versions and, as the tree's groups, the sections."""
    sections = sorted({section for s in shown for section in s.sections})
    return [*(f"{k} {v}" for k, v in environment(report).items()), *sections]


@pytest.fixture(scope="module")
def report_pages(report: Report) -> tuple[list[Shown], dict[str, Seen]]:
    shown = shown_tests(report)
    pages = [Page(s.page, f"{report.html.name}/index.html#/{s.page}", s.expect) for s in shown]
    pages.append(Page("overview", f"{report.html.name}/index.html", overview(report, shown)))
    try:
        seen = render(report.html.parent, pages, report.reports / "report-screenshot.png")
    except RuntimeError as err:
        missing(report, str(err))
    return shown, seen


def not_rendered(shown: Shown, seen: Seen) -> list[str]:
    return [e for e in shown.expect if normal(e) not in seen.text]


def test_each_test_page_shows_its_claims_verdicts_and_evidence(
    report: Report, report_pages: tuple[list[Shown], dict[str, Seen]]
):
    shown, seen = report_pages
    if not any(s.claims for s in shown):
        missing(report, f"no test in {report.results} names a claim: not the suite's results")
    problems = [
        f"{s.expect[0]} (#/{s.page}): {not_rendered(s, seen[s.page])}"
        for s in shown if not seen[s.page].complete
    ]
    assert not problems, "test pages without what their results hold:\n" + "\n".join(problems)


def test_the_overview_shows_the_cluster_versions_and_the_sections(
    report: Report, report_pages: tuple[list[Shown], dict[str, Seen]]
):
    shown, seen = report_pages
    absent = [e for e in overview(report, shown) if normal(e) not in seen["overview"].text]
    assert not absent, f"the overview does not show {absent}"
    screenshot = report.reports / "report-screenshot.png"
    assert screenshot.read_bytes().startswith(b"\x89PNG"), f"{screenshot} is not a PNG"


def run_and_page(report: Report, name: str) -> tuple[Any, Path]:
    """The run's claims-results.json, loaded, and one of the pages made from it."""
    results_file = report.reports / "claims-results.json"
    page = report.reports / name
    for path in (results_file, page):
        if not path.is_file():
            missing(report, f"{path} is missing: run the suite, then `bash ci/report.sh`")
    return report_runs().load_run(results_file), page


def rendered(report: Report, page: Path, expect: list[str], screenshot: str) -> Seen:
    try:
        return render(report.reports, [Page(page.stem, page.name, expect)],
                      report.reports / screenshot)[page.stem]
    except RuntimeError as err:
        missing(report, str(err))


def test_the_claims_matrix_shows_every_claim_and_its_cell(report: Report):
    run, page = run_and_page(report, "claims-matrix.html")
    expected = {c["id"]: report_runs().cell(c).text for c in run.claims.values()}
    seen = rendered(report, page, list(expected), "claims-matrix-screenshot.png")
    head = seen.rows.get("matrix-head", [])
    assert normal(run.version) in head, f"claims-matrix.html has no column {run.version}: {head}"
    column = head.index(normal(run.version))
    wrong = {}
    for claim_id, text in expected.items():
        row = seen.rows.get(claim_id) or ["", "", *[""] * len(head)]
        claim = run.claims[claim_id]
        verdict = normal(claim.get("shown") or claim.get("verdict") or "—")
        if (normal(claim_id) not in row[0] or row[1] != verdict
                or row[column] != normal(text)):
            wrong[claim_id] = f"{row[1:2]} {row[column:column + 1]}, not {verdict}, {text}"
    assert not wrong, f"claims-matrix.html does not show these claims as the run had them: {wrong}"


def test_the_annotated_tutorial_marks_every_quoted_claim_with_its_state(report: Report):
    run, page = run_and_page(report, "annotated-tutorial.html")
    expected = {f"{c['id']}@{run.version}": report_runs().cell(c).text
                for c in run.claims.values() if c.get("quote")}
    if not expected:
        missing(report, f"no claim in {run.source} quotes the tutorial")
    ids = [key.rsplit("@", 1)[0] for key in expected]
    seen = rendered(report, page, ids, "annotated-tutorial-screenshot.png")
    wrong = {key: seen.rows.get(key) for key, text in expected.items()
             if seen.rows.get(key, ["", ""])[1:2] != [normal(text)]}
    assert not wrong, f"annotated-tutorial.html does not show these claims' states: {wrong}"


def test_the_tutorial_today_shows_today_for_every_changed_passage(report: Report):
    run, page = run_and_page(report, "tutorial-today.html")
    changed = [c for c in run.claims.values()
               if c.get("verdict") in ("outdated", "incorrect", "partly correct")
               and c.get("status") == "passed"]
    if not changed:
        missing(report, f"no claim of {run.source} is outdated, incorrect or partly correct")
    expect = {}
    for claim in changed:
        differing = [b for b in claim.get("blocks") or [] if not b.get("same")]
        expect[claim["id"]] = ("\n".join(differing[0].get("reader") or differing[0]["today"])
                               if differing
                               else str(claim.get("today")))
    seen = rendered(report, page, list(expect.values()), "tutorial-today-screenshot.png")
    absent = [claim_id for claim_id, text in expect.items() if normal(text) not in seen.text]
    assert not absent, f"tutorial-today.html does not show today's text of {absent}"
