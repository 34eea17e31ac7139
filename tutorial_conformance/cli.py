"""`tutorial-conformance`: the suite from anywhere, installed or in a checkout.

    tutorial-conformance list                      # the claims catalogue, no cluster needed
    tutorial-conformance run [PYTEST ARGS...]      # the suite, then its reports
    tutorial-conformance report [--reports-dir D]  # the reports of the last run in D
    tutorial-conformance merge [--reports-dir D] SHARD_DIR...  # shards into one run, its reports

`run` is pytest on the installed suite with the suite's settings, its results in
--reports-dir (default ./reports): JUnit (junit.xml), Allure results, claims-results.json;
then `report`: the Allure HTML (html/index.html), the claims matrix, the annotated
tutorial, the tutorial as it runs today and its errata. `merge` joins the reports directories of
the shards of one run (`run --tutorial-shard=I/N`, each on its own machine) into D, then
makes the reports there. Any pytest argument passes
through: -k CLAIM_ID, -m section_v, -n 2, and the suite's --tutorial-* options
(`tutorial-conformance run --help` lists them).
"""

import argparse
import sys
from pathlib import Path

import pytest

from tutorial_conformance.plugin import suites_dir

USAGE_ERROR = 4
COMMANDS = ("list", "run", "report", "merge")


def reports_dir(args: list[str]) -> tuple[Path, list[str]]:
    """--reports-dir D (or --tutorial-reports-dir D) out of `args`; ./reports by default."""
    rest, found, it = [], None, iter(args)
    for arg in it:
        name, eq, value = arg.partition("=")
        if name in ("--reports-dir", "--tutorial-reports-dir"):
            found = value if eq else next(it, None)
            if not found:
                raise SystemExit(f"tutorial-conformance: {name} needs a directory")
        else:
            rest.append(arg)
    return Path(found or "reports").expanduser().resolve(), rest


def run(args: list[str]) -> int:
    reports, rest = reports_dir(args)
    results = reports / "allure-results"
    code = int(pytest.main([str(suites_dir()), f"--rootdir={Path.cwd()}",
                            f"--tutorial-reports-dir={reports}", f"--alluredir={results}",
                            "--clean-alluredir", f"--junitxml={reports / 'junit.xml'}", *rest]))
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED) or any(
            a in ("--help", "-h", "--co", "--collect-only", "--tutorial-list-claims")
            for a in rest):
        return code
    made = report(reports)
    return code or made


def report(reports: Path) -> int:
    from tutorial_conformance.report import matrix, today, tutorial
    from tutorial_conformance.report.allure import ReportError, generate

    try:
        index = generate(reports / "allure-results", reports / "html")
        print(f"Allure report: {index}")
    except ReportError as err:
        print(f"tutorial-conformance: {err}", file=sys.stderr)
        return 1
    results = [reports / "claims-results.json", *sorted(reports.glob("runs/*/claims-results.json"))]
    results = [str(r) for r in results if r.is_file()]
    if not results:
        print(f"tutorial-conformance: no claims-results.json in {reports} (a suite run writes "
              "it there)", file=sys.stderr)
        return 1
    return (matrix.main(["-o", str(reports / "claims-matrix"), *results])
            or tutorial.main(["-o", str(reports / "annotated-tutorial.html"), *results])
            or today.main(["-o", str(reports / "tutorial-today"), *results]))


def merge(args: list[str]) -> int:
    from tutorial_conformance.report.merge import MergeError
    from tutorial_conformance.report.merge import merge as merge_shards

    reports, shards = reports_dir(args)
    if not shards or any(s.startswith("-") for s in shards):
        print("tutorial-conformance: merge takes --reports-dir D and the shards' reports "
              "directories", file=sys.stderr)
        return USAGE_ERROR
    try:
        missing = merge_shards([Path(s) for s in shards], reports)
    except MergeError as err:
        print(f"tutorial-conformance: merge: {err}", file=sys.stderr)
        return USAGE_ERROR
    made = report(reports)
    if missing:
        print(f"tutorial-conformance: merge: shard(s) {', '.join(map(str, missing))} missing: "
              "their claims are not run", file=sys.stderr)
        return 1
    return made


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="tutorial-conformance", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=COMMANDS)
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else USAGE_ERROR
    if argv[0] not in COMMANDS:
        print(f"tutorial-conformance: no command {argv[0]!r} ({', '.join(COMMANDS)})",
              file=sys.stderr)
        return USAGE_ERROR
    command, rest = argv[0], argv[1:]
    try:
        if command == "list":
            return int(pytest.main([str(suites_dir()), "--tutorial-list-claims", *rest]))
        if command == "run":
            return run(rest)
        if command == "merge":
            return merge(rest)
        reports, extra = reports_dir(rest)
        if extra:
            print(f"tutorial-conformance: report takes only --reports-dir, not {extra}",
                  file=sys.stderr)
            return USAGE_ERROR
        return report(reports)
    except SystemExit as stop:
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
            return USAGE_ERROR
        raise


if __name__ == "__main__":
    sys.exit(main())
