"""ci/MATRIX.md, the page of the last matrix run: every version a claim's `since:` names
was run there, so that a verdict by version is one that was seen."""

import re
from pathlib import Path

from tutorial_conformance.toolkit.catalogue import load_catalogue, minor_of

PAGE = Path(__file__).resolve().parent.parent / "ci" / "MATRIX.md"
# A row of the page's wall-time table: | v1.37.2 | offline | 12 s | 649 s | passed |
ROW = re.compile(r"^\| (v1\.\d+\.\d+\S*)(?: \(pre-release\))? \| \w+ \| \d+ s \| \d+ s \| (.+) \|$",
                 re.M)


def suite_runs() -> dict[str, str]:
    """version -> result, for the versions whose suite ran (its image built)."""
    return {v: r for v, r in ROW.findall(PAGE.read_text()) if not r.startswith(
        ("image build failed", "tools install failed"))}


def test_the_page_lists_the_runs_of_the_matrix():
    assert suite_runs(), f"{PAGE} lists no run of the suite"


def test_every_since_minor_is_evidenced_by_a_matrix_run():
    ran = {minor_of(v) for v in suite_runs()}
    missing = [(c.id, since) for c in load_catalogue().claims.values() for since, _ in c.since
               if minor_of(since) not in ran]
    assert not missing, f"`since:` versions that no matrix run in {PAGE.name} evidences: {missing}"
