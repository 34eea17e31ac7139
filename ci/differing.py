"""The suite against a cluster without kind's and kubeadm's habits, as a platform team's
own cluster would be: its distribution claims must read `differs on this cluster`, exit 0,
and fail with --tutorial-strict.

    python ci/differing.py [PYTEST ARGS...]   # default: -m "not section_vi and not topology"

Makes a kind cluster whose etcd is no static pod but a container of its own on kind's
network (manifests/cluster/kind-external-etcd.yaml), runs the suite against it as an
existing cluster (--tutorial-existing-kubeconfig) without and then with --tutorial-strict,
prints what each run judged, and deletes the cluster and its etcd. Exit 0 when the first
run exits 0 with at least one claim differing and the second exits non-zero.
"""

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tutorial_conformance.toolkit import kind  # noqa: E402 - after the path is set
from tutorial_conformance.toolkit.commands import CommandError, docker, run  # noqa: E402
from tutorial_conformance.toolkit.errors import SetupError  # noqa: E402
from tutorial_conformance.toolkit.timeouts import TIMEOUTS  # noqa: E402
from tutorial_conformance.toolkit.toolchain import find_binary  # noqa: E402
from tutorial_conformance.toolkit.topology import external_etcd  # noqa: E402

NAME = "tutorial-suite-differs"
DEFAULT = ["-m", "not section_vi and not topology"]


def etcd_image() -> str:
    """An etcd image the engine has (the offline toolchain builds kubeadm's)."""
    listed = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}").split()
    found = sorted(i for i in listed if i.rsplit(":", 1)[0].endswith("/etcd"))
    if not found:
        raise SetupError("no etcd image in the Docker engine: build the toolchain "
                         "(OFFLINE=1 source ci/setup.sh) or pull registry.k8s.io/etcd")
    return found[-1]


def suite(kubeconfig: Path, reports: Path, args: list[str]) -> tuple[int, list[dict]]:
    proc = run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "suites",
                f"--tutorial-existing-kubeconfig={kubeconfig}", f"--tutorial-reports-dir={reports}",
                *args], cwd=REPO, timeout=TIMEOUTS.suite_run, check=False)
    print(proc.stdout[-8000:], flush=True)
    results = reports / "claims-results.json"
    claims = json.loads(results.read_text())["claims"] if results.is_file() else []
    return proc.returncode, claims


def main(argv: list[str]) -> int:
    args = argv or DEFAULT
    spec_kubeconfig = REPO / ".pytest-kind" / NAME / "kubeconfig"
    try:
        with external_etcd(f"{NAME}-etcd", etcd_image()) as endpoint:
            spec = kind.KindSpec(name=NAME, kubeconfig=spec_kubeconfig,
                                 kind_path=find_binary("kind"), kubectl_path=find_binary("kubectl"),
                                 base="kind-external-etcd.yaml",
                                 values={"EXTERNAL_ETCD_ENDPOINT": endpoint})
            kind.delete(spec)  # an interrupted run's: its etcd was just made anew
            with kind.kind_cluster(spec):
                reports = REPO / "reports" / "differing"
                plain, claims = suite(spec_kubeconfig, reports, args)
                strict, _ = suite(spec_kubeconfig, reports.with_name("differing-strict"),
                                  [*args, "--tutorial-strict"])
    except (SetupError, CommandError) as err:
        print(f"differing: {err}", file=sys.stderr)
        return 2
    differing = [c for c in claims if c["status"] == "differs"]
    for claim in differing:
        print(f"differs: {claim['id']}: {claim['reason']}")
    print(f"differing: without --tutorial-strict exit {plain}, {len(differing)} claim(s) "
          f"differing; with it exit {strict}")
    return 0 if plain == 0 and differing and strict != 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
