"""The layering rule (as the e2e framework's README states its own): toolkit/ builds on
nothing of the suite's, and needs no pytest; plugins, tests and faults build on it."""

import ast
import sys
from pathlib import Path

from tutorial_conformance.toolkit.commands import run

REPO = Path(__file__).resolve().parent.parent
TOOLKIT = REPO / "toolkit"


def test_no_toolkit_module_imports_the_plugins_the_faults_or_pytest():
    found = []
    for path in sorted(TOOLKIT.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            found += [f"{path.name}: {n}" for n in names
                      if n.split(".")[0] in ("fixtures", "faults", "suites", "pytest", "_pytest",
                                             "pytest_kind")]
    assert found == []


def test_importing_the_whole_toolkit_loads_no_pytest():
    modules = ", ".join(f"toolkit.{p.stem}" for p in sorted(TOOLKIT.glob("*.py"))
                        if p.stem != "__init__")
    code = f"import sys, {modules}; print('pytest' in sys.modules or '_pytest' in sys.modules)"
    proc = run([sys.executable, "-c", code], cwd=REPO, timeout=120, check=True)
    assert proc.stdout.strip() == "False"


def test_only_the_runner_imports_subprocess():
    """Every command goes through toolkit/commands.py (`run`, `start`, `start_on_terminal`)."""
    found = []
    for folder in ("toolkit", "fixtures", "faults", "suites", "tutorial_conformance"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                         else [a.name for a in node.names] if isinstance(node, ast.Import)
                         else [])
                if "subprocess" in names and path != TOOLKIT / "commands.py":
                    found.append(str(path.relative_to(REPO)))
    assert found == []
