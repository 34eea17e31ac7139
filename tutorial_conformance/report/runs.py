"""The runs a report reads: each suite run's claims-results.json, the latest run of each
Kubernetes version, and the matrix of their cells (claims x versions) that the claims
matrix (matrix.py), the annotated tutorial (tutorial.py), the "what is true today" page
(today.py) and the changes between versions (changes.py) are drawn from; and the command
line, input and output every one of those reports shares."""

import argparse
import json
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

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
