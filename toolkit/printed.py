"""A block the tutorial prints (a command's output, a file, log lines), compared whole,
line by line, with what runs today.

Only what has to vary is normalised, each by a named rule (ages, generated names, digests,
timestamps, the test's namespace, column padding), on both sides alike; the
comparison says which rule changed which line. What still differs is listed line by line,
with the test's reason for it where it gave one ("unexplained" where not). The evidence
holds the printed block, today's, the rules applied and the differences; the block is kept
for the report of the tutorial as it runs today (tutorial_conformance/report/today.py).
"""

import difflib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tutorial_conformance.toolkit.evidence import Evidence
from tutorial_conformance.toolkit.tutorial import lines as tutorial_lines


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: str
    placeholder: str | Callable[[re.Match[str]], str]
    for_reader: bool = False  # applied to today's block as the tutorial today shows it

    def apply(self, line: str) -> str:
        return re.sub(self.pattern, self.placeholder, line)


AGE = Rule("age (kubectl's AGE column)", r"(?<=\s)\d+[smhd](\d+[smh])?(?=\s*(#.*)?$)", "<age>")
POD_NAME = Rule("a generated pod name (pod-template hash and suffix)",
                r"\b(-[bcdfghjklmnpqrstvwxz2456789]{8,10})?-[bcdfghjklmnpqrstvwxz2456789]{5}\b",
                "-<generated>")
REDIS_TIME = Rule("a Redis log line's pid, role and timestamp",
                  r"^\d+:([CMSX]) \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2}\.\d{3}", r"<pid>:\1 <time>")
REPLICATION_ID = Rule("a Redis master's replication ID and offset",
                      r"(?<=Full resync from master: )[0-9a-f]{40}:\d+", "<replid>:<offset>")
RDB_MEMORY = Rule("the memory a Redis master used when it made the RDB (a measurement)",
                  r"(?<=RDB memory usage when created )[\d.]+ Mb", "<size> Mb")
DIGEST = Rule("an image digest and size", r"sha256:[0-9a-f]{64} size: \d+",
              "sha256:<digest> size: <size>")
COMMENT = Rule("the author's comment after a line", r"\s{2,}#\s.*$", "")
PADDING = Rule("column padding", r"(?<=\S)(?: {2,}|\t+| *\t[ \t]*)(?=\S)", " ")


def without_header(text: str) -> str:
    """A manifest's text without the comment lines it opens with (what the suite says of
    it, not what a reader types)."""
    lines = text.splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "\n".join(lines)


def namespace_rule(namespace: str) -> Rule:
    """The test's own namespace read as the tutorial's `default`."""
    return Rule(f"the test's namespace ({namespace}) as default", rf"\b{re.escape(namespace)}\b",
                "default", for_reader=True)


@dataclass(frozen=True)
class Difference:
    printed_line: int | None  # the tutorial's line number; None: a line only today has
    printed: str | None
    today: str | None
    why: str

    def render(self) -> str:
        where = f"line {self.printed_line}" if self.printed_line else "(only today)"
        return (f"{where}:\n  printed: {self.printed if self.printed is not None else '-'}\n"
                f"  today:   {self.today if self.today is not None else '-'}\n  why: {self.why}")


@dataclass
class Block:
    first: int
    last: int
    printed: list[str]
    today: list[str]
    rules: list[str] = field(default_factory=list)  # each rule applied, and to which lines
    differences: list[Difference] = field(default_factory=list)
    reader: list[str] | None = None  # today's lines as a reader's run prints them (default)

    @property
    def lines(self) -> str:
        return f"{self.first}-{self.last}" if self.last != self.first else str(self.first)

    @property
    def same(self) -> bool:
        return not self.differences

    def differing(self) -> dict[int | None, str | None]:
        """printed line number -> today's line, for each line that differs."""
        return {d.printed_line: d.today for d in self.differences}

    def summary(self) -> str:
        if self.same:
            return f"the printed block, lines {self.lines}, is today's (normalised)"
        first = self.differences[0]
        return (f"the printed block, lines {self.lines}, differs from today's in "
                f"{len(self.differences)} line(s); first, "
                + first.render().replace("\n  ", "; ").replace(":;", ":"))

    def render(self) -> str:
        parts = [self.summary(), "", f"printed (tutorial, lines {self.lines}):", *self.printed, "",
                 "today:", *self.today, "", "normalised:", *(self.rules or ["(nothing)"]), "",
                 "differences:" if self.differences else "differences: none (the same block)",
                 *(d.render() for d in self.differences)]
        return "\n".join(parts)

    def as_json(self) -> dict[str, object]:
        return {"lines": self.lines, "printed": self.printed, "today": self.today,
                "reader": self.reader or self.today,
                "rules": self.rules, "same": self.same,
                "differences": [d.__dict__ for d in self.differences]}


def normalised(lines: Sequence[str], rules: Sequence[Rule], side: str, first: int,
               log: list[tuple[str, str, int]]) -> list[str]:
    out = []
    for number, line in enumerate(lines, start=first):
        for rule in rules:
            changed = rule.apply(line)
            if changed != line:
                log.append((rule.name, side, number))
                line = changed
        out.append(line.rstrip())
    return out


ALIKE = 0.4  # how alike two lines must be to be one line changed, not two lines apart


def alike(a: str, b: str) -> float:
    """How alike two lines are: their common characters, or their common start against
    the shorter (a line that kept its head and lost or grew its tail)."""
    head = len(os.path.commonprefix([a, b])) / max(1, min(len(a), len(b)))
    return max(difflib.SequenceMatcher(a=a, b=b, autojunk=False).ratio(), head)


def paired(printed: Sequence[str], today: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """The lines of a replaced run, in order: as many pairs of alike lines as can be (the
    most alike, in order); a line with no alike line stands alone (a header the print lost,
    a banner only the tutorial's tool printed). Runs of one length pair line by line."""
    if len(printed) == len(today):
        return [(i, i) for i in range(len(printed))]
    n, m = len(printed), len(today)
    scores = [[alike(a, b) for b in today] for a in printed]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            score = scores[i][j]
            best[i][j] = max(best[i + 1][j], best[i][j + 1],
                             best[i + 1][j + 1] + score if score >= ALIKE else 0.0)
    pairs: list[tuple[int | None, int | None]] = []
    i = j = 0
    while i < n and j < m:
        score = scores[i][j]
        if score >= ALIKE and best[i][j] == best[i + 1][j + 1] + score:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            pairs.append((i, None))
            i += 1
        else:
            pairs.append((None, j))
            j += 1
    pairs += [(k, None) for k in range(i, n)] + [(None, k) for k in range(j, m)]
    return pairs


def compare(first: int, last: int, today: str | Sequence[str], rules: Sequence[Rule] = (),
            why: dict[int, str] | None = None, evidence: Evidence | None = None) -> Block:
    """Lines first..last of the tutorial against today's lines. `why`: the reason, by the
    tutorial's line number, for a line known to differ (the claim's `today`)."""
    printed = tutorial_lines()[first - 1:last]
    now = today.strip("\n").splitlines() if isinstance(today, str) else list(today)
    block = Block(first, last, list(printed), now)
    for rule in (r for r in rules if r.for_reader):
        block.reader = [rule.apply(line) for line in block.reader or now]
    rules = [*rules, PADDING]
    log: list[tuple[str, str, int]] = []
    left = normalised(printed, rules, "printed", first, log)
    right = normalised(now, rules, "today", 1, log)
    for rule in dict.fromkeys(name for name, _, _ in log):
        where = {side: [str(n) for r, s, n in log if r == rule and s == side]
                 for side in ("printed", "today")}
        block.rules.append(f"{rule}: " + "; ".join(
            f"{side} line(s) {', '.join(numbers)}" for side, numbers in where.items() if numbers))
    reasons = why or {}
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for a, b in paired(left[a0:a1], right[b0:b1]):
            number = first + a0 + a if a is not None else None
            block.differences.append(Difference(
                number, printed[a0 + a] if a is not None else None,
                now[b0 + b] if b is not None else None,
                reasons.get(number, "unexplained") if number else "a line the tutorial lacks"))
    if evidence is not None:
        evidence.add(f"the printed block, lines {block.lines}, against today", block.render())
        evidence.keep_block(block.as_json())
    return block
