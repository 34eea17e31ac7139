"""The tutorial annotated with the suite's verdicts: one HTML page for reviewers.

    python -m tutorial_conformance.report.tutorial -o reports/annotated-tutorial.html \
        reports/claims-results.json [reports/runs/*/claims-results.json]

The page is the tutorial's full text (suites/tutorial.txt). Every passage a claim quotes
is marked with the claim's state on the worst version (FAILED, incorrect, outdated,
confirmed; grey where no test passed or it cannot be tested), and beside the passage's
last line a box gives the claim, its state on each Kubernetes version, what is true
today, and links to its tests' evidence in each run's Allure report (html/index.html
next to the run's allure-results, when there is one).
"""

import hashlib
import html
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutorial_conformance.report import runs as rs  # the runs and cells every report reads
from tutorial_conformance.toolkit.catalogue import TUTORIAL

# Worst first: the colour of a passage is its claim's worst state over the versions.
SEVERITY = ["failed", "incorrect", "outdated", "partly-correct", "differs", "confirmed", "skipped",
            "not-run", "untestable"]


@dataclass(frozen=True)
class VersionCell:
    version: str
    cell: rs.Cell
    today: str | None  # what is true today, as judged on this version
    links: list[tuple[str, str]]  # (test, link to its evidence in the Allure report)


@dataclass(frozen=True)
class Annotation:
    claim: dict[str, Any]
    spans: list[tuple[int, int]]  # character offsets of the quoted fragments
    end_line: int  # 1-based line where the last fragment ends: the box goes after it
    cells: list["VersionCell"]

    @property
    def state(self) -> str:
        states = [c.cell.state for c in self.cells] or ["not-run"]
        return min(states, key=SEVERITY.index)


def evidence_links(run: rs.Run, claim: dict[str, Any], out: Path) -> list[tuple[str, str]]:
    """(test name, link to its page in the run's Allure report) for the claim's tests."""
    results = run.source.parent / "allure-results"
    index = run.source.parent / "html" / "index.html"
    if not results.is_dir() or not index.is_file():
        return []
    pages: dict[str, str] = {}
    for path in sorted(results.glob("*-result.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        pages[result.get("fullName", "")] = hashlib.md5(result["uuid"].encode()).hexdigest()
    base = os.path.relpath(index, out.parent)
    links = []
    for test in claim.get("tests") or []:
        module, _, name = str(test.get("nodeid")).partition("::")
        full = module.removesuffix(".py").replace("/", ".") + "#" + name.split("[")[0]
        if full in pages:
            links.append((name, f"{base}#/{pages[full]}"))
    return links


def annotations(runs: list[rs.Run], text: str, out: Path) -> list[Annotation]:
    matrix = rs.build_matrix(runs)
    found = []
    for claim in matrix.claims:
        spans = [(i, i + len(q)) for q in claim.get("quote") or [] if (i := text.find(q)) >= 0]
        if not spans:
            continue
        cells = []
        for run in runs:
            own = run.claims.get(claim["id"], {})
            cells.append(VersionCell(run.version, matrix.cells[(claim["id"], run.version)],
                                     rs.today_of(own), evidence_links(run, own, out)))
        end = max(e for _, e in spans)
        found.append(Annotation(claim, spans, text.count("\n", 0, end - 1) + 1, cells))
    return found


def marked_lines(text: str, notes: list[Annotation]) -> list[str]:
    """The tutorial's lines as HTML, each quoted fragment in a <mark> of its claims."""
    cuts = {0, len(text)} | {i for i, ch in enumerate(text) if ch == "\n"}
    for note in notes:
        for start, end in note.spans:
            cuts |= {start, end}
    bounds = sorted(cuts)
    lines, current = [], []
    for start, end in zip(bounds, bounds[1:], strict=False):
        piece = text[start:end]
        if piece.startswith("\n"):
            lines.append("".join(current))
            current, piece = [], piece[1:]
        covering = [n for n in notes if any(s <= start and end <= e for s, e in n.spans)]
        if covering and piece:
            state = min((n.state for n in covering), key=SEVERITY.index)
            ids = " ".join(n.claim["id"] for n in covering)
            current.append(f'<mark class="{state}" title="{html.escape(ids)}">'
                           f"{html.escape(piece)}</mark>")
        else:
            current.append(html.escape(piece))
    lines.append("".join(current))
    return lines


def box(note: Annotation) -> str:
    e = html.escape
    claim = note.claim
    rows = []
    for c in note.cells:
        evidence = " ".join(f'<a href="{e(href)}">{e(name)}</a>' for name, href in c.links)
        rows.append(f'<tr id="{e(claim["id"])}@{e(c.version)}"><th>{e(c.version)}</th>'
                    f'<td class="{c.cell.state}">{e(c.cell.text)}</td><td>{evidence}</td></tr>')
    todays = dict.fromkeys(c.today for c in note.cells if c.today)
    beyond = claim.get("beyond")
    return (f'<aside class="note {note.state}{" beyond" if beyond else ""}" '
            f'id="{e(claim["id"])}">'
            f'<div class="id">{e(claim["id"])} · lines {e(str(claim.get("lines")))}</div>'
            + (f'<div class="beyond"><b>beyond the tutorial\'s words:</b> {e(beyond)}</div>'
               if beyond else "")
            + f'<div class="claim">{e(claim["text"])}</div>'
            f'<table class="versions">{"".join(rows)}</table>'
            + (f'<div class="holds"><b>holds:</b> {e(claim["holds"])}</div>'
               if claim.get("holds") else "")
            + "".join(f'<div class="today"><b>today:</b> {e(t)}</div>' for t in todays)
            + (f'<div class="basis"><b>basis:</b> {e(str(rs.basis_of(claim)))}</div>'
               if rs.basis_of(claim) else "")
            + "</aside>")


CSS = """
body { font: 15px/1.5 Georgia, serif; margin: 2em auto; max-width: 72em; color: #1b1b1b; }
h1 { font-family: system-ui, sans-serif; }
.row { display: grid; grid-template-columns: 1fr 24em; gap: 1.5em; }
.text { white-space: pre-wrap; min-height: 1.5em; }
.no { color: #999; font: 11px ui-monospace, monospace; user-select: none; }
aside.note { font: 13px/1.4 system-ui, sans-serif; border-left: 4px solid #999;
  padding: .3em .6em; margin: .2em 0 .6em; background: #fafafa; }
aside .id { font-family: ui-monospace, monospace; font-size: .92em; }
aside .today { color: #5c4300; margin-top: .25em; }
aside .holds { color: #3d4a00; margin-top: .25em; }
aside .basis { color: #37474f; font-size: .92em; margin-top: .25em; }
aside.beyond { border-left-style: dashed; background: #f4f4f8; }
aside .beyond { color: #3b1f5f; font-size: .92em; }
aside a { word-break: break-all; }
table.versions { border-collapse: collapse; margin-top: .25em; }
table.versions th, table.versions td { padding: .1em .4em; text-align: left; }
.legend span { display: inline-block; padding: .05em .5em; margin-right: .6em; }
""" + "".join(
    f"mark.{s}, td.{s}, .legend .{s} {{ background: {bg}; color: {fg}; }}\n"
    f"aside.note.{s} {{ border-left-color: {bg}; }}\n"
    for s, (bg, fg, _) in rs.STATES.items()
)


def render(runs: list[rs.Run], text: str, out: Path) -> str:
    notes = annotations(runs, text, out)
    by_line: dict[int, list[Annotation]] = {}
    for note in notes:
        by_line.setdefault(note.end_line, []).append(note)
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>The tutorial, annotated</title>", f"<style>{CSS}</style></head><body>",
             "<h1>Introduction to Kubernetes, annotated with the suite's verdicts</h1>",
             "<p>Runs: " + "; ".join(f"<b>{e(r.version)}</b> ({e(r.timestamp)})" for r in runs)
             + f". {len(notes)} claims quote the passages marked below.</p>",
             '<p class="legend">' + "".join(
                 f'<span class="{s}">{e(s)}</span>' for s in rs.STATES) + "</p>"]
    for number, line in enumerate(marked_lines(text, notes), start=1):
        boxes = "".join(box(n) for n in by_line.get(number, []))
        parts.append(f'<div class="row" id="L{number}"><div class="text">'
                     f'<span class="no">{number:>3} </span>{line}</div><div>{boxes}</div></div>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = rs.report_parser(__doc__, "reports/annotated-tutorial.html", "the page to write"
                            ).parse_args(argv)
    read = rs.read_runs(args.results, "annotated_tutorial")
    if read is None:
        return 1
    runs, _ = read
    text = TUTORIAL.read_text(encoding="utf-8")
    if not rs.write_pages("annotated_tutorial", {args.output: render(runs, text, args.output)}):
        return 1
    print(f"annotated tutorial: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
