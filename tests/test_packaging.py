"""Installed (`pip install` of the wheel into a fresh virtualenv), the suite behaves as in
the checkout and harms nothing else: everything lives under the one package
tutorial_conformance, beside PyPI's `fixtures`; an unrelated project's pytest gets none
of its fixtures; `tutorial-conformance` lists, runs a claim on a real kind cluster and
makes the reports from a directory outside the checkout; plain pytest with -k CLAIM works
there too; an existing cluster is kept and spared the disruptive tests."""

import json
import os
import re
import secrets
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutorial_conformance.toolkit import commands
from tutorial_conformance.toolkit.commands import CommandTimeout, Completed
from tutorial_conformance.toolkit.toolchain import find_binary

REPO = Path(__file__).resolve().parent.parent
OTHER = "fixtures==4.3.2"  # a PyPI package of a name the suite's folders once had
UNRELATED = "def test_x(namespace):\n    assert namespace\n"


def run(argv: list[str], cwd: Path, timeout: float) -> Completed[str]:
    try:
        return commands.run(argv, cwd=cwd, timeout=timeout, check=False)
    except CommandTimeout:
        pytest.fail(f"`{' '.join(argv)}` did not finish within {timeout:.0f} s")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                 str(REPO)], out, 600)
    assert built.returncode == 0, built.stderr[-2000:]
    (found,) = out.glob("*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with PyPI's `fixtures`, then the suite's wheel; its bin/."""
    base = tmp_path_factory.mktemp("packaging")
    venv.create(base / "venv", with_pip=True)
    bin_dir = base / "venv" / "bin"
    for what in (OTHER, str(wheel)):
        done = run([str(bin_dir / "pip"), "install", "-q", what], base, 900)
        assert done.returncode == 0, done.stderr[-2000:]
    return bin_dir


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory with no checkout in it or above it."""
    assert REPO not in tmp_path.parents
    return tmp_path


def fixtures_works(bin_dir: Path, cwd: Path) -> Completed[str]:
    return run([str(bin_dir / "python"), "-c", "import fixtures; fixtures.Fixture; "
                "print(fixtures.__file__)"], cwd, 60)


def test_the_wheel_installs_one_package_and_no_generic_top_level_name(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert top == {"tutorial_conformance"}, top
    assert "tutorial_conformance/manifests/redis/pod.yaml" in names
    assert "tutorial_conformance/pins/versions.env" in names
    assert "tutorial_conformance/suites/claims.yaml" in names


def test_pypis_fixtures_works_beside_the_suite_and_after_its_uninstall(
    installed: Path, wheel: Path, elsewhere: Path
):
    assert fixtures_works(installed, elsewhere).returncode == 0
    entry = run([str(installed / "python"), "-c",
                 "from importlib.metadata import entry_points;"
                 "print(sorted(e.value for e in entry_points(group='pytest11')))"], elsewhere, 60)
    assert "'tutorial_conformance.plugin'" in entry.stdout
    removed = run([str(installed / "pip"), "uninstall", "-y", "-q", "tutorial-conformance"],
                  elsewhere, 300)
    assert removed.returncode == 0, removed.stderr
    try:
        after = fixtures_works(installed, elsewhere)
        assert after.returncode == 0, after.stderr
    finally:
        run([str(installed / "pip"), "install", "-q", "--no-deps", str(wheel)], elsewhere, 300)


def test_an_unrelated_project_gets_none_of_the_suites_fixtures(installed: Path, elsewhere: Path):
    (elsewhere / "test_unrelated.py").write_text(UNRELATED)
    proc = run([str(installed / "pytest"), "-p", "no:cacheprovider", "-q"], elsewhere, 120)
    output = proc.stdout + proc.stderr
    assert "fixture 'namespace' not found" in output, output[-2000:]
    assert "kind not found" not in output and "tutorial-suite" not in output
    listed = run([str(installed / "pytest"), "-p", "no:cacheprovider", "--fixtures"],
                 elsewhere, 120).stdout
    assert not re.search(r"^(cluster|t|memcached_operator|topology) ", listed, re.M), listed


def test_the_console_lists_the_catalogue_with_node_ids_that_paste_back(
    installed: Path, elsewhere: Path
):
    listing = run([str(installed / "tutorial-conformance"), "list"], elsewhere, 120)
    assert listing.returncode == 0, listing.stdout + listing.stderr
    assert "sfs-replica-syncs" in listing.stdout and "VI. A Memcached operator" in listing.stdout
    node = next(line.strip() for line in listing.stdout.splitlines()
                if "test_with_the_service_the_replica_syncs" in line)
    pasted = run([str(installed / "pytest"), "-p", "no:cacheprovider", "--co", "-q", node],
                 elsewhere, 120)
    assert pasted.returncode == 0 and "1 test collected" in pasted.stdout, pasted.stdout


def test_plain_pytest_selects_by_claim_and_section_outside_the_checkout(
    installed: Path, elsewhere: Path
):
    pytest_bin = str(installed / "pytest")
    by_claim = run([pytest_bin, "-p", "no:cacheprovider", "--co", "-q", "-k",
                    "sfs-replica-syncs"], elsewhere, 120)
    assert by_claim.returncode == 0, by_claim.stdout + by_claim.stderr
    assert "test_with_the_service_the_replica_syncs_and_refuses_writes" in by_claim.stdout
    by_section = run([pytest_bin, "-p", "no:cacheprovider", "--co", "-q", "--pyargs",
                      "tutorial_conformance.suites", "-m", "section_vi"], elsewhere, 120)
    assert by_section.returncode == 0 and "test_operator" in by_section.stdout
    nothing = run([pytest_bin, "-p", "no:cacheprovider", "--co", "-q", "--pyargs",
                   "tutorial_conformance.suites", "-m", "section_x"], elsewhere, 120)
    assert nothing.returncode == 5
    assert "tutorial-suite: section_x selects none of the suite's tests" in nothing.stdout


@pytest.mark.parametrize(("args", "line"), [
    (["--tutorial-k8s-version=1.37"], "unknown Kubernetes version '1.37'"),
    (["--tutorial-existing-kubeconfig=~/no-such-kubeconfig"],  # ~ expanded
     f"{Path.home()}/no-such-kubeconfig does not exist"),
    (["--tutorial-timeout-scale=fast"], "--tutorial-timeout-scale: not a number"),
])
def test_bad_input_is_one_line_at_configure_time_even_when_only_collecting(
    installed: Path, elsewhere: Path, args: list[str], line: str
):
    proc = run([str(installed / "tutorial-conformance"), "run", "--co", *args], elsewhere, 120)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 4, output[-2000:]
    errors = [x for x in output.splitlines() if x.startswith("ERROR: tutorial-suite: ")]
    assert len(errors) == 1 and line in errors[0], output[-2000:]
    assert "Traceback" not in output


@pytest.fixture(scope="module")
def kept_run(installed: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[Path, str, Completed[str]]]:
    """`tutorial-conformance run` from outside the checkout on a kind cluster of its own,
    which it keeps (--keep-cluster) for the existing-cluster test; deleted afterwards."""
    workdir = tmp_path_factory.mktemp("elsewhere")
    assert REPO not in workdir.parents
    name = f"packaged-{secrets.token_hex(2)}"
    image_source = "offline" if os.environ.get("OFFLINE") else "auto"
    try:
        proc = run([str(installed / "tutorial-conformance"), "run", "-k",
                    "cluster-kubectl-version or op-crd-and-operator",
                    f"--tutorial-image-source={image_source}", f"--cluster-name={name}",
                    "--keep-cluster"], workdir, 1500)
        yield workdir, name, proc
    finally:
        commands.run([str(find_binary("kind")), "delete", "cluster", "--name", name],
                     timeout=300, check=False)


def test_the_console_runs_claims_on_a_kind_cluster_and_writes_every_report(
    kept_run: tuple[Path, str, Completed[str]]
):
    workdir, _, proc = kept_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-1000:]
    reports = workdir / "reports"
    results = json.loads((reports / "claims-results.json").read_text())
    ran = {c["id"]: c["status"] for c in results["claims"]
           if c["status"] not in ("not run", "untestable")}
    assert ran == {"cluster-kubectl-version": "passed", "op-crd-and-operator-ready": "passed"}
    for made in ("junit.xml", "html/index.html", "claims-matrix.html", "claims-matrix.md",
                 "annotated-tutorial.html"):
        assert (reports / made).is_file(), f"no {made}"
    assert list((reports / "allure-results").glob("*-result.json"))


def test_an_existing_cluster_is_kept_and_spared_the_disruptive_tests(
    installed: Path, elsewhere: Path, kept_run: tuple[Path, str, Completed[str]],
):
    workdir, name, _ = kept_run
    kubeconfig = workdir / ".pytest-kind" / name / "kubeconfig"
    assert kubeconfig.is_file(), f"the first run kept no kubeconfig at {kubeconfig}"
    proc = run([str(installed / "pytest"), "-p", "no:cacheprovider", "--pyargs",
                "tutorial_conformance.suites", "-rs", "-k",
                "cluster-kubectl-version or disruptive",
                f"--tutorial-existing-kubeconfig={kubeconfig}",
                f"--tutorial-kube-context=kind-{name}"], elsewhere, 600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert re.search(r"SKIPPED \[\d+\] .*--tutorial-allow-disruptive", output), output[-3000:]
    assert re.search(r"\b[12] passed", output), output[-3000:]
    clusters = commands.run([str(find_binary("kind")), "get", "clusters"], timeout=60,
                            check=False).stdout
    assert name in clusters.split(), "the existing cluster was deleted"
