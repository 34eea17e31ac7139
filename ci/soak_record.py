"""The soak's record (ci/SOAK.md) from its runs' JUnit files: per run its exit, time and
counts; per test that did not pass every time, how often it passed, failed and was skipped;
flaky tests (passed and failed) named first.

    python ci/soak_record.py reports/soak ci/SOAK.md
"""

import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path


def outcome(case: ET.Element) -> str:
    for tag, name in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        if case.find(tag) is not None:
            return name
    return "passed"


def main() -> int:
    if len(sys.argv) != 3 or not Path(sys.argv[1]).is_dir():
        print("usage: python ci/soak_record.py RUNS_DIR OUTPUT.md (RUNS_DIR from ci/soak.sh)",
              file=sys.stderr)
        return 2
    runs_dir, output = Path(sys.argv[1]), Path(sys.argv[2])
    runs = [line.split() for line in (runs_dir / "runs.txt").read_text().splitlines()]
    per_test: dict[str, Counter[str]] = defaultdict(Counter)
    rows = []
    for number, code, seconds in runs:
        junit = runs_dir / f"run-{number}.xml"
        counts: Counter[str] = Counter()
        if junit.is_file():
            for case in ET.parse(junit).iter("testcase"):
                result = outcome(case)
                counts[result] += 1
                per_test[f"{case.get('classname')}::{case.get('name')}"][result] += 1
        rows.append(f"| {number} | {code} | {seconds} s | {counts['passed']} | "
                    f"{counts['failed'] + counts['error']} | {counts['skipped']} |")
    unsteady = {t: c for t, c in per_test.items() if c["passed"] != len(runs)}
    flaky = sorted(t for t, c in unsteady.items() if c["passed"] and (c["failed"] or c["error"]))
    given = runs_dir / "args.txt"
    extra = given.read_text().strip() if given.is_file() else ""
    what = f"the suite with `{extra}`" if extra else "the whole suite"
    lines = [
        "# Soak record", "",
        f"`bash ci/soak.sh {len(runs)}{' ' + extra if extra else ''}`: {what} {len(runs)} "
        f"times on one kept kind cluster, {datetime.now(UTC):%Y-%m-%d}. Written by "
        "ci/soak_record.py.", "",
        "| run | exit | wall time | passed | failed | skipped |", "|---|---|---|---|---|---|",
        *rows, "",
        f"Flaky (passed in one run, failed in another): {len(flaky)}", "",
        *(f"- `{t}`" for t in flaky), "",
        "Tests that did not pass in every run:", "",
        "| test | passed | failed | skipped |", "|---|---|---|---|",
        *(f"| `{t}` | {c['passed']} | {c['failed'] + c['error']} | {c['skipped']} |"
          for t, c in sorted(unsteady.items())), "",
    ]
    output.write_text("\n".join(lines))
    print(f"soak record: {output} ({len(runs)} runs, {len(flaky)} flaky)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
