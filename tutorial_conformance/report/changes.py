"""What the claims matrix opens with: the claims whose cell differs between its released
versions, and, where a pre-release of the next minor ran, the claims whose cell there
differs from the newest release's ("changes in the next minor"). A pre-release column is
shown, never counted against a run."""

import html
import re
from dataclasses import dataclass

from tutorial_conformance.report.runs import Matrix

PRERELEASE = re.compile(r"^v\d+\.\d+\.\d+-(alpha|beta|rc)\.\d+$")


def is_prerelease(version: str) -> bool:
    return bool(PRERELEASE.match(version))


def heading(version: str) -> str:
    """A column's heading: the version, marked where it is a pre-release."""
    return f"{version} (pre-release)" if is_prerelease(version) else version


@dataclass(frozen=True)
class Change:
    claim: str
    cells: dict[str, str]  # version -> what its cell says, for the versions compared


def differing(matrix: Matrix, versions: list[str]) -> list[Change]:
    found = []
    for claim in matrix.claims:
        cells = {v: matrix.cells[(claim["id"], v)].text for v in versions}
        if len(set(cells.values())) > 1:
            found.append(Change(claim["id"], cells))
    return found


def sections(matrix: Matrix) -> list[tuple[str, str, list[Change]]]:
    """(heading, what is compared, changes) for the released versions and the next minor."""
    versions = [r.version for r in matrix.runs]
    released = [v for v in versions if not is_prerelease(v)]
    found = [("What differs between versions", f"the released versions {', '.join(released)}",
              differing(matrix, released) if len(released) > 1 else [])]
    for pre in (v for v in versions if is_prerelease(v)):
        newest = released[-1:] if released else []
        found.append((f"Changes in the next minor ({pre})",
                      f"{pre} against {newest[0] if newest else 'no release'}",
                      differing(matrix, [*newest, pre]) if newest else []))
    return found


def markdown(matrix: Matrix) -> list[str]:
    lines: list[str] = []
    for title, compared, changes in sections(matrix):
        lines += ["", f"## {title}", "", f"Compared: {compared}."]
        if not changes:
            lines.append("No claim's state differs.")
        lines += [f"- `{c.claim}`: " + "; ".join(
            f"{v}: {text}" for v, text in c.cells.items()) for c in changes]
    return lines


def as_html(matrix: Matrix) -> list[str]:
    e = html.escape
    out: list[str] = []
    for title, compared, changes in sections(matrix):
        out += [f'<h2 class="changes">{e(title)}</h2>', f"<p>Compared: {e(compared)}.</p>"]
        if not changes:
            out.append("<p>No claim's state differs.</p>")
            continue
        out.append("<ul>")
        out += [f'<li><a href="#{e(c.claim)}">{e(c.claim)}</a>: ' + "; ".join(
            f"{e(v)}: {e(text)}" for v, text in c.cells.items()) + "</li>" for c in changes]
        out.append("</ul>")
    return out
