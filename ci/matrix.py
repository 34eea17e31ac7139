"""The loop of ci/matrix.sh (which sets up the toolchain, then runs this): the conformance
suite on each Kubernetes version, one kind cluster each, one after the other; then their
claims merged into one matrix and the wall times into reports/matrix-times.md.

    python ci/matrix.py VERSION...
    python ci/matrix.py --page NOTE # reports/MATRIX.md again, after a rerun of some claims

OFFLINE=1: each version's node image is built here first (ci/images/build.sh); otherwise
the kindest/node images published with the pinned kind release (ci/install-tools.sh).
A pre-release of the next minor (v1.38.0-beta.0) is always built from source, and its
column never fails the run. Results: reports/runs/<version>/ (allure-results, html,
junit.xml, claims-results.json, kind-logs on failure), reports/claims-matrix.{html,md},
reports/matrix-times.md and reports/MATRIX.md (the page ci/MATRIX.md is a copy of).
"""

import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ci.benchmark import machine  # noqa: E402
from tutorial_conformance.report.changes import heading, is_prerelease  # noqa: E402
from tutorial_conformance.toolkit import commands  # noqa: E402
from tutorial_conformance.toolkit.commands import CommandTimeout  # noqa: E402
from tutorial_conformance.toolkit.toolchain import (  # noqa: E402
    KUBERNETES_VERSION_PATTERN,
    SUITE_CACHE,
)

RUNS = REPO / "reports" / "runs"
BUILD_TIMEOUT = 3 * 3600  # a cold build of a new Kubernetes version took 35 min on a busy day
SUITE_TIMEOUT = 2 * 3600


def say(message: str) -> None:
    print(f"[matrix] {message}", file=sys.stderr, flush=True)


def run(argv: list[str], timeout: float, env: dict[str, str] | None = None) -> tuple[int, str]:
    """argv's exit code and output. Its stdout and stderr go, merged in order, to a
    temporary file, echoed to this script's stdout once it ends (or is stopped)."""
    with tempfile.TemporaryDirectory(prefix="matrix-") as tmp:
        log, code = Path(tmp) / "output.log", 124
        try:
            code = commands.run(argv, timeout=timeout, check=False, cwd=REPO,
                                env={**os.environ, **(env or {})}, output=log).returncode
        except CommandTimeout:
            say(f"`{' '.join(argv[:3])} ...` did not finish within {timeout:.0f} s: stopped")
        finally:
            output = log.read_text(errors="replace") if log.exists() else ""
            sys.stdout.write(output)
            sys.stdout.flush()
        return code, output


def source(version: str, offline: bool) -> str:
    """Where the version's node image comes from: built here, or kind's published one."""
    return "offline" if offline or is_prerelease(version) else "official"


def first_error(output: str) -> str:
    """The build's first `[step] error: ...` line, which names what failed."""
    return next((line.split("error: ", 1)[1] for line in output.splitlines()
                 if line.startswith("[") and "] error: " in line), "")


def one_version(version: str, offline: bool) -> tuple[str, int, int, str]:
    out = RUNS / version
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    build, started = 0, time.monotonic()
    if source(version, offline) == "offline":  # kind publishes no pre-release node image
        rc, output = run(["bash", "ci/images/build.sh"], BUILD_TIMEOUT,
                         {"KUBERNETES_VERSION": version})
        build = round(time.monotonic() - started)
        if rc != 0:
            why = first_error(output)
            return version, build, 0, f"image build failed (exit {rc}){': ' + why if why else ''}"
    elif run(["bash", "ci/install-tools.sh", version], BUILD_TIMEOUT)[0] != 0:
        return version, 0, 0, "tools install failed"
    stand_ins = SUITE_CACHE / "kubernetes" / version / "bin" / "STAND-INS"
    borrowed = ", ".join(line.split(":", 1)[0] for line in stand_ins.read_text().splitlines()
                         ) if stand_ins.exists() else ""
    say(f"{version}: running the suite")
    started = time.monotonic()
    rc, _ = run([str(REPO / ".venv/bin/pytest"), "-p", "no:cacheprovider",
                 f"--tutorial-k8s-version={version}",
                 f"--cluster-name=matrix-{version.replace('.', '-')}",
                 f"--tutorial-reports-dir={out}", f"--alluredir={out}/allure-results",
                 f"--junitxml={out}/junit.xml",
                 f"--kind-kubectl-bin={SUITE_CACHE / 'bin' / f'kubectl-{version}'}",
                 f"--tutorial-image-source={source(version, offline)}"], SUITE_TIMEOUT)
    suite = round(time.monotonic() - started)
    if run(["bash", "ci/report.sh", f"{out}/allure-results", f"{out}/html"], 1800)[0] != 0 \
            and rc == 0:
        rc = 1
    result = "passed" if rc == 0 else f"failed (exit {rc})"
    return version, build, suite, result + (f"; stand-ins: {borrowed}" if borrowed else "")


def main(versions: list[str]) -> int:
    if versions[:1] == ["--page"]:
        return repage(" ".join(versions[1:]))
    bad = [v for v in versions if not KUBERNETES_VERSION_PATTERN.match(v)]
    if bad or not versions:
        print(f"matrix: unknown Kubernetes version {bad[0] if bad else '(none)'!r} "
              "(want v1.MINOR.PATCH or v1.MINOR.PATCH-rc.N)", file=sys.stderr)
        return 4
    offline = os.environ.get("OFFLINE") == "1"
    rows = []
    try:
        for version in versions:
            rows.append(one_version(version, offline))
    finally:
        if offline:  # each offline build installs its version's kubectl as `kubectl`
            run(["bash", "ci/images/tools.sh"], 600)
    merged = merge()
    times = [*TIMES_HEAD, *(f"| {heading(v)} | {source(v, offline)} | {b} s | {s} s | {r} |"
                            for v, b, s, r in rows)]
    (REPO / "reports" / "matrix-times.md").write_text(
        "\n".join(["# Suite wall time per Kubernetes version", "", *times, ""]))
    print("\n".join(times))
    write_page(times)
    released = [r for v, *_, r in rows if not is_prerelease(v)]
    return 0 if merged == 0 and all(r.startswith("passed") for r in released) else 1


TIMES_HEAD = ["| Kubernetes | image source | image build | suite (cluster + tests) | result |",
              "| --- | --- | --- | --- | --- |"]


def merge() -> int:
    """The claims matrix of every run under reports/runs/ (several runs of a version: each
    claim's latest result)."""
    return run([str(REPO / ".venv/bin/python"), "-m", "tutorial_conformance.report.matrix",
                "-o", "reports/claims-matrix",
                *map(str, sorted(RUNS.glob("*/claims-results.json")))], 600)[0]


def repage(note: str) -> int:
    """After a rerun of some of a version's claims (its results under reports/runs/): the
    claims matrix merged again and reports/MATRIX.md rewritten, its wall-time rows kept."""
    page = REPO / "reports" / "MATRIX.md"
    if not page.exists():
        print("matrix: no reports/MATRIX.md to rewrite: run the matrix first", file=sys.stderr)
        return 4
    merged = merge()
    write_page(TIMES_HEAD, note)  # every row kept
    return merged


def row_version(row: str) -> str:
    """The version of a wall-time row: `| v1.38.0-beta.0 (pre-release) | ...` -> v1.38.0-beta.0."""
    return row.removeprefix("| ").split(" ", 1)[0]


def kept_rows(ran: list[str]) -> list[str]:
    """The wall-time rows of reports/MATRIX.md for versions this run did not run."""
    page = REPO / "reports" / "MATRIX.md"
    if not page.exists():
        return []
    lines = page.read_text().splitlines()
    if TIMES_HEAD[1] not in lines:
        return []
    rows = [line for line in lines[lines.index(TIMES_HEAD[1]) + 1:] if line.startswith("| v")]
    return [r for r in rows if row_version(r) not in ran]


def write_page(times: list[str], note: str = "") -> None:
    """reports/MATRIX.md: how and where the matrix ran, its times (a version not run this
    time keeps its row), and the claims matrix."""
    ran = [row_version(row) for row in times[2:]]
    times = [*times[:2], *kept_rows(ran), *times[2:]]
    claims = REPO / "reports" / "claims-matrix.md"
    body = claims.read_text().split("\n", 1)[1] if claims.exists() else "\n(no claims matrix)\n"
    page = ["# The matrix, as last run here", "",
            f"Run by `bash ci/matrix.sh` on {datetime.now(UTC):%Y-%m-%d}, on {machine()}. A "
            "pre-release column never fails the run." + (f" {note}" if note else ""), "",
            "## Wall time per version", "",
            *times, "", "## Claims per version", body]
    (REPO / "reports" / "MATRIX.md").write_text("\n".join(page))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
