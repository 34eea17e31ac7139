"""Measures the offline toolchain and the suite, side by side, into ci/BENCHMARKS.md.

Run it on an otherwise idle machine.

    .venv/bin/python ci/benchmark.py [--out ci/BENCHMARKS.md]   # both sections, ~95 min
    .venv/bin/python ci/benchmark.py --build    # the cold build and the warm rebuild
    .venv/bin/python ci/benchmark.py --suite    # serial, -n 2, shards, section VI cold/warm
    .venv/bin/python ci/benchmark.py --startup  # what the installed suite adds to pytest
    bash ci/benchmark-fresh.sh                  # the README's first command, fresh machine

The build section starts from empty caches (its own SUITE_CACHE, GOCACHE and GOMODCACHE),
none of the toolchain's images and no BuildKit cache. The suite section is
ci/benchmark_suite.py. Each replaces its own section of the file and keeps the others.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ci.benchmark_runs import BenchmarkError, timed  # noqa: E402
from tutorial_conformance.toolkit.commands import CommandError, docker, run  # noqa: E402
from tutorial_conformance.toolkit.toolchain import pinned  # noqa: E402

# Images the toolchain builds or stands in for; a cold build starts without them.
TOOLCHAIN_IMAGES = ("tutorial-suite/", "registry.k8s.io/", "redis:", "memcached:", "golang:",
                    "gcr.io/distroless/", "envoyproxy/")


def remove_toolchain_images() -> None:
    refs = [r for r in docker("images", "--format", "{{.Repository}}:{{.Tag}}", timeout=600).split()
            if r.startswith(TOOLCHAIN_IMAGES)]
    if refs:
        docker("rmi", "-f", *refs, timeout=600)
    docker("builder", "prune", "-af", timeout=600)


def install_engine() -> None:
    """`bash ci/install-engine.sh`: its output, captured, is echoed to this script's stdout
    and stderr once it ends; a failure or a timeout raises, as check=True did."""
    done = run(["bash", "ci/install-engine.sh"], cwd=REPO, timeout=1800, check=False)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise CommandError(f"`bash ci/install-engine.sh` exited {done.returncode}")


def machine() -> str:
    cores = os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**30
    engine = docker("version", "--format", "{{.Server.Version}}", timeout=600).strip()
    cgroup = "v2" if Path("/sys/fs/cgroup/cgroup.controllers").exists() else "v1"
    return f"{cores} cores, {mem} GiB, Docker {engine}, cgroup {cgroup}"


def replace_section(out: Path, title: str, section: list[str]) -> None:
    """`out` with its section `title` (to the next `## `) replaced by `section`, or added."""
    text = out.read_text() if out.exists() else "# Benchmarks\n"
    before, _, rest = text.partition(f"\n{title}\n")
    after = rest.partition("\n## ")[2] if rest else ""
    out.write_text(before.rstrip("\n") + "\n\n" + "\n".join(section).rstrip("\n") + "\n"
                   + (f"\n## {after}" if after else ""))
    print(f"[benchmark] wrote {title} in {out}", file=sys.stderr)


STARTUP_SECTION = "## Start-up of an unrelated pytest run"
STARTUP_RUNS = 7


def startup(out: Path) -> int:
    """pytest's wall time on a one-test project in a fresh virtualenv, without and with
    the suite's wheel installed (the median of STARTUP_RUNS runs each), and the fixtures
    that `pytest --fixtures` lists there; its section of `out`."""
    base = Path(tempfile.mkdtemp(prefix="tutorial-suite-startup."))
    (base / "project").mkdir()
    (base / "project" / "test_one.py").write_text("def test_one():\n    assert True\n")
    python = base / "venv" / "bin" / "python"
    run([sys.executable, "-m", "venv", str(base / "venv")], timeout=300)
    deps = ["pytest", "kubernetes", "pytest-kind", "redis", "tenacity", "allure-pytest",
            "PyYAML", "pytest-timeout", "pytest-xdist"]
    run([str(python), "-m", "pip", "install", "-q", *deps], timeout=900)
    rows = []
    for label in ("without the suite", "with the suite installed"):
        if label.startswith("with "):
            run([str(python), "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base),
                 str(REPO)], timeout=600)
            run([str(python), "-m", "pip", "install", "-q", "--no-deps",
                 str(next(base.glob("*.whl")))], timeout=600)
        times = []
        for _ in range(STARTUP_RUNS):
            t0 = time.monotonic()
            run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], timeout=120,
                cwd=base / "project")
            times.append(time.monotonic() - t0)
        listed = run([str(python), "-m", "pytest", "--fixtures", "-p", "no:cacheprovider"],
                     timeout=120, cwd=base / "project").stdout
        ours = [f for f in ("cluster", "t", "memcached_operator", "topology", "namespace")
                if f"\n{f} " in listed or f"\n{f} [" in listed]
        rows.append(f"| {label} | {sorted(times)[len(times) // 2]:.2f} s | "
                    f"{', '.join(ours) or 'none'} |")
    shutil.rmtree(base, ignore_errors=True)
    replace_section(out, STARTUP_SECTION, [
        STARTUP_SECTION, "",
        f"Measured by `.venv/bin/python ci/benchmark.py --startup` on "
        f"{datetime.now(UTC):%Y-%m-%d} ({machine()}): `pytest -q` of a one-test project in a "
        "fresh virtualenv with the suite's dependencies, the median of "
        f"{STARTUP_RUNS} runs, before and after `pip install` of the suite's wheel; and the "
        "suite's fixtures `pytest --fixtures` lists there.", "",
        "| environment | pytest wall time | suite fixtures listed |", "| --- | --- | --- |",
        *rows, ""])
    return 0


BUILD_SECTION = "## Cold build"
SUITE_SECTION = "## The suite: serial, -n 2, shards, section VI cold and warm"
FRESH_SECTION = "## The README's first command on a fresh machine"
FRESH_TARGET = 25 * 60


def build(out: Path) -> None:
    """The cold build from empty caches, the warm rebuild, and the cold build per step."""
    bench = Path(tempfile.mkdtemp(prefix="tutorial-suite-bench.", dir="/var/tmp"))
    cache = bench / "cache"
    env = {**os.environ, "SUITE_CACHE": str(cache), "GOCACHE": str(bench / "go-build"),
           "GOMODCACHE": str(bench / "go-mod"), "PATH": f"{cache / 'bin'}:{os.environ['PATH']}"}
    try:
        print("[benchmark] cold build: removing the toolchain's images and the build cache",
              file=sys.stderr)
        remove_toolchain_images()
        cold = timed(["bash", "ci/images/build.sh"], env, bench / "cold.log")
        warm = timed(["bash", "ci/images/build.sh"], env, bench / "warm.log")
        steps = {p.name: int(p.read_text()) for p in sorted((cache / "stamps").iterdir())}
    finally:
        shutil.rmtree(bench, ignore_errors=True)
    replace_section(out, BUILD_SECTION, [
        BUILD_SECTION, "",
        f"Measured by `.venv/bin/python ci/benchmark.py` on {datetime.now(UTC):%Y-%m-%d} "
        f"({machine()}, Kubernetes {pinned('KUBERNETES_VERSION')}, kind "
        f"{pinned('KIND_VERSION')}): `bash ci/images/build.sh` from empty caches (its own "
        "SUITE_CACHE, GOCACHE and GOMODCACHE), none of the toolchain's images and no BuildKit "
        "cache, then again with everything cached; without installing the Docker engine and "
        "the Python environment.", "",
        "| what | wall time |", "| --- | --- |",
        f"| cold build | {cold:.0f} s |", f"| warm rebuild | {warm:.0f} s |", "",
        "Per step (a step's own wall time; Kubernetes' compile runs beside the steps that "
        "need none of it, so the steps add up to more than the build):", "",
        "| step | time |", "| --- | --- |", *(f"| {n} | {t} s |" for n, t in steps.items()), ""])


def suite(out: Path) -> None:
    from ci.benchmark_suite import measure, section
    logs = Path(tempfile.mkdtemp(prefix="tutorial-suite-bench.", dir="/var/tmp"))
    try:
        figures = measure(logs, dict(os.environ))
    finally:
        # Each run's JUnit file and reports stay (`ci/durations.py` refreshes the shards'
        # durations from the serial run's); the Go caches, gigabytes, do not.
        for cache in ("go-build", "go-mod", "cache"):
            run(["chmod", "-R", "u+w", str(logs / cache)], timeout=600, check=False)
            shutil.rmtree(logs / cache, ignore_errors=True)
        print(f"[benchmark] the runs' JUnit files and reports: {logs}", file=sys.stderr)
    replace_section(out, SUITE_SECTION, section(SUITE_SECTION,
        f"Measured by `.venv/bin/python ci/benchmark.py` on {datetime.now(UTC):%Y-%m-%d} "
        f"({machine()}, Kubernetes {pinned('KUBERNETES_VERSION')}): the whole suite "
        "(topologies and section VI included), one run after the other, each run and each "
        "shard on a cluster it makes and deletes (pytest's wall time, cluster creation "
        "included), the shards split by the durations checked in (suites/durations.json). "
        "Before them, section VI's warm-up as a fresh machine's set-up does it "
        "(`ci/images/operator.sh` and `scaffold.sh` with empty Go caches and no BuildKit "
        "cache). A shard on a "
        "machine of its own takes the time of its row; the longest is the pull request's "
        "wait.", figures))


def fresh(out: Path, log: Path, exit_code: int) -> None:
    """The phases of `bash ci/conformance.sh` from ci/benchmark-fresh.sh's stamped log."""
    from ci.benchmark_fresh import phases
    found, total = phases(log.read_text().splitlines())
    replace_section(out, FRESH_SECTION, [
        FRESH_SECTION, "",
        f"Measured by `bash ci/benchmark-fresh.sh` on {datetime.now(UTC):%Y-%m-%d} "
        f"({machine()}): `bash ci/conformance.sh` on a machine without the Docker engine, "
        "the Python environment or any cache; each phase from the first line it prints; "
        f"exit {exit_code}.", "",
        "| phase | wall time |", "| --- | --- |",
        *(f"| {name} | {secs} s |" for name, secs in found), f"| **total** | {total} s "
        f"({total / 60:.0f} min; target at most {FRESH_TARGET // 60} min: "
        f"{'met' if total <= FRESH_TARGET else 'missed'}) |", ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "ci/BENCHMARKS.md")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--build", action="store_true", help="only the cold and warm build")
    only.add_argument("--suite", action="store_true",
                      help="only the suite: serial, -n 2, 2 and 3 shards, section VI cold/warm")
    only.add_argument("--startup", action="store_true",
                      help="only pytest's start-up in an environment with the suite")
    only.add_argument("--fresh-log", type=Path, metavar="LOG",
                      help="the fresh-machine section from ci/benchmark-fresh.sh's log")
    parser.add_argument("--fresh-exit", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        if args.fresh_log:
            fresh(args.out, args.fresh_log, args.fresh_exit)
            return 0
        if args.startup:
            return startup(args.out)
        install_engine()
        if not args.suite:
            build(args.out)
        if not args.build:
            suite(args.out)
    except (BenchmarkError, CommandError, OSError, ValueError) as e:
        print(f"benchmark: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
