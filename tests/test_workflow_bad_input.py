"""Section VI's workflow: what it needs around it, missing, is one line (the set-up checks
of toolkit/workflow_setup.py, which the module's fixture turns into pytest.exit)."""

import os
import sys
from pathlib import Path

from tutorial_conformance.toolkit.commands import run

REPO = Path(__file__).resolve().parent.parent


def setup_check(call: str, env: dict[str, str]) -> str:
    """Runs one set-up check in a fresh interpreter (SUITE_CACHE is read at import) and
    returns the one line it ends with."""
    code = ("import sys\nfrom tutorial_conformance.toolkit.errors import SetupError\n"
            f"from tutorial_conformance.toolkit.workflow_setup import {call.split('(')[0]}\n"
            f"try:\n    {call}\nexcept SetupError as err:\n    print(err)\n    sys.exit(4)\n")
    proc = run([sys.executable, "-c", code], cwd=REPO, timeout=300, check=False,
               env={**os.environ, **env})
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout
    return lines[0]


def test_no_scaffolder_is_one_line(tmp_path: Path):
    line = setup_check("find_scaffolder()", {"SUITE_CACHE": str(tmp_path),
                                             "PATH": "/usr/bin:/bin"})
    assert line.startswith("no scaffolder: neither operator-sdk nor kubebuilder is installed")


def test_go_proxy_unreachable_is_one_line(tmp_path: Path):
    go = Path(run(["go", "env", "GOROOT"], timeout=60, check=True).stdout.strip()) / "bin"
    line = setup_check("check_go_proxy()", {
        "GOPROXY": "http://127.0.0.1:9", "GOMODCACHE": str(tmp_path / "mod"),
        "GOFLAGS": "-modcacherw", "PATH": f"{go}:{os.environ['PATH']}"})
    assert line.startswith("the Go module proxy is unreachable (GOPROXY=http://127.0.0.1:9)")
