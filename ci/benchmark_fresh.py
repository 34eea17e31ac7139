"""The phases of `bash ci/conformance.sh` in ci/benchmark-fresh.sh's log, whose lines are
`EPOCH_SECONDS TEXT`: each phase runs from the first line that starts it to the first
line of the next (`ci/benchmark.py --fresh-log`)."""

import re

# (phase, the first line of the phase after it); the first phase starts with the log.
MARKERS = (
    ("Docker engine (apt, dockerd)", re.compile(r"^\[setup\] installing the Python environment")),
    ("Python environment (.venv)", re.compile(r"^\[(debian-base|images|kubernetes)\]")),
    ("offline toolchain (ci/images/build.sh)", re.compile(r"test session starts")),
    ("the suite (pytest, its kind cluster included)", re.compile(r"^=+ .*\bin [\d.]+s")),
)


def phases(lines: list[str]) -> tuple[list[tuple[str, int]], int]:
    """Each phase's seconds, then the total; ValueError names a marker the log lacks."""
    stamped = []
    for line in lines:
        stamp, _, text = line.partition(" ")
        if stamp.isdigit():
            stamped.append((int(stamp), text))
    if not stamped:
        raise ValueError("the log has no stamped lines (is it ci/benchmark-fresh.sh's?)")
    start, end = stamped[0][0], stamped[-1][0]
    found, begin, rest = [], start, stamped
    for name, marker in MARKERS:
        at = next((i for i, (_, text) in enumerate(rest) if marker.search(text)), None)
        if at is None:
            raise ValueError(f"the log has no line matching {marker.pattern!r}, which ends "
                             f"the phase '{name}'")
        found.append((name, rest[at][0] - begin))
        begin, rest = rest[at][0], rest[at + 1:]
    found.append(("the reports (ci/report.sh)", end - begin))
    return found, end - start
