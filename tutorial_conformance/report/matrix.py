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

import html
import sys
from datetime import UTC, datetime
from typing import Any

from tutorial_conformance.report import changes
from tutorial_conformance.report.runs import (
    STATES,
    Matrix,
    Run,
    basis_of,
    build_matrix,
    output_base,
    read_runs,
    report_parser,
    today_of,
    write_pages,
)


def groups(matrix: Matrix) -> list[tuple[str, list[dict[str, Any]]]]:
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
