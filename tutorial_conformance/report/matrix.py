"""Merges the claims-results.json of suite runs into a matrix: claims x Kubernetes versions.

    python -m tutorial_conformance.report.matrix -o reports/claims-matrix \
        reports/runs/*/claims-results.json

writes reports/claims-matrix.html (one self-contained page) and reports/claims-matrix.md.
A cell is the claim's verdict (confirmed, partly correct, outdated, incorrect; with the
stand-in that ran, or the distribution a habit was seen on) where its tests passed on that
version, FAILED where one failed, `differs on this cluster` where a distribution's habit
did not hold on a cluster without it, `skipped: reason`, `not run`, or `untestable
(reason)`. Each claim shows what its verdict rests on (its basis); the claims that go
beyond the tutorial's words are listed apart. Of several runs of one version, each
claim's latest result counts (a rerun of some claims updates those).
"""

import argparse
import html
import json
import re
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutorial_conformance.report import changes

VERDICTS = ("confirmed", "partly correct", "outdated", "incorrect")
STATES = {  # cell state -> (background, text colour, what it means)
    "confirmed": ("#d1f2d9", "#0b4d1f", "tests passed: the tutorial is right"),
    "partly-correct": ("#e6f0c2", "#3d4a00", "tests passed: part of the tutorial's words hold"),
    "outdated": ("#fde9b6", "#5c4300", "tests passed: the tutorial is outdated"),
    "incorrect": ("#fbd3c4", "#6b1d00", "tests passed: the tutorial is wrong"),
    "failed": ("#c62828", "#ffffff", "a test failed: the verdict is not shown"),
    "differs": ("#e1d5f0", "#3b1f5f", "a kind/kubeadm habit, not a Kubernetes promise, "
                "did not hold on this cluster"),
    "skipped": ("#dde6f3", "#1f3a5f", "the tests were skipped"),
    "not-run": ("#f1f1f1", "#555555", "no test of the claim ran"),
    "untestable": ("#f1f1f1", "#555555", "the claim cannot be tested"),
}


class InputError(Exception):
    """A results file that cannot be read: reported as one line."""


@dataclass(frozen=True)
class Run:
    source: Path
    version: str
    timestamp: str
    environment: dict[str, str]
    sections: dict[str, str]
    claims: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Cell:
    state: str
    text: str
    detail: str  # the tests and their outcomes


def load_run(path: Path) -> Run:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file (the suite writes it into "
                         "--tutorial-reports-dir)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not readable JSON ({exc})") from None
    claims = data.get("claims") if isinstance(data, dict) else None
    if not isinstance(claims, list) or not all(
        isinstance(c, dict) and {"id", "section", "text", "status"} <= c.keys() for c in claims
    ):
        raise InputError(f"{path}: not a claims-results.json (no list of claims with "
                         "id, section, text and status)")
    return Run(
        source=path,
        version=data.get("kubernetes") or f"unknown ({path.parent.name})",
        timestamp=str(data.get("timestamp") or ""),
        environment=dict(data.get("environment") or {}),
        sections={str(k): str(v) for k, v in (data.get("sections") or {}).items()},
        claims={c["id"]: c for c in claims},
    )


def version_key(version: str) -> tuple[int, ...]:
    match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", version)
    return tuple(int(p) for p in match.groups()) if match else (sys.maxsize,)


def latest_per_version(runs: list[Run]) -> tuple[list[Run], list[str]]:
    """One run per version, its claims merged from every run of that version, each claim's
    latest result counting (a rerun of some claims updates those); a note for each version
    run more than once."""
    by_version: dict[str, list[Run]] = {}
    for run in runs:
        by_version.setdefault(run.version, []).append(run)
    chosen, notes = [], []
    for version in sorted(by_version, key=lambda v: (version_key(v), v)):
        group = sorted(by_version[version], key=lambda r: r.timestamp)
        claims: dict[str, dict[str, Any]] = {}
        for run in group:  # a claim a rerun did not run keeps its earlier result
            claims.update({k: c for k, c in run.claims.items()
                           if c.get("status") != "not run" or k not in claims})
        chosen.append(replace(group[-1], claims=claims))
        if len(group) > 1:
            notes.append(f"{len(group)} runs of {version}: each claim's latest result counts ("
                         + ", ".join(f"{r.source} {len(r.claims)} claims" for r in group) + ")")
    return chosen, notes


def cell(claim: dict[str, Any] | None) -> Cell:
    if claim is None:
        return Cell("not-run", "not run", "the claim is not in this run's results")
    tests = "; ".join(f"{t.get('nodeid')}: {t.get('outcome')}" for t in claim.get("tests") or [])
    status, reason = claim["status"], claim.get("reason") or "no reason given"
    if status == "passed" and claim.get("verdict") in VERDICTS:
        today = today_of(claim)
        detail = f"today: {today}\n{tests}" if today else tests
        return Cell(state_of(claim["verdict"]), claim.get("shown") or claim["verdict"], detail)
    if status == "failed":
        return Cell("failed", "FAILED", tests)
    if status == "differs":
        return Cell("differs", "differs on this cluster", f"{reason}\n{tests}")
    if status == "skipped":
        return Cell("skipped", f"skipped: {reason}", tests)
    if status == "untestable":
        return Cell("untestable", f"untestable ({reason})", "")
    return Cell("not-run", "not run", f"{claim['reason']}\n{tests}" if claim.get("reason")
                else tests)


@dataclass(frozen=True)
class Matrix:
    runs: list[Run]
    sections: dict[str, str]
    claims: list[dict[str, Any]]  # the latest run's view of each claim, catalogue order
    cells: dict[tuple[str, str], Cell]  # (claim id, version) -> cell


def build_matrix(runs: list[Run]) -> Matrix:
    newest_first = sorted(runs, key=lambda r: r.timestamp, reverse=True)
    sections: dict[str, str] = {}
    claims: dict[str, dict[str, Any]] = {}
    for run in newest_first:
        for key, title in run.sections.items():
            sections.setdefault(key, title)
        for claim_id, claim in run.claims.items():
            claims.setdefault(claim_id, claim)
    for claim in claims.values():
        sections.setdefault(claim["section"], "")
    order = list(sections)
    rows = sorted(claims.values(), key=lambda c: order.index(c["section"]))  # stable
    cells = {(c["id"], r.version): cell(r.claims.get(c["id"])) for c in rows for r in runs}
    return Matrix(runs, sections, rows, cells)


def state_of(verdict: str) -> str:
    """A verdict as a cell state (a CSS class)."""
    return verdict.replace(" ", "-")


def today_of(claim: dict[str, Any]) -> str | None:
    return claim.get("today") if claim.get("verdict") in VERDICTS[1:] else None


def basis_of(claim: dict[str, Any]) -> str | None:
    """What the claim's verdict rests on, in words (older results have no basis)."""
    return (claim.get("basis") or {}).get("label")


def groups(matrix: "Matrix") -> list[tuple[str, list[dict[str, Any]]]]:
    """(heading, claims) by section; the claims beyond the tutorial's words apart, last."""
    found = [(f"{key}. {title}", [c for c in matrix.claims
                                  if c["section"] == key and not c.get("beyond")])
             for key, title in matrix.sections.items()]
    found.append(("Beyond the tutorial's words: claims the suite adds to a passage",
                  [c for c in matrix.claims if c.get("beyond")]))
    return [(heading, rows) for heading, rows in found if rows]


def _quote(claim: dict[str, Any]) -> str:
    return " […] ".join(claim.get("quote") or [])


def verdicts(matrix: Matrix, claim_id: str) -> dict[str, list[str]]:
    """verdict (or today, where only that differs) -> the versions that gave it."""
    found: dict[str, list[str]] = {}
    for run in matrix.runs:
        claim = run.claims.get(claim_id)
        if claim is not None and claim.get("verdict"):
            key = claim["verdict"] + (f" (today: {today_of(claim)})" if today_of(claim) else "")
            found.setdefault(key, []).append(run.version)
    return found


def verdict_text(matrix: Matrix, claim: dict[str, Any]) -> tuple[str, str | None]:
    """The claim's verdict and today, or, where the versions differ, each version's."""
    found = verdicts(matrix, claim["id"])
    if len(found) <= 1:
        return claim.get("shown") or claim.get("verdict") or "—", today_of(claim)
    return "differs by version", "; ".join(f"{', '.join(v)}: {k}" for k, v in found.items())


def _run_summary(run: Run) -> str:
    env = run.environment
    parts = [env.get("node.image"), env.get("kind"), env.get("node.container.runtime")]
    return " · ".join(p for p in parts if p) or str(run.source)


def render_markdown(matrix: Matrix) -> str:
    def md(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    versions = [r.version for r in matrix.runs]
    lines = ["# Tutorial claims per Kubernetes version", ""]
    lines += [f"- **{md(changes.heading(r.version))}**: {md(_run_summary(r))} "
              f"({md(r.timestamp)})" for r in matrix.runs]
    lines += changes.markdown(matrix)
    for heading, rows in groups(matrix):
        lines += ["", f"## {md(heading)}", ""]
        lines += ["| claim | verdict | " + " | ".join(md(changes.heading(v)) for v in versions)
                  + " |",
                  "| --- | --- |" + " --- |" * len(versions)]
        for claim in rows:
            verdict, today = verdict_text(matrix, claim)
            text = f"`{md(claim['id'])}`: {md(claim['text'])}"
            if claim.get("quote"):
                where = md(str(claim.get("lines")))
                text += f"<br>*tutorial, lines {where}:* “{md(_quote(claim))}”"
            if claim.get("holds"):
                text += f"<br>*holds:* {md(claim['holds'])}"
            if today:
                text += f"<br>*today:* {md(today)}"
            if basis_of(claim):
                text += f"<br>*basis:* {md(str(basis_of(claim)))}"
            if claim.get("beyond"):
                text += f"<br>*beyond the tutorial's words:* {md(claim['beyond'])}"
            values = [md(matrix.cells[(claim["id"], v)].text) for v in versions]
            cells = [text, md(verdict), *values]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #1b1b1b; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #c8c8c8; padding: .35em .55em; vertical-align: top; text-align: left; }
thead th { background: #37474f; color: #fff; position: sticky; top: 0; }
tr.section th { background: #eceff1; font-size: 1.05em; }
.id { font-family: ui-monospace, monospace; font-size: .92em; }
.today { color: #5c4300; margin-top: .25em; }
.holds { color: #3d4a00; margin-top: .25em; }
.basis, .beyond { color: #37474f; font-size: .92em; margin-top: .25em; }
.quote { color: #37474f; font-style: italic; margin-top: .25em; }
.runs td { border: none; padding: .15em .8em .15em 0; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4em 1.4em; }
.legend span { display: inline-block; padding: .1em .5em; border-radius: 3px; }
""" + "".join(f"td.{s}, .legend .{s} {{ background: {bg}; color: {fg}; }}\n"
              for s, (bg, fg, _) in STATES.items()) + "td.failed { font-weight: bold; }\n"


def render_html(matrix: Matrix, generated: str) -> str:
    e = html.escape
    versions = [r.version for r in matrix.runs]
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>Tutorial claims per Kubernetes version</title>", f"<style>{CSS}</style>",
           "</head><body>", "<h1>Tutorial claims per Kubernetes version</h1>",
           f"<p>Generated {e(generated)} from {len(matrix.runs)} run(s).</p>",
           '<table class="runs">']
    out += [f"<tr><td><b>{e(r.version)}</b></td><td>{e(_run_summary(r))}</td>"
            f"<td>{e(r.timestamp)}</td></tr>" for r in matrix.runs]
    out += ['</table>', '<ul class="legend">']
    out += [f'<li><span class="{s}">{e(s)}</span> {e(what)}</li>'
            for s, (_, _, what) in STATES.items()]
    out += ["</ul>", *changes.as_html(matrix), '<table class="matrix"><thead>'
            '<tr id="matrix-head"><th>claim</th><th>verdict</th>']
    out += [f"<th>{e(changes.heading(v))}</th>" for v in versions]
    out.append("</tr></thead><tbody>")
    for heading, rows in groups(matrix):
        out.append(f'<tr class="section"><th colspan="{2 + len(versions)}">'
                   f"{e(heading)}</th></tr>")
        for claim in rows:
            verdict, today = verdict_text(matrix, claim)
            out.append(f'<tr id="{e(claim["id"])}"><td><div class="id">{e(claim["id"])}</div>'
                       f'<div class="text">{e(claim["text"])}</div>'
                       + (f'<div class="quote">tutorial, lines {e(str(claim.get("lines")))}: '
                          f"“{e(_quote(claim))}”</div>" if claim.get("quote") else "")
                       + (f'<div class="holds"><b>holds:</b> {e(claim["holds"])}</div>'
                          if claim.get("holds") else "")
                       + (f'<div class="today"><b>today:</b> {e(today)}</div>' if today else "")
                       + (f'<div class="basis"><b>basis:</b> {e(str(basis_of(claim)))}</div>'
                          if basis_of(claim) else "")
                       + (f'<div class="beyond"><b>beyond the tutorial\'s words:</b> '
                          f'{e(claim["beyond"])}</div>' if claim.get("beyond") else "")
                       + f"</td><td>{e(verdict)}</td>")
            for version in versions:
                c = matrix.cells[(claim["id"], version)]
                out.append(f'<td class="{c.state}" title="{e(c.detail)}">{e(c.text)}</td>')
            out.append("</tr>")
    out += ["</tbody></table>", "</body></html>"]
    return "\n".join(out) + "\n"


def report_parser(doc: str, default: str, output_help: str) -> argparse.ArgumentParser:
    """The command line every report of claims-results.json files takes."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path(default), help=output_help)
    parser.add_argument("results", nargs="+", type=Path, help="claims-results.json files")
    return parser


def read_runs(paths: list[Path], prog: str) -> tuple[list[Run], list[str]] | None:
    """The latest run of each version, or None once the reason is printed in one line."""
    try:
        return latest_per_version([load_run(p) for p in paths])
    except InputError as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return None


def output_base(path: Path) -> Path:
    """An output path without its .html or .md: where a report's pages go."""
    return path.with_suffix("") if path.suffix in (".html", ".md") else path


def write_pages(prog: str, pages: dict[Path, str]) -> bool:
    """Writes each page; False once the one that cannot be written is said in one line."""
    for path, text in pages.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as err:
            print(f"{prog}: cannot write {path}: {err}", file=sys.stderr)
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = report_parser(__doc__, "reports/claims-matrix",
                         "output path without suffix: writes OUTPUT.html and OUTPUT.md"
                         ).parse_args(argv)
    read = read_runs(args.results, "claims_matrix")
    if read is None:
        return 1
    runs, notes = read
    for note in notes:
        print(f"claims_matrix: {note}", file=sys.stderr)
    matrix = build_matrix(runs)
    base = output_base(args.output)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not write_pages("claims_matrix", {
            base.with_name(base.name + ".html"): render_html(matrix, generated),
            base.with_name(base.name + ".md"): render_markdown(matrix)}):
        return 1
    print(f"claims matrix: {base}.html, {base}.md "
          f"({len(matrix.claims)} claims x {len(runs)} version(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
