"""Runs a job of the users' workflow (ci/workflows/conformance.yml) here as GitHub's
hosted runner would: as a non-root user `runner` with password-less sudo and the docker
group, in a fresh copy of the repository, with the workflow's environment, one `run:`
step after the other. Steps that use an action (checkout, setup-python, cache, artifacts)
are stood in for: the copy is the checkout, the machine's python3 is the setup-python.

    python3 ci/runner_check.py [--job pull-request] [--record ci/RUNNER.md]

Writes what each step did (exit code, time, its last lines) to the record. As root only:
it creates the user. Without internet a step stops where it needs it; the record says
where.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tutorial_conformance.toolkit.commands import CommandTimeout, Completed, run  # noqa: E402

WORKFLOW = REPO / "ci" / "workflows" / "conformance.yml"
USER = "runner"
STEP_TIMEOUT = 45 * 60
CA_SETTINGS = ("SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE")


def sh(*command: str, timeout: float = 600) -> Completed[str]:
    try:
        return run(command, timeout=timeout, check=False)
    except CommandTimeout:
        sys.exit(f"runner_check: `{' '.join(command)}` did not finish in {timeout:.0f} s")


def make_runner_user() -> Path:
    """The user `runner`, as on GitHub's images: password-less sudo, in the docker group."""
    if shutil.which("sudo") is None:
        sh("apt-get", "install", "-y", "-qq", "sudo")
    if sh("id", USER).returncode != 0:
        proc = sh("useradd", "--create-home", "--shell", "/bin/bash", USER)
        if proc.returncode != 0:
            sys.exit(f"runner_check: cannot create user {USER}: {proc.stderr.strip()}")
    sh("groupadd", "-f", "docker")
    sh("usermod", "-aG", "docker", USER)
    Path(f"/etc/sudoers.d/{USER}").write_text(f"{USER} ALL=(ALL) NOPASSWD:ALL\n")
    os.chmod(f"/etc/sudoers.d/{USER}", 0o440)
    return Path(f"/home/{USER}")


def checkout(home: Path) -> Path:
    """A fresh clone of the committed tree plus the working tree's changes, owned by runner."""
    work = home / "work" / "suite"
    shutil.rmtree(work, ignore_errors=True)
    work.parent.mkdir(parents=True, exist_ok=True)
    sh("git", "clone", "-q", str(REPO), str(work))
    diff = sh("git", "-C", str(REPO), "diff", "HEAD").stdout
    if diff:
        run(["git", "-C", str(work), "apply", "-"], stdin=diff, check=True, timeout=60)
    untracked = sh("git", "-C", str(REPO), "ls-files", "--others", "--exclude-standard").stdout
    for name in untracked.split():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, work / name)
    sh("chown", "-R", f"{USER}:{USER}", str(home))
    return work


def run_step(work: Path, env: dict[str, str], script: str) -> tuple[int, float, str]:
    exports = "".join(f"export {k}={v!r}\n" for k, v in env.items())
    command = ["sudo", "-u", USER, "-H", "bash", "-eo", "pipefail", "-c",
               f"cd {work}\n{exports}{script}"]
    t0 = time.monotonic()
    # stdout and stderr merged in order: into a temporary file, read back (on a timeout,
    # what the step wrote until then).
    with tempfile.TemporaryDirectory(prefix="runner-check-") as tmp:
        log = Path(tmp) / "step.log"
        try:
            code = run(command, timeout=STEP_TIMEOUT, check=False, output=log).returncode
            output = log.read_text(errors="replace")
        except CommandTimeout:
            written = log.read_text(errors="replace") if log.exists() else ""
            code, output = 124, f"the step did not finish in {STEP_TIMEOUT} s\n{written}"
    return code, time.monotonic() - t0, output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", default="pull-request")
    parser.add_argument("--record", type=Path, default=REPO / "reports" / "runner-check.md")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("runner_check: run it as root (it creates the user `runner`)", file=sys.stderr)
        return 2
    workflow = yaml.safe_load(WORKFLOW.read_text())
    job = workflow["jobs"].get(args.job)
    if job is None:
        print(f"runner_check: no job {args.job!r} in {WORKFLOW.name}; jobs: "
              f"{', '.join(workflow['jobs'])}", file=sys.stderr)
        return 2
    home = make_runner_user()
    work = checkout(home)
    env = {k: str(v).replace("${{ github.workspace }}", str(work))
           for k, v in workflow.get("env", {}).items()}
    env["GITHUB_STEP_SUMMARY"] = str(home / "step-summary.md")
    # The machine's own trust settings (a TLS-inspecting proxy's CA, where there is one),
    # which sudo's reset environment would drop; GitHub's runners need none of them.
    env.update({k: os.environ[k] for k in CA_SETTINGS if k in os.environ})
    rows, failed = [], False
    for step in job["steps"]:
        name = step.get("name") or step.get("uses", "").split("@")[0]
        if "uses" in step:
            rows.append((name, "stood in for", "", "an action: " + step["uses"].split("#")[0]))
            continue
        if failed and "always()" not in str(step.get("if", "")):
            rows.append((name, "not run", "", "an earlier step failed"))
            continue
        code, seconds, output = run_step(work, env, step["run"])
        failed = failed or code != 0
        tail = "\n".join(output.strip().splitlines()[-6:])
        rows.append((name, f"exit {code}", f"{seconds:.0f} s", tail))
        print(f"[runner_check] {name}: exit {code} in {seconds:.0f} s", file=sys.stderr)
    lines = [f"# Job `{args.job}` as the non-root user `{USER}` (sudo, docker group)", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by "
             "`python3 ci/runner_check.py`.", ""]
    for name, state, seconds, tail in rows:
        lines += [f"## {name}: {state}" + (f", {seconds}" if seconds else ""), ""]
        if tail:
            lines += ["```", tail, "```", ""]
    args.record.parent.mkdir(parents=True, exist_ok=True)
    args.record.write_text("\n".join(lines))
    print(f"runner_check: {args.record}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
