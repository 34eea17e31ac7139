"""Every testable claim has a fault that makes its tests fail (or a documented exemption),
and the fault plugin selects the claim's tests; no cluster needed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from faults.actions import Rule
from faults.catalogue import EXEMPT, FAULTS
from faults.context import command
from faults.demo import table
from tests.test_claims_catalogue import declared_claims
from toolkit.catalogue import CATALOGUE, load_catalogue

REPO = CATALOGUE.parent.parent


def test_every_testable_claim_has_a_fault_or_a_documented_exemption():
    claims = load_catalogue().claims.values()
    missing = [c.id for c in claims if c.testable and c.id not in FAULTS and c.id not in EXEMPT]
    assert not missing, f"testable claims without a fault or an exemption: {missing}"


def test_exemptions_give_a_reason_and_faults_and_exemptions_do_not_overlap():
    assert all(reason.strip() for reason in EXEMPT.values())
    assert not set(EXEMPT) & set(FAULTS)


def test_faults_and_exemptions_are_for_testable_claims_of_the_catalogue():
    claims = load_catalogue().claims
    for claim in [*FAULTS, *EXEMPT]:
        assert claim in claims, f"{claim} is not in suites/claims.yaml"
        assert claims[claim].testable, f"{claim} is untestable: it has no test to fail"


def test_each_fault_is_described_once_in_the_catalogue():
    """A fault's words are its claim's `fault:`; the fault modules repeat none of them."""
    claims = load_catalogue().claims
    assert all(f.summary == claims[c].fault for c, f in FAULTS.items())
    for module in sorted((REPO / "faults").glob("*.py")):
        assert "summary=" not in module.read_text(), f"{module.name} describes a fault again"


def test_a_fault_that_targets_some_tests_names_tests_of_its_claim_and_says_why():
    declared = declared_claims()
    for claim, fault in FAULTS.items():
        if fault.tests is None:
            continue
        names = {test.split("::")[-1] for test in declared[claim]}
        assert set(fault.tests) <= names, f"{claim}: {fault.tests} are not tests of it"
        assert fault.untargeted, f"{claim}: no reason for leaving its other tests out"


def collect(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "faults.plugin", "-p", "no:cacheprovider",
         "--collect-only", "-q", "--ignore-glob=*/test_zz_*", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def collected(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split("::")[1].split("[")[0] for line in proc.stdout.splitlines()
            if line.startswith("suites/")]


def test_the_plugin_selects_exactly_the_tests_of_the_claim():
    proc = collect("--inject-fault=pod-scheduling-unit")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert collected(proc) == [
        "test_a_pod_of_two_2gi_containers_lands_on_the_4gi_node",
        "test_two_tied_2gi_pods_leave_the_second_unschedulable_on_the_3_5gi_node",
    ]


def test_the_plugin_leaves_out_the_tests_a_fault_does_not_target():
    proc = collect("--inject-fault=arch-kube-proxy-uses-ipvs")
    assert collected(proc) == ["test_kube_proxy_runs_in_iptables_mode_not_ipvs"]


@pytest.mark.parametrize(("claim", "message"), [
    ("no-such-claim", "no claim no-such-claim"),
    ("summary", "has no fault (untestable)"),
])
def test_the_plugin_refuses_claims_without_a_fault(claim: str, message: str):
    proc = collect(f"--inject-fault={claim}")
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr


def test_commands_match_the_words_in_order_and_suffixes():
    args = ("exec", "redis", "-n", "ns", "--", "redis-cli", "ping")
    assert command("exec", "redis", "redis-cli", "ping")(args)
    assert not command("exec", "ping", "redis-cli")(args)
    create = ("create", "-n", "x", "-f", "/a/with-service.yaml")
    assert command("create", "*with-service.yaml")(create)


def test_iptables_rules_carry_the_fault_comment_before_their_target():
    rule = Rule("node", "filter", "INPUT", ("-p", "tcp", "-j", "REJECT", "--reject-with",
                                            "tcp-reset"), netns_of="42")
    argv = rule.argv("-I")
    assert argv[:4] == ["nsenter", "-t", "42", "-n"]
    assert argv.index("tutorial-suite-fault") < argv.index("-j")
    assert argv[argv.index("-j"):] == ["-j", "REJECT", "--reject-with", "tcp-reset"]


def test_the_results_table_says_which_claims_were_not_detected(tmp_path: Path):
    claims = list(FAULTS)
    detected, failed = claims[0], claims[1]
    for claim, ok in ((detected, True), (failed, False)):
        (tmp_path / f"{claim}.json").write_text(json.dumps({
            "claim": claim, "fault": FAULTS[claim].summary, "detected": ok, "untargeted": None,
            "tests": [{"nodeid": "suites/x.py::test_y", "outcome": "failed" if ok else "passed",
                       "message": "AssertionError: boom" if ok else "", "problems": [],
                       "detected": ok}]}))
        (tmp_path / f"{claim}.run.json").write_text(json.dumps(
            {"seconds": 12, "exit": 1, "restored": "yes", "date": "2026-01-01T00:00Z"}))
    out = tmp_path / "FAULTS.md"
    table(tmp_path, out, "pytest --inject-fault=CLAIM_ID")
    text = out.read_text()
    assert f"Result: **1 of {len(claims)}** claims detected." in text
    row = next(line for line in text.splitlines() if line.startswith(f"| `{failed}`"))
    assert "**NO**" in row and "PASSED" in row
    row = next(line for line in text.splitlines() if line.startswith(f"| `{detected}`"))
    assert "**yes**" in row and "AssertionError: boom" in row
    missing = next(line for line in text.splitlines() if line.startswith(f"| `{claims[2]}`"))
    assert "**NO**" in missing and "no result" in missing


def test_each_fault_lives_beside_the_suite_whose_tests_it_breaks():
    """faults/X.py (or faults/X_*.py, when one module would be too long) holds the faults
    of suites/test_X.py, and only those."""
    declared = declared_claims()
    misplaced = {}
    for claim, fault in FAULTS.items():
        suites = {test.split("::")[0] for test in declared[claim]}
        expected = {f"faults.{s.removeprefix('test_').removesuffix('.py')}" for s in suites}
        module = fault.inject.__module__
        if not any(module == e or module.startswith(f"{e}_") for e in expected):
            misplaced[claim] = (module, sorted(expected))
    assert not misplaced, f"faults not beside their suites: {misplaced}"


def test_the_claims_index_is_current():
    """ci/CLAIMS.md: claim -> tests -> fault -> the step it strikes at."""
    proc = subprocess.run([sys.executable, str(REPO / "ci" / "claims_index.py"), "--check"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
