"""What every section of ci/benchmark.py measures with: a command timed with its output in
a log, and a JUnit file's time and outcomes per module."""

import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from tutorial_conformance.toolkit.commands import CommandError, run

REPO = Path(__file__).resolve().parent.parent
STEP_TIMEOUT = 3 * 3600  # a cold build of a new Kubernetes version took 35 min on a busy day


class BenchmarkError(Exception):
    pass


def timed(cmd: list[str], env: dict[str, str], log: Path, check: bool = True) -> float:
    """Runs cmd with its output in log; returns its wall time in seconds."""
    t0 = time.monotonic()
    try:
        run(cmd, timeout=STEP_TIMEOUT, check=check, env=env, cwd=REPO, output=log)
    except CommandError as err:
        raise BenchmarkError(str(err)) from None
    return time.monotonic() - t0


def per_module(junit: Path) -> dict[str, tuple[float, dict[str, int]]]:
    times: dict[str, float] = defaultdict(float)
    outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for case in ET.parse(junit).iter("testcase"):
        module = case.get("classname", "").split(".")[-1]
        times[module] += float(case.get("time", 0))
        kind = ("failed" if case.find("failure") is not None or case.find("error") is not None
                else "skipped" if case.find("skipped") is not None else "passed")
        outcomes[module][kind] += 1
    return {m: (times[m], dict(outcomes[m])) for m in sorted(times)}


def outcome_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[k]} {k}" for k in ("passed", "failed", "skipped") if counts.get(k))
