"""The loop of ci/fault-demo.sh (which sets up the toolchain, then runs this): on a kind
cluster of its own (made, or reused when kept, by toolkit/kind.py, as the suite's fixture
makes its own), each claim's tests run with the claim's fault injected, and the cluster is
checked whole (faults/health.py) before the next claim. Writes ci/FAULTS.md and exits
non-zero if a fault of this run was not detected.

    python ci/fault_demo.py [CLAIM_ID...]   # default: every testable claim with a fault

Environment: FAULT_CLUSTER (cluster name, default `faults`: a second run beside a first
uses another), KEEP=1 (keep the cluster), CLAIM_TIMEOUT (seconds per claim, default 1800),
SUITE_CACHE and KUBERNETES_VERSION (the default version's own kubectl).
"""

import json
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import fault_table as demo  # noqa: E402 - ci/fault_table.py, beside this script

from tutorial_conformance.toolkit import kind  # noqa: E402
from tutorial_conformance.toolkit.commands import CommandError, run  # noqa: E402
from tutorial_conformance.toolkit.errors import SetupError  # noqa: E402
from tutorial_conformance.toolkit.toolchain import SUITE_CACHE, find_binary, pinned  # noqa: E402

OUT = REPO / "reports" / "faults"
HEALTH_TIMEOUT = 900


def say(message: str) -> None:
    print(f"[fault-demo] {message}", file=sys.stderr, flush=True)


class Demo:
    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self.kubeconfig = REPO / ".pytest-kind" / cluster / "kubeconfig"
        version = os.environ.get("KUBERNETES_VERSION") or pinned("KUBERNETES_VERSION")
        # The default version's own kubectl: a matrix run beside it swaps `kubectl`.
        self.kubectl = SUITE_CACHE / "bin" / f"kubectl-{version}"
        self.pytest = [
            str(REPO / ".venv/bin/pytest"), "-p", "no:cacheprovider", "-q",
            "--ignore-glob=*/test_zz_*", f"--cluster-name={cluster}", "--keep-cluster",
            "--tutorial-image-source=offline", f"--kind-kubectl-bin={self.kubectl}",
        ]

    def run(self, argv: list[str], log: Path, timeout: float, append: bool = False) -> int:
        """argv with its output in log; its exit status (124 when it ran out of time)."""
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        try:
            return run(argv, timeout=timeout, check=False, env=env, cwd=REPO, output=log,
                       append=append).returncode
        except CommandError as err:  # no end within the timeout
            with log.open("a") as out:
                out.write(f"\n[fault-demo] {err}: stopped\n")
            return 124

    def health(self, log: Path, *args: str) -> bool:
        argv = [str(REPO / ".venv/bin/python"), "-m", "tutorial_conformance.faults.health",
                "--kubeconfig", str(self.kubeconfig), "--kind-name", self.cluster, *args]
        return self.run(argv, log, HEALTH_TIMEOUT, append=True) == 0

    def spec(self) -> kind.KindSpec:
        """The cluster as each claim's pytest run asks for it (the same name, kubeconfig,
        image and config, so that the run reuses it)."""
        return kind.KindSpec(name=self.cluster, kubeconfig=self.kubeconfig,
                             kind_path=find_binary("kind"), kubectl_path=self.kubectl,
                             image_source="offline",
                             kubernetes_version=os.environ.get("KUBERNETES_VERSION"))

    def baseline(self) -> bool:
        """The cluster: created, or reused when kept, and ready; then whatever an
        interrupted run left behind is repaired."""
        say(f"cluster {self.cluster}: up and healthy?")
        log = OUT / f"baseline-{self.cluster}.log"
        try:
            made, _ = kind.up(self.spec())
        except SetupError as err:
            say(f"the cluster is not usable: {err}")
            return False
        log.write_text(f"kind cluster {self.cluster}: {'created' if made.created else 'reused'}"
                       f" ({made.image})\n")
        return self.health(log, "--repair", "--wait", "300")

    def claim(self, claim: str, timeout: float) -> bool:
        """Runs the claim's tests with its fault; False when the cluster cannot be repaired."""
        say(claim)
        log, verdict = OUT / f"{claim}.log", OUT / f"{claim}.json"
        verdict.unlink(missing_ok=True)
        started = time.monotonic()
        rc = self.run([*self.pytest, f"--tutorial-inject-fault={claim}",
                       f"--tutorial-reports-dir={OUT}/{claim}",
                       f"--tutorial-fault-report={verdict}"], log, timeout)
        seconds = round(time.monotonic() - started)
        restored, repairable = "yes", True
        if not self.health(log, "--wait", "120"):
            restored = "no"
            say(f"{claim}: the cluster is not whole again; repairing")
            repairable = self.health(log, "--repair", "--wait", "300")
        (OUT / f"{claim}.run.json").write_text(json.dumps({
            "seconds": seconds, "exit": rc, "restored": restored,
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")}) + "\n")
        section = re.search(r"^.*= injected fault =.*?^(?:NOT )?DETECTED.*?$", log.read_text(),
                            re.M | re.S)
        if section:
            print("\n".join(line for line in section.group(0).splitlines()
                            if not line.lstrip().startswith("|")), file=sys.stderr)
        if not repairable:
            say(f"cannot repair the cluster: stopping (see {log})")
        return repairable

    def delete(self) -> None:
        say(f"deleting kind cluster {self.cluster} (KEEP=1 keeps it)")
        kind.delete(self.spec())


def main(argv: list[str]) -> int:
    known = demo.claims_with_faults()
    claims = argv or known
    unknown = [c for c in claims if c not in known]
    if unknown:
        print(f"fault-demo: no fault for {', '.join(unknown)} (see suites/claims.yaml)",
              file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    run = Demo(os.environ.get("FAULT_CLUSTER", "faults"))
    timeout = float(os.environ.get("CLAIM_TIMEOUT", "1800"))
    try:
        if not run.baseline():
            return 1
        for claim in claims:
            if not run.claim(claim, timeout):
                break
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        if os.environ.get("KEEP") != "1":
            run.delete()
    command = " ".join([*run.pytest, "--tutorial-inject-fault=CLAIM_ID"])
    demo.table(OUT, REPO / "ci/FAULTS.md", command.replace(str(REPO) + "/", ""))
    say("results: ci/FAULTS.md")
    return demo.main(["check", str(OUT), *claims])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
