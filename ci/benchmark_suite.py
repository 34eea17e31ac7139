"""`ci/benchmark.py`'s suite section: the whole suite, one run after the other, each run
and each shard on a cluster it makes and deletes (pytest's wall time, cluster creation
included, as a machine of its own pays it):

- section VI's warm-up as a fresh machine's build does it: empty Go caches (GOCACHE,
  GOMODCACHE of its own) and no BuildKit cache, then the build's steps that fill them
  (`ci/images/operator.sh`, `ci/images/scaffold.sh`);
- serial: the whole suite, whose section VI runs cold (the first run after the warm-up);
- section VI's workflow again: warm;
- `-n 2` (pytest-xdist on one cluster);
- 2 and 3 shards (`--tutorial-shard`), each split merged (tutorial-conformance merge) and
  its claims-results.json compared with the serial run's: the same claims, the same states.

About 65 minutes on 2 cores.
"""

import json
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ci.benchmark_runs import REPO, BenchmarkError, outcome_text, per_module, timed
from tutorial_conformance.report.merge import merge
from tutorial_conformance.toolkit.commands import docker

CLUSTER = "tutorial-suite-bench"
SPLITS = (2, 3)
WORKFLOW = "test_operator_workflow"
# What a fresh machine's build (ci/images/build.sh) compiles with the Go and BuildKit
# caches that section VI's workflow then reads: the operator's manager on the host, and
# kubebuilder, the scaffold's image and the Makefile's tools.
WARMUP_STEPS = ("operator", "scaffold")
# The targets (issue 23): the pull request's wait, and section VI's cold path.
SHARD_TARGET = 0.40
WORKFLOW_TARGET = 2.0


@dataclass
class Run:
    label: str
    wall: float
    junit: Path

    @cached_property
    def modules(self) -> dict[str, tuple[float, dict[str, int]]]:
        return per_module(self.junit)

    def tests(self) -> str:
        total: dict[str, int] = {}
        for _, outcome in self.modules.values():
            for kind, n in outcome.items():
                total[kind] = total.get(kind, 0) + n
        return outcome_text(total)


@dataclass
class SuiteFigures:
    warmup: float = 0.0
    runs: list[Run] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


def suite(out: Path, label: str, args: list[str], env: dict[str, str]) -> Run:
    """The suite on a cluster of its own (made and deleted by the run)."""
    out.mkdir(parents=True)
    print(f"[benchmark] suite: {label}", file=sys.stderr)
    wall = timed([str(REPO / ".venv/bin/pytest"), "-q", "-p", "no:cacheprovider",
                  f"--cluster-name={CLUSTER}", "--tutorial-image-source=offline",
                  f"--tutorial-reports-dir={out}", f"--alluredir={out}/allure-results",
                  f"--junitxml={out}/junit.xml", *args], env, out / "pytest.log", check=False)
    return Run(label, wall, out / "junit.xml")


def states(results: Path) -> dict[str, str]:
    return {c["id"]: c["status"] for c in json.loads(results.read_text())["claims"]}


def compared(serial: dict[str, str], merged: dict[str, str]) -> str:
    differ = [f"{c}: {serial.get(c, 'absent')} serial, {merged.get(c, 'absent')} merged"
              for c in sorted(set(serial) | set(merged)) if serial.get(c) != merged.get(c)]
    return (f"the same {len(serial)} claims, the same states" if not differ
            else f"{len(differ)} differ: " + "; ".join(differ))


def verdict(ratio: float, target: float, text: str) -> str:
    return f"{text}: target {'met' if ratio <= target else 'missed'}"


def measure(logs: Path, env: dict[str, str]) -> SuiteFigures:
    """Every run of the section, in order; raises BenchmarkError when a step cannot run."""
    figures = SuiteFigures()
    env = {**env, "GOCACHE": str(logs / "go-build"), "GOMODCACHE": str(logs / "go-mod")}
    print("[benchmark] section VI's warm-up from empty Go and BuildKit caches", file=sys.stderr)
    docker("builder", "prune", "-af", timeout=600)
    # The build's steps that fill the caches section VI's workflow reads, with a toolchain
    # cache of their own so that none is skipped as built (the suite keeps the real one).
    steps = {**env, "SUITE_CACHE": str(logs / "cache")}
    figures.warmup = sum(timed(["bash", f"ci/images/{step}.sh"], steps, logs / f"{step}.log")
                         for step in WARMUP_STEPS)
    serial = suite(logs / "serial", "serial", [], env)
    warm = suite(logs / "workflow-warm", "section VI again", [f"suites/{WORKFLOW}.py"], env)
    xdist = suite(logs / "n2", "-n 2", ["-n", "2"], env)
    figures.runs += [serial, warm, xdist]
    serial_states = states(logs / "serial" / "claims-results.json")
    cold_wf, warm_wf = serial.modules.get(WORKFLOW), warm.modules.get(WORKFLOW)
    if not cold_wf or not warm_wf:
        raise BenchmarkError(f"section VI's workflow did not run (serial: {cold_wf}, "
                             f"again: {warm_wf}; logs: {logs})")
    ratio = cold_wf[0] / warm_wf[0]
    figures.checks.append(verdict(ratio, WORKFLOW_TARGET,
        f"- section VI's workflow: {cold_wf[0]:.0f} s cold (the serial run, after the warm-up "
        f"of {figures.warmup:.0f} s), {warm_wf[0]:.0f} s warm: {ratio:.1f}x "
        f"(target at most {WORKFLOW_TARGET:.0f}x)") + ".")
    figures.checks.append(f"- `-n 2`: {xdist.wall:.0f} s, {xdist.wall / serial.wall:.0%} of "
                          f"serial ({serial.wall:.0f} s).")
    for n in SPLITS:
        shards = [suite(logs / f"{n}" / f"{i}", f"shard {i}/{n}", [f"--tutorial-shard={i}/{n}"],
                        env) for i in range(1, n + 1)]
        figures.runs += shards
        longest = max(r.wall for r in shards)
        missing = merge([logs / f"{n}" / f"{i}" for i in range(1, n + 1)], logs / f"{n}/merged")
        merged = states(logs / f"{n}" / "merged" / "claims-results.json")
        text = (f"- {n} shards: the longest {longest:.0f} s, {longest / serial.wall:.0%} of "
                f"serial (all {n} one after the other: {sum(r.wall for r in shards):.0f} s); "
                f"merged{' (missing: ' + str(missing) + ')' if missing else ''}: "
                f"{compared(serial_states, merged)}")
        if n == max(SPLITS):
            text = verdict(longest / serial.wall, SHARD_TARGET, text) + \
                f" (at most {SHARD_TARGET:.0%} of serial)"
        figures.checks.append(text + ".")
    return figures


def section(title: str, intro: str, figures: SuiteFigures) -> list[str]:
    serial = figures.runs[0].wall
    rows = [f"| {r.label} | {r.wall:.0f} s | {r.wall / serial:.0%} | {r.tests()} |"
            for r in figures.runs]
    modules = figures.runs[0].modules
    return [
        title, "", intro, "",
        "| run | wall time | of serial | tests |", "| --- | --- | --- | --- |", *rows, "",
        *figures.checks, "",
        "Serial, per module (sum of test durations, setup and teardown included):", "",
        "| module | time | outcome |", "| --- | --- | --- |",
        *(f"| {m} | {t:.1f} s | {outcome_text(c)} |" for m, (t, c) in modules.items()), "",
    ]
