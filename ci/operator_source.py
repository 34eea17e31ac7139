"""operator/ is what section VI's workflow makes: kubebuilder's scaffold at its pinned
version, the tutorial's edits, and the two files the reader writes (the controller and the
sample, which operator/ holds and the workflow copies in). This writes operator/ afresh, or
with --check fails, naming the files, when operator/ is not what the workflow makes today.

    python ci/operator_source.py [--check]
"""

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutorial_conformance.toolkit.errors import SetupError  # noqa: E402
from tutorial_conformance.toolkit.operator import OPERATOR  # noqa: E402
from tutorial_conformance.toolkit.operator_workflow import Workflow  # noqa: E402
from tutorial_conformance.toolkit.workflow_setup import check_go_proxy, find_scaffolder, pin  # noqa: E402

# What the Makefile downloads, and what builds and tests leave.
IGNORED = {"bin", "cover.out", "dist"}
# The scaffold writes the current year into every header; a new year does not make it stale.
YEAR = re.compile(rb"(Copyright |year=)\d{4}")


def files(root: Path) -> dict[str, bytes]:
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and relative.parts[0] not in IGNORED:
            found[str(relative)] = YEAR.sub(rb"\g<1>YYYY", path.read_bytes())
    return found


def made(into: Path) -> Path:
    """Runs the workflow's source steps with the pinned kubebuilder; the project's root."""
    scaffolder = find_scaffolder(("kubebuilder",))
    wanted = pin("KUBEBUILDER_VERSION")
    if scaffolder.version != wanted:
        raise SetupError(f"{scaffolder.path} is kubebuilder {scaffolder.version}, operator/ is "
                         f"made with {wanted} (ci/images/scaffold.sh builds it)")
    check_go_proxy()
    workflow = Workflow(into / "memcached-operator", scaffolder)
    workflow.sources()
    return workflow.root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="fail when operator/ is not what the workflow makes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tutorial-suite-operator-") as tmp:
        try:
            root = made(Path(tmp))
        except (SetupError, AssertionError) as err:
            print(f"operator_source: {err}", file=sys.stderr)
            return 2
        if args.check:
            ours, theirs = files(OPERATOR), files(root)
            stale = sorted(name for name in ours.keys() | theirs.keys()
                           if ours.get(name) != theirs.get(name))
            if stale:
                print(f"operator_source: operator/ is not what the workflow makes: "
                      f"{', '.join(stale)} (run: python ci/operator_source.py)", file=sys.stderr)
                return 1
            print(f"operator/ is what the workflow makes ({len(ours)} files)")
            return 0
        for path in OPERATOR.iterdir():
            if path.name not in IGNORED:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        for name in files(root):
            (OPERATOR / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, OPERATOR / name)
        print(f"operator/ written: {len(files(root))} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
