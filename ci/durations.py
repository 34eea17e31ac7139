"""Refreshes suites/durations.json, the durations `--tutorial-shard` balances by, from the
JUnit files of suite runs (a whole serial run: `reports/junit.xml` of `bash ci/test.sh`).

    python ci/durations.py reports/junit.xml [MORE.xml ...] [-o suites/durations.json]

A test's duration is its JUnit time (set-up, call and teardown), with the session
cluster's creation (the JUnit property tutorial.cluster-creation) taken out of the first
test of each file, whose set-up made the cluster (--creation gives it for a file without
the property): every shard pays for its own cluster,
so it weighs on no module. The file is pytest-split's format ({node id: seconds}).
"""

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CREATION = "tutorial.cluster-creation"


def durations(junit: Path, given: float | None = None) -> dict[str, float]:
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError) as err:
        raise ValueError(f"{junit}: not a readable JUnit file ({err})") from None
    creation = given or 0.0
    for prop in root.iter("property"):
        if prop.get("name") == CREATION:
            try:
                creation = float(prop.get("value", "0").split()[0])
            except ValueError:
                creation = 0.0
    found: dict[str, float] = {}
    for case in root.iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        if not module.startswith("suites/"):
            continue
        seconds = float(case.get("time", 0))
        if not found and creation:
            seconds = max(0.0, seconds - creation)
        found[f"{module}.py::{case.get('name')}"] = round(seconds, 1)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("junit", nargs="+", type=Path)
    parser.add_argument("--creation", type=float, default=None, metavar="SECONDS",
                        help="the cluster's creation, for a JUnit file without the property")
    parser.add_argument("-o", "--output", type=Path, default=REPO / "suites" / "durations.json")
    args = parser.parse_args(argv)
    merged: dict[str, float] = {}
    try:
        for junit in args.junit:
            merged.update(durations(junit, args.creation))
    except ValueError as err:
        print(f"durations: {err}", file=sys.stderr)
        return 2
    if not merged:
        print(f"durations: no test of suites/ in {', '.join(map(str, args.junit))}",
              file=sys.stderr)
        return 1
    args.output.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n",
                           encoding="utf-8")
    print(f"durations: {len(merged)} tests, {sum(merged.values()):.0f} s, in {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
