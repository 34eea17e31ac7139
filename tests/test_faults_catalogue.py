"""Every testable claim has a fault that makes its tests fail, declared in
faults/catalogue.yaml (a standard action, or a Python fault), striking at a step its tests
have; and the fault plugin selects the claim's tests. No cluster needed."""

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

from tests.reporting import ci_script, pytest_run
from tests.test_claims_catalogue import declared_claims
from tutorial_conformance.faults import MODULES, load
from tutorial_conformance.faults.actions import Rule
from tutorial_conformance.faults.registry import KNOWN, entries
from tutorial_conformance.faults.standard import ACTIONS
from tutorial_conformance.toolkit.catalogue import CATALOGUE, load_catalogue

REPO = CATALOGUE.parent.parent
# Where the suites' steps are named: the test modules and the helpers that open steps.
STEPS_IN = [*sorted((REPO / "suites").glob("test_*.py")),
            *sorted((REPO / "toolkit").glob("*.py"))]


def step_names() -> set[str]:
    """Every step name the suite opens (`t.step("...")`, `self.step(NAME, ...)` where NAME
    is a module constant); f-strings give their constant prefix, ending with `*`."""
    found: set[str] = set()
    for path in STEPS_IN:
        module = None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "step" and node.args):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
            elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                found.add(f"{arg.values[0].value}*")
            elif isinstance(arg, ast.Name):
                name = f"tutorial_conformance.{path.parent.name}.{path.stem}"
                module = module or importlib.import_module(name)
                value = getattr(module, arg.id, None)
                if isinstance(value, str):
                    found.add(value)
    return found


def test_every_testable_claim_has_one_fault_declared_in_the_catalogue():
    claims = load_catalogue().claims
    testable = {c.id for c in claims.values() if c.testable}
    assert set(entries()) == testable, (
        f"without an entry: {sorted(testable - set(entries()))}; "
        f"not testable claims: {sorted(set(entries()) - testable)}")
    assert set(load()) == testable


def test_an_entry_is_one_standard_action_or_a_python_fault_where_it_says():
    for claim, entry in entries().items():
        actions = set(entry) - KNOWN
        fault = load()[claim]
        if "python" in entry:
            assert not actions, f"{claim}: both Python and {actions}"
            assert fault.function is not None, f"{claim}: no Python fault registered"
            where = f"faults/{fault.function.__module__.rsplit('.', 1)[-1]}.py"
            assert entry["python"] == where, f"{claim}: its fault is in {where}"
        else:
            assert len(actions) == 1 and actions <= set(ACTIONS), f"{claim}: {actions}"
            assert fault.function is None


def test_every_python_fault_module_is_loaded():
    registering = [p.stem for p in (REPO / "faults").glob("*.py")
                   if re.search(r"^@?fault\(\"", p.read_text(), re.M)]
    assert sorted(MODULES) == sorted(registering)


def test_every_step_a_fault_strikes_at_is_a_step_of_the_suite():
    names = step_names()
    missing = {}
    for claim, fault in load().items():
        if fault.step is None:
            continue
        step = fault.step.split(" ", 1)[1]
        prefixes = [n[:-1] for n in names if n.endswith("*")]
        if step not in names and not any(step.startswith(p) for p in prefixes):
            missing[claim] = step
    assert not missing, f"faults strike at steps no test has: {missing}"


def test_each_fault_is_described_once_in_the_claims():
    """A fault's words are its claim's `fault:`; the faults repeat none of them."""
    claims = load_catalogue().claims
    assert all(f.summary == claims[c].fault for c, f in load().items())


def test_every_fault_says_by_which_words_its_failure_names_the_cause():
    lacking = [c for c, entry in entries().items() if not entry.get("cause")]
    assert not lacking, f"no `cause:` words: {lacking}"


def test_a_fault_that_targets_some_tests_names_tests_of_its_claim_and_says_why():
    declared = declared_claims()
    for claim, fault in load().items():
        if fault.tests is None:
            continue
        names = {test.split("::")[-1] for test in declared[claim]}
        assert set(fault.tests) <= names, f"{claim}: {fault.tests} are not tests of it"
        assert fault.untargeted, f"{claim}: no reason for leaving its other tests out"


def collected(*args: str) -> tuple[int, list[str], str]:
    proc = pytest_run(REPO, "--collect-only", "-q", "--ignore-glob=*/test_zz_*", *args)
    tests = [line.split("::")[1].split("[")[0] for line in proc.stdout.splitlines()
             if line.startswith("suites/")]
    return proc.returncode, tests, proc.stdout + proc.stderr


def test_the_plugin_selects_exactly_the_tests_of_the_claim():
    code, tests, said = collected("--tutorial-inject-fault=pod-scheduling-unit")
    assert code == 0, said
    assert tests == ["test_a_pod_of_two_2gi_containers_lands_on_the_4gi_node",
                     "test_two_tied_2gi_pods_leave_the_second_unschedulable_on_the_3_5gi_node"]


def test_the_plugin_leaves_out_the_tests_a_fault_does_not_target():
    _, tests, _ = collected("--tutorial-inject-fault=arch-kube-proxy-uses-ipvs")
    assert tests == ["test_kube_proxy_runs_in_iptables_mode_not_ipvs"]


@pytest.mark.parametrize(("claim", "message"), [
    ("no-such-claim", "no claim no-such-claim"),
    ("summary", "claim summary has no fault (untestable)"),
])
def test_the_plugin_refuses_claims_without_a_fault_in_one_line(claim: str, message: str):
    code, _, said = collected(f"--tutorial-inject-fault={claim}")
    assert code == 4
    assert f"ERROR: tutorial-suite: --tutorial-inject-fault: {message}" in said


def test_iptables_rules_carry_the_fault_comment_before_their_target():
    rule = Rule("node", "filter", "INPUT", ("-p", "tcp", "-j", "REJECT", "--reject-with",
                                            "tcp-reset"), netns_of="42")
    argv = rule.argv("-I")
    assert argv[:4] == ["nsenter", "-t", "42", "-n"]
    assert argv.index("tutorial-suite-fault") < argv.index("-j")
    assert argv[argv.index("-j"):] == ["-j", "REJECT", "--reject-with", "tcp-reset"]


def test_the_results_table_says_which_claims_were_not_detected(tmp_path: Path):
    faults = load()
    claims = list(faults)
    detected, failed = claims[0], claims[1]
    for claim, ok in ((detected, True), (failed, False)):
        (tmp_path / f"{claim}.json").write_text(json.dumps({
            "claim": claim, "fault": faults[claim].summary, "detected": ok, "untargeted": None,
            "tests": [{"nodeid": "suites/x.py::test_y", "outcome": "failed" if ok else "passed",
                       "message": "AssertionError: boom" if ok else "", "problems": [],
                       "names_cause": ok if ok else None, "detected": ok}]}))
        (tmp_path / f"{claim}.run.json").write_text(json.dumps(
            {"seconds": 12, "exit": 1, "restored": "yes", "date": "2026-01-01T00:00Z"}))
    out = tmp_path / "FAULTS.md"
    ci_script("fault_table").table(tmp_path, out, "pytest --tutorial-inject-fault=CLAIM_ID")
    text = out.read_text()
    assert f"Result: **1 of {len(claims)}** claims detected." in text
    assert "in **1 of 1** failed tests" in text
    row = next(line for line in text.splitlines() if line.startswith(f"| `{failed}`"))
    assert "**NO**" in row and "PASSED" in row
    row = next(line for line in text.splitlines() if line.startswith(f"| `{detected}`"))
    assert "**yes**" in row and "AssertionError: boom" in row
    missing = next(line for line in text.splitlines() if line.startswith(f"| `{claims[2]}`"))
    assert "**NO**" in missing and "no result" in missing


def test_the_claims_index_is_current():
    """ci/CLAIMS.md: claim -> tests -> fault -> the step it strikes at."""
    current = (REPO / "ci" / "CLAIMS.md").read_text(encoding="utf-8")
    assert ci_script("claims_index").render() == current, \
        "ci/CLAIMS.md is stale: run python ci/claims_index.py"


def test_the_check_fails_on_a_first_line_that_names_no_cause(tmp_path: Path):
    claim = next(iter(load()))
    (tmp_path / f"{claim}.json").write_text(json.dumps({
        "claim": claim, "fault": "f", "detected": True, "untargeted": None,
        "tests": [{"nodeid": "suites/x.py::test_y", "outcome": "failed", "problems": [],
                   "message": "timed out after 9s waiting for x; last seen: nothing",
                   "names_cause": False, "detected": True}]}))
    (tmp_path / f"{claim}.run.json").write_text(json.dumps({"restored": "yes"}))
    checker = ci_script("fault_table")
    assert checker.main(["check", str(tmp_path), claim]) == 1
    (tmp_path / f"{claim}.json").write_text(
        (tmp_path / f"{claim}.json").read_text().replace('"names_cause": false',
                                                         '"names_cause": true'))
    assert checker.main(["check", str(tmp_path), claim]) == 0
