"""The claims catalogue is complete and every claim a test names exists."""

import pytest

from tests.reporting import module_in_suites, pytest_run
from tutorial_conformance.toolkit.catalogue import (
    CATALOGUE,
    TUTORIAL,
    Claim,
    catalogue_problems,
    declared_tests,
    load_catalogue,
    quote_problems,
)
from tutorial_conformance.toolkit.commands import Completed

SUITES = CATALOGUE.parent


def declared_claims() -> dict[str, list[str]]:
    """claim id -> tests naming it (test_x.py::name), from the suites' decorators."""
    return {claim: [test.removeprefix("suites/") for test in tests]
            for claim, tests in declared_tests(SUITES).items()}


def test_the_catalogue_is_well_formed():
    catalogue = load_catalogue()
    assert catalogue.claims


def test_every_claim_a_test_names_is_in_the_catalogue():
    unknown = set(declared_claims()) - set(load_catalogue().claims)
    assert not unknown, f"tests name claims the catalogue lacks: {sorted(unknown)}"


def test_every_testable_claim_has_a_test():
    declared = declared_claims()
    claims = load_catalogue().claims.values()
    untested = [c.id for c in claims if c.testable and c.id not in declared]
    assert not untested, f"testable claims without a test: {untested}"


def test_untestable_claims_have_no_test():
    declared = declared_claims()
    claims = load_catalogue().claims.values()
    tested = [c.id for c in claims if not c.testable and c.id in declared]
    assert not tested, f"claims marked untestable but tested: {tested}"


@pytest.mark.parametrize(
    ("claim", "problem"),
    [
        (Claim("x", "I", "t", True, "maybe", None, "f", None), "verdict must be one of"),
        (Claim("x", "I", "t", True, "outdated", None, "f", None), "needs `today`"),
        (Claim("x", "I", "t", True, "confirmed", None, None, None), "needs `fault`"),
        (Claim("x", "I", "t", False, None, None, None, None), "needs `reason`"),
        (Claim("x", "IX", "t", False, None, None, None, "r"), "unknown section IX"),
    ],
)
def test_malformed_claims_are_refused(claim: Claim, problem: str):
    assert any(problem in p for p in catalogue_problems(claim, {"I": "Architecture"}))


def test_collection_fails_on_an_unknown_claim_id():
    source = "import pytest\n\n@pytest.mark.claim('no-such-claim')\ndef test_x():\n    pass\n"
    with module_in_suites("unknown_claim", source) as module:
        proc = pytest_run(SUITES.parent, "--collect-only", "-q", str(module), timeout=120)
    assert proc.returncode != 0
    assert "unknown claim id(s) ['no-such-claim']" in proc.stdout + proc.stderr


def test_a_since_verdict_applies_from_its_minor_on():
    claim = load_catalogue().claims["arch-kube-proxy-uses-ipvs"]
    assert "deprecated" not in claim.on("v1.34.4").today
    assert "deprecated since v1.35" in claim.on("v1.35.4").today
    assert "KubeProxyIPVS" not in claim.on("v1.36.3").today
    assert "KubeProxyIPVS" in claim.on("v1.37.2").today
    assert claim.on(None).today == claim.today


def test_a_since_entry_must_name_a_minor_and_a_known_verdict():
    base = dict(id="x", section="I", text="t", testable=True, verdict="confirmed", today=None,
                fault="f", reason=None)
    bad_minor = Claim(**base, since=(("next", {"verdict": "outdated"}),))
    assert any("must be a minor" in p for p in catalogue_problems(bad_minor, {"I": "A"}))
    bad_verdict = Claim(**base, since=(("1.37", {"verdict": "maybe"}),))
    assert any("only a verdict" in p for p in catalogue_problems(bad_verdict, {"I": "A"}))


def test_every_claim_quotes_the_tutorial_at_its_lines():
    tutorial = TUTORIAL.read_text(encoding="utf-8")
    problems = {
        claim.id: found for claim in load_catalogue().claims.values()
        if (found := quote_problems(claim, tutorial))
    }
    assert problems == {}


def test_a_quote_that_is_not_the_tutorials_words_is_refused():
    tutorial = "one\ntwo three\nfour\n"
    base = dict(id="x", section="I", text="t", testable=False, verdict=None, today=None,
                fault=None, reason="r")
    assert quote_problems(Claim(**base, quote=("two three",), lines="2"), tutorial) == []
    assert quote_problems(Claim(**base, quote=("four",), lines="1-2"), tutorial)
    assert quote_problems(Claim(**base, quote=("two thre e",), lines="2"), tutorial)
    assert quote_problems(Claim(**base), tutorial) == [
        "no quote of the tutorial (`quote:` and `lines:`)"]


def test_the_vendored_tutorial_is_the_published_text():
    """suites/tutorial.txt is the tutorial as the project's shared copy has it (checked
    where that copy is beside the checkout)."""
    shared = sorted((CATALOGUE.parents[2] / "shared" / "tutorial").glob("*.txt"))
    if not shared:
        pytest.skip("no shared/tutorial beside the checkout to compare with")
    assert TUTORIAL.read_bytes() == shared[0].read_bytes()


def run_pytest(*args: str) -> Completed[str]:
    return pytest_run(SUITES.parent, *args, timeout=120)


def test_tests_are_selected_by_claim_and_by_section():
    by_claim = run_pytest("--collect-only", "-q", "-k", "sfs-replica-syncs")
    assert by_claim.returncode == 0, by_claim.stdout + by_claim.stderr
    assert "test_with_the_service_the_replica_syncs_and_refuses_writes" in by_claim.stdout
    assert "1/" in by_claim.stdout.splitlines()[-1]
    by_section = run_pytest("--collect-only", "-q", "-m", "section_ii")
    selected = [line for line in by_section.stdout.splitlines() if "::" in line]
    assert selected and all("test_cluster_setup.py" in line for line in selected)


# (Disruptive tests skipped on an existing cluster: tests/test_packaging.py, on a real one.)


def test_list_claims_prints_the_catalogue_without_a_cluster():
    listed = run_pytest("--tutorial-list-claims")
    assert listed.returncode == 0, listed.stderr
    catalogue = load_catalogue()
    for claim in catalogue.claims.values():
        assert f"  {claim.id} [" in listed.stdout
    assert "suites/test_statefulset.py::test_with_the_service_the_replica_syncs" in listed.stdout
