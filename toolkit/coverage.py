"""What the suite judges of the tutorial, line by line: each line of suites/tutorial.txt is
quoted by a claim, compared whole as a printed block by a claim's test (`t.compare(F, L,
...)`), blank, or listed in suites/claims.yaml's `not_checkable:` with the reason. A line
that is none of these is missing (tests/test_coverage.py fails on it), unless it is in the
backlog of checkable lines no claim judges yet (`unjudged:`), which may only shrink."""

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from tutorial_conformance.toolkit.catalogue import (
    CATALOGUE,
    SUITES,
    TUTORIAL,
    Catalogue,
    claim_decorations,
    load_catalogue,
    span,
)
from tutorial_conformance.toolkit.tutorial import lines as tutorial_lines

# Why a line cannot be checked on a cluster.
REASONS = {
    "heading": "a heading",
    "metadata": "the article's author, source, date or tags",
    "introduction": "what the article will cover, or what a section will do",
    "transition": "text that leads to the next command or block and claims nothing of it",
    "opinion": "the author's judgement or motive",
    "history": "history of design or of the author's set-up",
    "definition": "a definition in the author's words, with nothing a cluster shows",
    "references": "a reference list",
    "advertisement": "an advertisement",
    "prompt": "a bare shell prompt, no command",
}


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    state: str  # quoted, compared, not checkable, unjudged (the backlog), blank, missing
    by: tuple[str, ...] = ()  # the claims; for `not checkable`, the reason's key and words


def not_checkable(path: Path = CATALOGUE) -> list[tuple[int, int, str, str]]:
    """(first, last, reason, words) of each `not_checkable:` entry."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")).get("not_checkable") or []
    return [(*span(e["lines"]), e["why"], e.get("note", "")) for e in raw]


def unjudged(path: Path = CATALOGUE) -> list[tuple[int, int, str]]:
    """(first, last, what) of each checkable line no claim judges yet (`unjudged:`)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")).get("unjudged") or []
    return [(*span(e["lines"]), e.get("note", "")) for e in raw]


@functools.cache
def module_functions(module: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}


def called(module: Path, test: ast.FunctionDef) -> list[ast.FunctionDef]:
    """The test and the functions of its module that it calls, directly or through another
    (a block compared in a helper of the test is the test's)."""
    functions = module_functions(module)
    seen, todo = {test.name: test}, [test]
    while todo:
        for node in ast.walk(todo.pop()):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in functions and node.func.id not in seen):
                seen[node.func.id] = functions[node.func.id]
                todo.append(functions[node.func.id])
    return list(seen.values())


# The test context's methods that compare a printed block, and where in their arguments
# its first and last line come (toolkit/context.py).
COMPARING = {"compare": 0, "compare_reconstruction": 0, "create_as_printed": 1}


def compared_blocks(suites: Path = SUITES) -> dict[tuple[int, int], list[str]]:
    """(first, last) -> the claims whose tests compare those lines as a printed block."""
    found: dict[tuple[int, int], list[str]] = {}
    for claim_id, module, test in claim_decorations(suites):
        for node in (n for f in called(module, test) for n in ast.walk(f)):
            at = COMPARING.get(node.func.attr) if (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)) else None
            span = node.args[at:at + 2] if at is not None else []  # type: ignore[union-attr]
            if len(span) == 2 and all(isinstance(a, ast.Constant) and isinstance(a.value, int)
                                      for a in span):
                first, last = span[0].value, span[1].value  # type: ignore[attr-defined]
                # The command that printed the block, on the line before it, ran too.
                if first > 1 and tutorial_lines()[first - 2].startswith("➜"):
                    first -= 1
                found.setdefault((first, last), []).append(claim_id)
    return found


def quoted_lines(catalogue: Catalogue, text: str) -> dict[int, list[str]]:
    """line number -> the claims whose quote touches it (at the claim's own lines)."""
    starts = [0]
    for line in text.splitlines():
        starts.append(starts[-1] + len(line) + 1)
    found: dict[int, list[str]] = {}
    for claim in catalogue.claims.values():
        if not claim.lines:
            continue
        first, last = span(claim.lines)
        base = starts[first - 1]
        passage = text[base:starts[min(last, len(starts) - 1)]]
        for quote in claim.quote:
            at = passage.find(quote)
            if at < 0:
                continue
            begin, end = base + at, base + at + len(quote)
            for number in range(first, last + 1):
                if starts[number - 1] < end and begin < starts[number] - 1:
                    found.setdefault(number, []).append(claim.id)
    return found


def coverage(catalogue: Catalogue | None = None) -> list[Line]:
    catalogue = catalogue or load_catalogue()
    text = TUTORIAL.read_text(encoding="utf-8")
    quoted = quoted_lines(catalogue, text)
    compared: dict[int, list[str]] = {}
    for (first, last), claims in compared_blocks().items():
        for number in range(first, last + 1):
            compared.setdefault(number, []).extend(claims)
    excused = {n: (why, note) for first, last, why, note in not_checkable()
               for n in range(first, last + 1)}
    backlog = {n: (note,) for first, last, note in unjudged() for n in range(first, last + 1)}
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if number in quoted:
            lines.append(Line(number, line, "quoted", tuple(dict.fromkeys(quoted[number]))))
        elif number in compared:
            lines.append(Line(number, line, "compared", tuple(dict.fromkeys(compared[number]))))
        elif not line.strip():
            lines.append(Line(number, line, "blank"))
        elif number in excused:
            lines.append(Line(number, line, "not checkable", excused[number]))
        elif number in backlog:
            lines.append(Line(number, line, "unjudged", backlog[number]))
        else:
            lines.append(Line(number, line, "missing"))
    return lines


def problems() -> list[str]:
    """What breaks the contract: a missing line, a reason that is not one of REASONS."""
    lines = coverage()
    found = [f"line {line.number} is neither quoted, compared nor listed as not checkable: "
             f"{line.text[:80]!r}" for line in lines if line.state == "missing"]
    found += [f"not_checkable lines {first}-{last}: reason {why!r} is not one of "
              f"{sorted(REASONS)}" for first, last, why, _ in not_checkable() if why not in REASONS]
    states = {line.number: line.state for line in lines}
    found += [f"unjudged lines {first}-{last}: line {n} is {states.get(n, 'not in the text')} "
              "now: take it off the list" for first, last, _ in unjudged()
              for n in range(first, last + 1) if states.get(n) != "unjudged"]
    return found
