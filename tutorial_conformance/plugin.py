"""The suite's pytest plugin, its one entry point (pytest11 `tutorial_conformance`), in the
shape of pytest-django's: it registers the `--tutorial-*` options, checks them when pytest
configures (one line, `ERROR: tutorial-suite: ...`, exit 4), declares the suite's markers
and hooks, and, only when the run selects the suite's tests, registers its fixtures and
reporting (tutorial_conformance.fixtures). A pytest run of another project gets no fixture,
marker or import of the suite's from it, only the options' names.

Cluster options come from pytest-kind (--cluster-name, --keep-cluster, --kubeconfig,
--kind-image, --kind-bin, --kind-kubectl-bin); the suite sets their defaults.
"""

import re
from importlib import metadata, util
from pathlib import Path

import pytest

PREFIX = "--tutorial-"
CLUSTER_NAME = "tutorial-suite"  # pytest-kind's default is "pytest-kind"
TEST_TIMEOUT = 1800  # pytest-timeout's bound per test, behind the waits' own
SECTIONS = ("i", "ii", "iii", "iv", "v", "vi", "vii")
# new name -> the previous release's alias (None: none), and argparse's settings
OPTIONS: dict[str, tuple[str | None, dict]] = {
    "k8s-version": ("--k8s-version", dict(
        default=None, metavar="VERSION",
        help="Kubernetes version of the kind nodes (default: KUBERNETES_VERSION, else "
        "ci/images/versions.env's: the pinned offline version, or the newest official image)")),
    "image-source": ("--image-source", dict(
        choices=["auto", "offline", "official"], default="auto",
        help="offline: the node image the offline toolchain built (tutorial-suite/node:VERSION);"
        " official: kindest/node:VERSION; auto: offline when built, else official")),
    "existing-kubeconfig": ("--existing-kubeconfig", dict(
        default=None, metavar="PATH",
        help="run against the existing cluster of this kubeconfig instead of creating one")),
    "kube-context": (None, dict(
        default=None, metavar="NAME",
        help="with --tutorial-existing-kubeconfig: the kubeconfig context to use (default: its "
        "current context)")),
    "allow-non-kind": (None, dict(
        action="store_true", default=False,
        help="with --tutorial-existing-kubeconfig: run on a context that does not look like a "
        "throwaway kind cluster (its name not kind-*); the suite creates namespaces, CRDs and "
        "cluster roles there")),
    "allow-disruptive": ("--allow-disruptive", dict(
        action="store_true", default=False,
        help="with --tutorial-existing-kubeconfig, also run the tests marked disruptive (they "
        "take nodes or control-plane components down); without it they are skipped there")),
    "strict": (None, dict(
        action="store_true", default=False,
        help="on a cluster without kind's and kubeadm's habits (an existing cluster that is not "
        "kind, not kubeadm-built or has no stacked etcd), fail a distribution claim's test "
        "as any other; without it such a test is reported as `differs on this cluster`")),
    "keep-failed-namespaces": (None, dict(
        action="store_true", default=False,
        help="keep the namespace of a failed test (labelled, deleted by the next run) and "
        "print how to inspect it")),
    "rerun-failed-claims": (None, dict(
        action="store_true", default=False,
        help="run only the tests of the claims that failed in the previous run (its "
        "claims-results.json in --tutorial-reports-dir); the other claims keep their status "
        "from it in the new claims-results.json")),
    "list-claims": ("--list-claims", dict(
        action="store_true", default=False,
        help="print the claims catalogue (section, verdict, tests of each claim) and exit")),
    "reports-dir": ("--reports-dir", dict(
        default=None,
        help="where claims-results.json is written, and kind's logs when a test fails "
        "(default: reports/ under pytest's rootdir)")),
    "timeout-scale": (None, dict(
        default=None, metavar="FACTOR",
        help="multiply every bound of the suite's waits and commands (toolkit/timeouts.py) "
        "by FACTOR, for slower machines (default: TUTORIAL_TIMEOUT_SCALE, else 1)")),
    "manifests": (None, dict(
        default=None, metavar="DIR",
        help="a directory of your own copies of the tutorial's manifests: each file there "
        "replaces the suite's of the same path under manifests/ (redis/pod.yaml, ...)")),
    "shard": (None, dict(
        default=None, metavar="I/N",
        help="run shard I of N: whole modules, balanced by the durations measured in "
        "suites/durations.json; each shard makes its own cluster and writes its own results "
        "(`tutorial-conformance merge` joins them)")),
    "inject-fault": (None, dict(
        default=None, metavar="CLAIM_ID",
        help="run only the tests of this claim, each with the claim's fault applied "
        "(faults/catalogue.yaml); they must fail (ci/fault-demo.sh)")),
    "fault-report": (None, dict(
        default=None, metavar="PATH",
        help="with --tutorial-inject-fault: write the outcome as JSON to PATH")),
}
# Options another plugin may define under the old name.
OWNED_ELSEWHERE = {"--k8s-version": "pytest-kubernetes"}
PATHS = ("existing_kubeconfig", "reports_dir", "fault_report", "kubeconfig", "manifests")


def installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tutorial-suite")
    for name, (alias, spec) in OPTIONS.items():
        names = [PREFIX + name]
        owner = OWNED_ELSEWHERE.get(alias or "")
        if alias and not (owner and installed(owner)):
            names.append(alias)
        group.addoption(*names, dest=name.replace("-", "_"), **spec)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from tutorial_conformance import hooks

    pluginmanager.add_hookspecs(hooks)


def suites_dir() -> Path:
    spec = util.find_spec("tutorial_conformance.suites")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def selected_paths(config: pytest.Config) -> list[Path]:
    """The paths the run collects from (its arguments, or what pytest chose)."""
    paths = []
    for arg in config.args:
        name = str(arg).split("::", 1)[0]
        if config.option.pyargs and not name.endswith(".py") and "/" not in name:
            spec = util.find_spec(name) if re.fullmatch(r"[\w.]+", name) else None
            if spec is None:
                continue
            name = next(iter(spec.submodule_search_locations or [spec.origin or ""]))
        paths.append((config.invocation_params.dir / name).resolve())
    return paths


def selects_the_suite(config: pytest.Config) -> bool:
    suites = suites_dir()
    return any(p == suites or suites in p.parents or p in suites.parents
               for p in selected_paths(config))


def names_the_suite(config: pytest.Config) -> bool:
    """A run with no test path whose -k or -m names a claim or a section of the suite."""
    if config.args_source != pytest.Config.ArgsSource.INVOCATION_DIR:
        return False
    keyword, marks = config.option.keyword or "", config.option.markexpr or ""
    if not keyword and not marks:
        return False
    if re.search(r"\bsection_(?:" + "|".join(SECTIONS) + r")\b", marks):
        return True
    from tutorial_conformance.toolkit.catalogue import load_catalogue

    ids = load_catalogue().claims
    return any(word in ids for word in re.findall(r"[a-z0-9][a-z0-9-]+", keyword))


def fail(message: str) -> None:
    raise pytest.UsageError(f"tutorial-suite: {message}")


def expanded(config: pytest.Config) -> None:
    """Paths with ~ expanded (a shell leaves `--opt=~/x` as it is)."""
    for name in PATHS:
        value = getattr(config.option, name, None)
        if isinstance(value, str) and value.startswith("~"):
            setattr(config.option, name, str(Path(value).expanduser()))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    expanded(config)
    if config.option.reports_dir is None:
        config.option.reports_dir = str(config.rootpath / "reports")
    args = [str(a).split("=", 1)[0] for a in config.invocation_params.args]
    for name, (alias, _) in OPTIONS.items():
        if alias and alias in args:
            config.issue_config_time_warning(pytest.PytestDeprecationWarning(
                f"{alias} is the previous name of {PREFIX}{name}; it goes in 0.3.0"),
                stacklevel=2)
    from tutorial_conformance.fixtures import checks

    try:
        checks.options(config)
    except ValueError as err:
        fail(str(err))
    wanted = selects_the_suite(config)
    if not wanted and names_the_suite(config):
        config.args = [str(suites_dir())]
        wanted = True
    if not wanted:
        return
    for section in SECTIONS:
        config.addinivalue_line("markers", f"section_{section}: tests of section {section.upper()}")
    config.addinivalue_line("markers", "claim(*ids): the tutorial claims a test checks")
    config.addinivalue_line(
        "markers", "disruptive: takes a node or a control-plane component down for a while")
    config.addinivalue_line(
        "markers", "topology: needs a cluster of its own beside the suite's (fixtures/topology.py)")
    config.addinivalue_line("markers", "allure_description(text): the test's Allure description")
    if config.getoption("cluster_name", None) == "pytest-kind":
        config.option.cluster_name = CLUSTER_NAME
    if getattr(config.option, "timeout", None) is None:
        config.option.timeout = TEST_TIMEOUT
    from tutorial_conformance.fixtures import register

    try:
        register(config)
    except ValueError as err:
        fail(str(err))


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if not config.getoption("list_claims", False):
        return None
    from tutorial_conformance.fixtures.listing import list_claims

    print(list_claims(config))
    return 0
