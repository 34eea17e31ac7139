"""Measures the offline toolchain and the suite, side by side in one run, and writes
ci/BENCHMARKS.md: the cold image build (empty caches, none of the toolchain's images, no
build cache), the warm rebuild, kind cluster creation, the suite's wall time per module,
and section VI's workflow cold (the suite's first run: empty Go caches) and warm (run
again). Takes about 45 minutes; run it on an otherwise idle machine.

    .venv/bin/python ci/benchmark.py [--out ci/BENCHMARKS.md]
    .venv/bin/python ci/benchmark.py --parallel   # only the parallel runs' section
    .venv/bin/python ci/benchmark.py --startup    # only the start-up section
    .venv/bin/python ci/benchmark.py --shards     # serial, 2 and 3 shards, merged

--parallel measures, in one run on one reused cluster, the suite (without the tests of
`topology`, which make a cluster of their own) serial and with pytest-xdist's -n 2 and
-n 4, and writes that section of ci/BENCHMARKS.md, keeping the rest (about 30 minutes).
--startup measures what the installed suite adds to an unrelated pytest run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tutorial_conformance.toolkit.commands import CommandError, docker, run  # noqa: E402
from tutorial_conformance.toolkit.toolchain import pinned  # noqa: E402

CLUSTER = "tutorial-suite-bench"
# Images the toolchain builds or stands in for; a cold build starts without them.
TOOLCHAIN_IMAGES = ("tutorial-suite/", "registry.k8s.io/", "redis:", "memcached:", "golang:",
                    "gcr.io/distroless/", "envoyproxy/")
WORKFLOW_MODULE = "suites/test_operator_workflow.py"
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


def remove_toolchain_images() -> None:
    refs = [r for r in docker("images", "--format", "{{.Repository}}:{{.Tag}}", timeout=600).split()
            if r.startswith(TOOLCHAIN_IMAGES)]
    if refs:
        docker("rmi", "-f", *refs, timeout=600)
    docker("builder", "prune", "-af", timeout=600)


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


@contextmanager
def bench_cluster(env: dict[str, str], logs: Path) -> Iterator[float]:
    """Creates the benchmark's cluster, yields its creation time, deletes it after."""
    try:
        yield timed([sys.executable, "-c", CREATE, CLUSTER], env, logs / "create.log")
    finally:
        run(["kind", "delete", "cluster", "--name", CLUSTER], env=env, timeout=300,
            check=False)


CREATE = """
import sys
from pathlib import Path
from tutorial_conformance.toolkit import kind
from tutorial_conformance.toolkit.toolchain import find_binary
name = sys.argv[1]
kind.up(kind.KindSpec(name=name, kubeconfig=Path(f".pytest-kind/{name}/kubeconfig"),
                      kind_path=find_binary("kind"), kubectl_path=find_binary("kubectl"),
                      image_source="offline"))
"""


def pytest(args: list[str], junit: Path, env: dict[str, str], log: Path) -> float:
    return timed([str(REPO / ".venv/bin/pytest"), "-q", "-p", "no:cacheprovider",
                f"--cluster-name={CLUSTER}", "--tutorial-image-source=offline", "--keep-cluster",
                f"--junitxml={junit}", *args], env, log, check=False)


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
    return f"{cores} cores, {mem} GiB, Docker {engine}"


PARALLEL_SECTION = "## Parallel runs"


def parallel(out: Path) -> int:
    """The suite serial, -n 2, -n 4 on one reused cluster; its section of `out`."""
    env = dict(os.environ)
    logs = Path(tempfile.mkdtemp(prefix="tutorial-suite-bench.", dir="/var/tmp"))
    rows = []
    try:
        with bench_cluster(env, logs):
            for workers in (None, 2, 4):
                label = "serial" if workers is None else f"-n {workers}"
                args = ["-m", "not topology", *(["-n", str(workers)] if workers else [])]
                print(f"[benchmark] suite {label}", file=sys.stderr)
                junit = logs / f"run-{workers or 1}.xml"
                wall = pytest(args, junit, env, logs / f"run-{workers or 1}.log")
                total: dict[str, int] = defaultdict(int)
                for _, outcome in per_module(junit).values():
                    for kind, n in outcome.items():
                        total[kind] += n
                rows.append(f"| {label} | {wall:.0f} s | {outcome_text(total)} |")
    except (BenchmarkError, CommandError) as e:
        print(f"benchmark: {e} (logs: {logs})", file=sys.stderr)
        return 1
    section = [
        PARALLEL_SECTION, "",
        f"Measured by `.venv/bin/python ci/benchmark.py --parallel` on "
        f"{datetime.now(UTC):%Y-%m-%d} ({machine()}, Kubernetes "
        f"{pinned('KUBERNETES_VERSION')}): the suite without its `topology` tests, one run "
        "after the other on one cluster made before them and reused (`--keep-cluster`), "
        "pytest's wall time.", "",
        "| run | wall time | tests |", "| --- | --- | --- |", *rows, "",
    ]
    replace_section(out, PARALLEL_SECTION, section)
    shutil.rmtree(logs, ignore_errors=True)
    return 0


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "ci/BENCHMARKS.md")
    parser.add_argument("--parallel", action="store_true",
                        help="only the suite serial, -n 2 and -n 4 on one reused cluster")
    parser.add_argument("--startup", action="store_true",
                        help="only pytest's start-up in an environment with the suite")
    parser.add_argument("--shards", action="store_true",
                        help="only the suite serial and in 2 and 3 shards, merged")
    args = parser.parse_args()
    if args.startup:
        return startup(args.out)
    install_engine()
    if args.shards:
        from ci.benchmark_shards import shards
        return shards(args.out, dict(os.environ))
    if args.parallel:
        return parallel(args.out)
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
        print("[benchmark] cluster and suite", file=sys.stderr)
        with bench_cluster(env, bench) as create:
            suite = pytest([], bench / "junit.xml", env, bench / "suite.log")
            modules = per_module(bench / "junit.xml")
            workflow_warm = pytest([WORKFLOW_MODULE], bench / "workflow.xml", env,
                                   bench / "workflow.log")
            workflow = per_module(bench / "workflow.xml")
    except (BenchmarkError, CommandError) as e:
        print(f"benchmark: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(bench, ignore_errors=True)
    wf_name = Path(WORKFLOW_MODULE).stem
    wf_cold = modules.get(wf_name, (0.0, {}))
    wf_warm = workflow.get(wf_name, (0.0, {}))
    lines = [
        "# Benchmarks", "",
        f"Measured by `.venv/bin/python ci/benchmark.py` on {datetime.now(UTC):%Y-%m-%d} on "
        f"this machine ({machine()}, Kubernetes {pinned('KUBERNETES_VERSION')}, kind "
        f"{pinned('KIND_VERSION')}), each figure in the same run. The cold build starts from "
        "empty caches (its own SUITE_CACHE, GOCACHE and GOMODCACHE), none of the toolchain's "
        "images and no BuildKit cache; it excludes installing the Docker engine and the "
        "Python environment.", "",
        "| what | wall time |", "| --- | --- |",
        f"| cold image build (`ci/images/build.sh`) | {cold:.0f} s |",
        f"| warm rebuild (everything cached) | {warm:.0f} s |",
        "| kind cluster creation (1 control plane, 2 workers, until nodes Ready and DNS up) "
        f"| {create:.0f} s |",
        f"| whole suite on that cluster (pytest wall time) | {suite:.0f} s |",
        f"| section VI workflow, cold (in that suite: empty Go caches) | {wf_cold[0]:.0f} s "
        f"({outcome_text(wf_cold[1])}) |",
        f"| section VI workflow, warm (run again on the same cluster) | {wf_warm[0]:.0f} s "
        f"({outcome_text(wf_warm[1])}; pytest wall time {workflow_warm:.0f} s) |",
        "", "## Cold build, per step", "", "| step | time |", "| --- | --- |",
        *(f"| {name} | {secs} s |" for name, secs in steps.items()),
        "", "## Suite, per module (sum of test durations, setup and teardown included)", "",
        "| module | time | outcome |", "| --- | --- | --- |",
        *(f"| {m} | {t:.1f} s | {outcome_text(c)} |" for m, (t, c) in modules.items()),
        "",
    ]
    args.out.write_text("\n".join(lines))
    print(f"[benchmark] wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
