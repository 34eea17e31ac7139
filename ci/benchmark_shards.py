"""`ci/benchmark.py --shards`: the whole suite serial and split into 2 and 3 shards
(`--tutorial-shard`), one run after the other, each run (each shard) making and deleting
its own cluster, so that cluster creation is counted as a machine of its own pays it.
Each split's shards are merged (tutorial-conformance merge) and their claims-results.json
compared with the serial run's: the same claims, the same states. Writes its section of
ci/BENCHMARKS.md. About 50 minutes on 2 cores (`-n 2` against serial: `--parallel`).
"""

import json
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ci.benchmark import REPO, BenchmarkError, machine, outcome_text, per_module, replace_section
from ci.benchmark import timed as timed_run
from tutorial_conformance.report.merge import merge
from tutorial_conformance.toolkit.commands import CommandError
from tutorial_conformance.toolkit.toolchain import pinned

SECTION = "## Shards"
CLUSTER = "tutorial-suite-shards"
SPLITS = (2, 3)


def suite(out: Path, args: list[str], env: dict[str, str]) -> float:
    """The suite on a cluster of its own (made and deleted by the run): its wall time."""
    out.mkdir(parents=True)
    return timed_run([str(REPO / ".venv/bin/pytest"), "-q", "-p", "no:cacheprovider",
                      f"--cluster-name={CLUSTER}", "--tutorial-image-source=offline",
                      f"--tutorial-reports-dir={out}", f"--alluredir={out}/allure-results",
                      f"--junitxml={out}/junit.xml", *args], env, out / "pytest.log",
                     check=False)


def states(results: Path) -> dict[str, str]:
    return {c["id"]: c["status"] for c in json.loads(results.read_text())["claims"]}


def compared(serial: dict[str, str], merged: dict[str, str]) -> str:
    differ = [f"{c}: {serial.get(c, 'absent')} serial, {merged.get(c, 'absent')} merged"
              for c in sorted(set(serial) | set(merged)) if serial.get(c) != merged.get(c)]
    return (f"the same {len(serial)} claims, the same states" if not differ
            else f"{len(differ)} differ: " + "; ".join(differ))


def tests_of(junit: Path) -> str:
    total: dict[str, int] = {}
    for _, outcome in per_module(junit).values():
        for kind, n in outcome.items():
            total[kind] = total.get(kind, 0) + n
    return outcome_text(total)


def shards(out: Path, env: dict[str, str]) -> int:
    logs = Path(tempfile.mkdtemp(prefix="tutorial-suite-shards.", dir="/var/tmp"))
    rows, checks = [], []
    try:
        print("[benchmark] the suite serial", file=sys.stderr)
        serial = suite(logs / "serial", [], env)
        serial_states = states(logs / "serial" / "claims-results.json")
        rows.append(f"| serial | {serial:.0f} s | 100% | {tests_of(logs / 'serial/junit.xml')} |")
        for n in SPLITS:
            walls = []
            for i in range(1, n + 1):
                print(f"[benchmark] shard {i}/{n}", file=sys.stderr)
                walls.append(suite(logs / f"{n}" / f"{i}", [f"--tutorial-shard={i}/{n}"], env))
                rows.append(f"| shard {i}/{n} | {walls[-1]:.0f} s | {walls[-1] / serial:.0%} | "
                            f"{tests_of(logs / f'{n}/{i}/junit.xml')} |")
            missing = merge([logs / f"{n}" / f"{i}" for i in range(1, n + 1)], logs / f"{n}/merged")
            merged = states(logs / f"{n}" / "merged" / "claims-results.json")
            checks.append(f"- {n} shards: the longest {max(walls):.0f} s, {max(walls) / serial:.0%}"
                          f" of serial (all {n} one after the other: {sum(walls):.0f} s); merged"
                          f"{' (missing: ' + str(missing) + ')' if missing else ''}: "
                          f"{compared(serial_states, merged)}.")
    except (BenchmarkError, CommandError, OSError, ValueError) as e:
        print(f"benchmark: {e} (logs: {logs})", file=sys.stderr)
        return 1
    replace_section(out, SECTION, [
        SECTION, "",
        f"Measured by `.venv/bin/python ci/benchmark.py --shards` on "
        f"{datetime.now(UTC):%Y-%m-%d} ({machine()}, Kubernetes {pinned('KUBERNETES_VERSION')}):"
        " the whole suite (topologies and section VI included, Go caches warm), one run after "
        "the other, each run and each shard on a cluster it makes and deletes (pytest's wall "
        "time, cluster creation included), the shards split by the durations checked in "
        "(suites/durations.json). A shard on a machine of its own takes the time of its row; "
        "the longest shard is the pull request's wait.", "",
        "| run | wall time | of serial | tests |", "| --- | --- | --- | --- |", *rows, "",
        *checks, ""])
    shutil.rmtree(logs, ignore_errors=True)
    return 0
