"""The tutorial as it runs today, for educators: its text with every printed block that a
test compared replaced by what the run captured, and every passage judged outdated,
incorrect or partly correct followed by what is true today; plus errata.

    python -m tutorial_conformance.report.today -o reports/tutorial-today \
        reports/claims-results.json [reports/runs/*/claims-results.json]

writes reports/tutorial-today.html (each change marked, linked to its claim in the
annotated tutorial and to its evidence), reports/tutorial-today.md (the plain text, to
diff against suites/tutorial.txt) and reports/errata.md (each passage to change, what to
write instead, from which Kubernetes version on). The newest version's run gives today's
text; a claim's versions say from which version on it holds.
"""

import html
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutorial_conformance.report import runs as rs  # the runs and cells every report reads
from tutorial_conformance.report.tutorial import evidence_links
from tutorial_conformance.toolkit.catalogue import TUTORIAL, span

CHANGED = ("outdated", "incorrect", "partly correct")


@dataclass(frozen=True)
class Change:
    first: int  # the tutorial's lines it replaces (a block) or follows (a note)
    last: int
    claim: dict[str, Any]
    today: list[str]  # the lines today
    block: bool  # True: the printed lines are replaced; False: a note after them


def changes(run: rs.Run) -> list[Change]:
    """The newest run's changes to the tutorial: the blocks that differ, then, for each
    changed verdict whose passage no differing block replaces, its today."""
    found: list[Change] = []
    taken: set[int] = set()
    for claim in run.claims.values():
        for block in claim.get("blocks") or []:
            first, last = span(block["lines"])
            if block.get("same") or taken & set(range(first, last + 1)):
                continue
            taken |= set(range(first, last + 1))
            found.append(Change(first, last, claim, list(block.get("reader") or block["today"]),
                                True))
    for claim in run.claims.values():
        if claim.get("verdict") not in CHANGED or not claim.get("lines") \
                or claim.get("status") != "passed":
            continue
        first, last = span(claim["lines"])
        if any(c.block and c.claim["id"] == claim["id"] for c in found):
            continue
        found.append(Change(first, last, claim, [str(claim.get("today") or "")], False))
    return sorted(found, key=lambda c: (c.last, not c.block))


def since(runs: list[rs.Run], claim_id: str) -> str:
    """The versions whose runs gave the claim's verdict as the newest run gives it."""
    newest = runs[-1].claims.get(claim_id, {})
    held = [r.version for r in runs
            if r.claims.get(claim_id, {}).get("verdict") == newest.get("verdict")
            and r.claims.get(claim_id, {}).get("status") == "passed"]
    if not held:
        return "not seen"
    return f"{held[0]} on" if len(held) > 1 else f"{held[0]} (the only version run)"


def walk(text: str, found: list[Change]) -> Iterator[tuple[int, str | Change]]:
    """The tutorial in order, as (line number, its text), or (first line, a block's Change)
    in place of the lines it replaces, and after each line (or block) the notes that follow
    it as (line number, Change)."""
    lines = text.splitlines()
    blocks = {c.first: c for c in found if c.block}
    notes: dict[int, list[Change]] = {}
    for c in found:
        if not c.block:
            notes.setdefault(c.last, []).append(c)
    number = 1
    while number <= len(lines):
        block = blocks.get(number)
        yield number, block or lines[number - 1]
        last = block.last if block else number
        for line in range(number, last + 1):
            yield from ((line, note) for note in notes.get(line, []))
        number = last + 1


def text_today(text: str, found: list[Change]) -> str:
    """The tutorial's plain text with the blocks replaced and each note added after its
    passage (for an educator's diff against suites/tutorial.txt)."""
    out: list[str] = []
    for _, item in walk(text, found):
        if isinstance(item, str):
            out.append(item)
        elif item.block:
            out += item.today
        else:
            out.append(f"[today, {item.claim['id']}: {item.today[0]}]")
    return "\n".join(out) + "\n"


def errata(runs: list[rs.Run], found: list[Change]) -> str:
    out = ["# Errata: the tutorial as it runs today", "",
           f"From the run of {runs[-1].version} ({runs[-1].timestamp}); each entry gives the "
           "passage, what to write instead, and the Kubernetes versions the suite saw it on.",
           ""]
    for claim in sorted({c.claim["id"]: c.claim for c in found}.values(),
                        key=lambda c: span(c["lines"])):
        if claim.get("verdict") not in CHANGED:
            continue
        blocks = [c for c in found if c.claim["id"] == claim["id"] and c.block]
        verdict = claim.get("shown") or claim["verdict"]
        quoted = " […] ".join(claim.get("quote") or []).replace("\n", " ↵ ")
        out.append(f"- **lines {claim['lines']}** ({claim['id']}, {verdict}, from "
                   f"{since(runs, claim['id'])}): “{quoted}”")
        if claim.get("holds"):
            out.append(f"  - holds: {claim['holds']}")
        out.append(f"  - write instead: {claim.get('today')}")
        for block in blocks:
            out.append(f"  - lines {block.first}-{block.last} as printed today:")
            out += ["", "    ```", *(f"    {line}" for line in block.today), "    ```", ""]
    return "\n".join(out) + "\n"


CSS = """
body { font: 15px/1.5 Georgia, serif; margin: 2em auto; max-width: 60em; color: #1b1b1b; }
.line { white-space: pre-wrap; min-height: 1.5em; }
.no { color: #999; font: 11px ui-monospace, monospace; user-select: none; }
del { background: #fbd3c4; color: #6b1d00; }
ins { background: #d1f2d9; color: #0b4d1f; text-decoration: none; display: block;
  font-family: ui-monospace, monospace; font-size: .9em; white-space: pre-wrap; }
.change { border-left: 4px solid #2e7d32; padding: .2em .6em; margin: .2em 0 .6em;
  background: #f7fbf7; font: 13px/1.4 system-ui, sans-serif; }
.change .meta { color: #37474f; }
"""


def render_html(runs: list[rs.Run], text: str, found: list[Change], out: Path) -> str:
    e = html.escape
    run = runs[-1]
    lines = text.splitlines()

    def meta(change: Change) -> str:
        claim = change.claim
        links = " ".join(f'<a href="{e(h)}">{e(n)}</a>'
                         for n, h in evidence_links(run, claim, out))
        return (f'<div class="meta">{e(claim.get("shown") or claim.get("verdict") or "")} · '
                f'<a href="annotated-tutorial.html#{e(claim["id"])}">{e(claim["id"])}</a>'
                f' · from {e(since(runs, claim["id"]))}'
                + (f" · evidence: {links}" if links else "") + "</div>")

    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>The tutorial as it runs today</title>", f"<style>{CSS}</style></head><body>",
             "<h1>Introduction to Kubernetes, as it runs today</h1>",
             f"<p>Every printed block a test compared, as the run of <b>{e(run.version)}</b> "
             f"({e(run.timestamp)}) captured it, and what is true today after each passage "
             f"judged outdated, incorrect or partly correct: {len(found)} changes, marked. "
             'Plain text: <a href="tutorial-today.md">tutorial-today.md</a>; '
             '<a href="errata.md">errata.md</a>.</p>']
    stand_ins = sorted({str(c["ran_with"]) for c in run.claims.values() if c.get("ran_with")})
    if stand_ins:
        parts.append(f"<p>Section VI ran with {e('; '.join(stand_ins))}: its outputs below are "
                     "that tool's.</p>")
    for number, item in walk(text, found):
        if isinstance(item, str):
            parts.append(f'<div class="line" id="L{number}"><span class="no">{number:>3} </span>'
                         f"{e(item)}</div>")
        elif item.block:
            old = "\n".join(lines[item.first - 1:item.last])
            parts.append(f'<div class="change" id="today-{e(item.claim["id"])}-L{number}">'
                         f"{meta(item)}<del>{e(old)}</del><ins>{e(chr(10).join(item.today))}"
                         "</ins></div>")
        else:
            parts.append(f'<div class="change" id="today-{e(item.claim["id"])}">'
                         f"{meta(item)}<ins>today: {e(item.today[0])}</ins></div>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = rs.report_parser(__doc__, "reports/tutorial-today",
                            "output path without suffix: OUTPUT.html, OUTPUT.md, errata.md"
                            ).parse_args(argv)
    read = rs.read_runs(args.results, "tutorial_today")
    if read is None:
        return 1
    runs, _ = read
    text = TUTORIAL.read_text(encoding="utf-8")
    found = changes(runs[-1])
    base = rs.output_base(args.output)
    page = base.with_name(base.name + ".html")
    if not rs.write_pages("tutorial_today", {
            page: render_html(runs, text, found, page),
            base.with_name(base.name + ".md"): text_today(text, found),
            base.parent / "errata.md": errata(runs, found)}):
        return 1
    print(f"tutorial today: {page}, {base}.md, {base.parent / 'errata.md'} "
          f"({len(found)} changes from {runs[-1].version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
