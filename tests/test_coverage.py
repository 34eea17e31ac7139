"""Coverage as a checked contract: every non-blank line of the tutorial is judged (quoted
by a claim or compared whole by a claim's test), listed as not checkable with a reason, or
in the backlog of unjudged lines, which only shrinks; ci/COVERAGE.md shows it."""

import sys

from tutorial_conformance.toolkit.commands import run
from tutorial_conformance.toolkit.coverage import coverage, problems


def test_every_line_is_judged_excused_or_in_the_backlog():
    assert not problems(), "\n".join(problems())


def test_a_compared_block_covers_its_command_line():
    states = {line.number: line for line in coverage()}
    assert states[91].state == "compared" and "redis-delete-two-pods-output" in states[91].by
    assert states[1].state == "not checkable" and states[1].by[0] == "heading"


def test_the_coverage_page_is_current():
    proc = run([sys.executable, "ci/coverage_index.py", "--check"], timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
