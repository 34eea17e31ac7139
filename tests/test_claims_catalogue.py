"""The claims catalogue is complete and every claim a test names exists."""

import ast
import os
import subprocess
import sys

import pytest

from fixtures.claims import CATALOGUE, Claim, catalogue_problems, load_catalogue

SUITES = CATALOGUE.parent


def declared_claims() -> dict[str, list[str]]:
    """claim id -> tests naming it, read from the suites' @pytest.mark.claim(...) decorators."""
    found: dict[str, list[str]] = {}
    for module in sorted(SUITES.glob("test_*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "claim"
                ):
                    for arg in decorator.args:
                        found.setdefault(arg.value, []).append(f"{module.name}::{node.name}")
    return found


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
    module = SUITES / f"test_zz_unknown_claim_{os.getpid()}.py"
    module.write_text(
        "import pytest\n\n@pytest.mark.claim('no-such-claim')\ndef test_x():\n    pass\n"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
             str(module)],
            cwd=SUITES.parent, capture_output=True, text=True, timeout=120, check=False,
        )
    finally:
        module.unlink()
    assert proc.returncode != 0
    assert "unknown claim id(s) ['no-such-claim']" in proc.stdout + proc.stderr
