"""The loop of ci/matrix.sh (which sets up the toolchain, then runs this): the conformance
suite on each Kubernetes version, one kind cluster each, one after the other; then their
claims merged into one matrix and the wall times into reports/matrix-times.md.

    python ci/matrix.py VERSION...

OFFLINE=1: each version's node image is built here first (ci/images/build.sh); otherwise
the kindest/node images published with the pinned kind release (ci/install-tools.sh).
Results: reports/runs/<version>/ (allure-results, html, junit.xml, claims-results.json,
kind-logs on failure), reports/claims-matrix.{html,md}, reports/matrix-times.md.
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

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


def run(argv: list[str], timeout: float, env: dict[str, str] | None = None) -> int:
    """argv's exit code. Its stdout and stderr go, merged in order, to a temporary file,
    echoed to this script's stdout once it ends (or is stopped)."""
    with tempfile.TemporaryDirectory(prefix="matrix-") as tmp:
        log = Path(tmp) / "output.log"
        try:
            return commands.run(argv, timeout=timeout, check=False, cwd=REPO,
                                env={**os.environ, **(env or {})}, output=log).returncode
        except CommandTimeout:
            say(f"`{' '.join(argv[:3])} ...` did not finish within {timeout:.0f} s: stopped")
            return 124
        finally:
            if log.exists():
                sys.stdout.write(log.read_text(errors="replace"))
                sys.stdout.flush()


def one_version(version: str, offline: bool) -> tuple[str, int, int, str]:
    out = RUNS / version
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    build, started = 0, time.monotonic()
    if offline:
        rc = run(["bash", "ci/images/build.sh"], BUILD_TIMEOUT, {"KUBERNETES_VERSION": version})
        build = round(time.monotonic() - started)
        if rc != 0:
            return version, build, 0, f"image build failed (exit {rc})"
    elif run(["bash", "ci/install-tools.sh", version], BUILD_TIMEOUT) != 0:
        return version, 0, 0, "tools install failed"
    say(f"{version}: running the suite")
    started = time.monotonic()
    rc = run([str(REPO / ".venv/bin/pytest"), "-p", "no:cacheprovider",
              f"--tutorial-k8s-version={version}",
              f"--cluster-name=matrix-{version.replace('.', '-')}", f"--tutorial-reports-dir={out}",
              f"--alluredir={out}/allure-results", f"--junitxml={out}/junit.xml",
              f"--kind-kubectl-bin={SUITE_CACHE / 'bin' / f'kubectl-{version}'}",
              f"--tutorial-image-source={'offline' if offline else 'official'}"], SUITE_TIMEOUT)
    suite = round(time.monotonic() - started)
    if run(["bash", "ci/report.sh", f"{out}/allure-results", f"{out}/html"], 1800) != 0 and rc == 0:
        rc = 1
    return version, build, suite, "passed" if rc == 0 else f"failed (exit {rc})"


def main(versions: list[str]) -> int:
    bad = [v for v in versions if not KUBERNETES_VERSION_PATTERN.match(v)]
    if bad or not versions:
        print(f"matrix: unknown Kubernetes version {bad[0] if bad else '(none)'!r} "
              "(want v1.MINOR.PATCH)", file=sys.stderr)
        return 4
    offline = os.environ.get("OFFLINE") == "1"
    rows = []
    try:
        for version in versions:
            rows.append(one_version(version, offline))
    finally:
        if offline:  # each offline build installs its version's kubectl as `kubectl`
            run(["bash", "ci/images/tools.sh"], 600)
    merged = run([str(REPO / ".venv/bin/python"), "-m", "tutorial_conformance.report.matrix", "-o",
                  "reports/claims-matrix", *map(str, sorted(RUNS.glob("*/claims-results.json")))],
                 600)
    lines = ["# Suite wall time per Kubernetes version", "",
             "| Kubernetes | image source | image build | suite (cluster + tests) | result |",
             "| --- | --- | --- | --- | --- |",
             *(f"| {v} | {'offline' if offline else 'official'} | {b} s | {s} s | {r} |"
               for v, b, s, r in rows), ""]
    (REPO / "reports" / "matrix-times.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0 if merged == 0 and all(r == "passed" for *_, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
