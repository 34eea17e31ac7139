"""Every claim says what its verdict rests on; the conformance tests it names are in the
list shipped from Kubernetes' release; a distribution claim failing on a cluster without
kind's and kubeadm's habits is reported as differing, and only there."""

import pytest
from _pytest.reports import TestReport

from tutorial_conformance.fixtures.differs import DIFFERS, describe, differs
from tutorial_conformance.toolkit.catalogue import (
    BASES,
    Basis,
    Claim,
    basis_problems,
    catalogue_problems,
    load_catalogue,
    load_conformance,
    parse_basis,
)
from tutorial_conformance.toolkit.habits import OURS, Habits

CATALOGUE = load_catalogue()
CONFORMANCE = load_conformance()


def test_every_claim_has_a_basis():
    missing = [c.id for c in CATALOGUE.claims.values() if c.basis is None]
    assert not missing
    assert {c.basis.kind for c in CATALOGUE.claims.values() if c.basis} == set(BASES)


def test_every_conformance_testname_is_in_the_shipped_list():
    problems = [p for c in CATALOGUE.claims.values() for p in basis_problems(c, CONFORMANCE)]
    assert not problems, problems


def test_the_shipped_list_holds_only_what_the_catalogue_names():
    named = {r for c in CATALOGUE.claims.values() if c.basis and c.basis.kind == "conformance"
             for r in c.basis.refs}
    assert set(CONFORMANCE) == named
    assert all(e["codename"].endswith("[Conformance]") or "[Conformance]" in e["codename"]
               for e in CONFORMANCE.values())


def test_a_testname_not_in_the_list_is_a_problem():
    claim = Claim("x", "I", "t", True, "confirmed", None, "f", None,
                  basis=Basis("conformance", ("Pods, lifecycle", "Pods, teleport")))
    assert basis_problems(claim, CONFORMANCE) == [
        "'Pods, teleport' is not a testname of conformance.yaml"]


@pytest.mark.parametrize("raw", [None, {}, {"conformance": []}, {"api": "u", "tooling": "k"},
                                 {"folklore": "x"}, {"api": "u", "extra": 1}])
def test_a_malformed_basis_is_none(raw: object):
    assert parse_basis(raw) is None
    claim = Claim("x", "I", "t", True, "confirmed", None, "f", None, basis=parse_basis(raw))
    assert any("`basis:` must be one of" in p for p in catalogue_problems(claim, {"I": "A"}))


def test_a_partly_correct_claim_says_what_holds():
    claim = Claim("x", "I", "t", True, "partly correct", "today", "f", None,
                  basis=Basis("tooling", ("kubectl",)))
    assert "needs `holds`" in " ".join(catalogue_problems(claim, {"I": "A"}))


def test_the_verdict_reads_with_its_basis_and_its_stand_in():
    kind = Claim("x", "I", "t", True, "confirmed", None, "f", None,
                 basis=Basis("distribution", ("kind (kubeadm)",)))
    assert kind.shown == "confirmed on kind (kubeadm)"
    stand_in = Claim("x", "VI", "t", True, "outdated", "now", "f", None,
                     basis=Basis("tooling", ("kubebuilder",)),
                     ran_with="kubebuilder (go/v4), operator-sdk not run")
    assert stand_in.shown == "outdated (judged with kubebuilder (go/v4), operator-sdk not run)"
    assert CATALOGUE.claims["op-built-with-operator-sdk"].shown == (
        "confirmed with kubebuilder (go/v4), operator-sdk not run")
    assert "Basis: distribution: kind (kubeadm)" in describe(kind)


def failed_call() -> TestReport:
    return TestReport("suites/test_x.py::test_y", ("suites/test_x.py", 1, "test_y"), {},
                      "failed", "E   AssertionError: no etcd pod in kube-system\nmore", "call")


KUBEADM = CATALOGUE.claims["cluster-kubeadm"]
VERSION = CATALOGUE.claims["cluster-kubectl-version"]
EXTERNAL_ETCD = Habits(kind=True, kubeadm=True, etcd="external")


def test_a_distribution_failure_on_a_differing_cluster_differs():
    report = failed_call()
    differs(report, [KUBEADM], EXTERNAL_ETCD)
    assert report.outcome == "skipped" and report.wasxfail == report.tutorial_differs
    assert report.tutorial_differs.startswith(f"{DIFFERS} (a kind (kubeadm) habit, not a "
                                              "Kubernetes promise; the cluster: kind, ")
    assert report.tutorial_differs.endswith(": AssertionError: no etcd pod in kube-system")


@pytest.mark.parametrize(("claims", "habits"), [
    ([KUBEADM], OURS),  # the suite's own cluster has the habits: a failure is a failure
    ([KUBEADM], Habits(kind=True, kubeadm=True, etcd="stacked")),
    ([VERSION], EXTERNAL_ETCD),  # a conformance claim fails everywhere
    ([KUBEADM, VERSION], EXTERNAL_ETCD),  # so does a test that also checks one
])
def test_other_failures_stay_failures(claims: list[Claim], habits: Habits):
    report = failed_call()
    differs(report, claims, habits)
    assert report.outcome == "failed" and not hasattr(report, "tutorial_differs")


def test_the_habits_read_as_a_sentence():
    assert EXTERNAL_ETCD.describe() == ("kind, kubeadm-built, etcd external: differs from "
                                        "kind's and kubeadm's habits")
    assert not EXTERNAL_ETCD.reference and OURS.reference
