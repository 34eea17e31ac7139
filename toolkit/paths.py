"""Where the suite's files are: under the package tutorial_conformance, whose path holds the
checkout's top-level folders in a checkout (tutorial_conformance/__init__.py) and the
installed data otherwise (pyproject.toml maps each folder into the wheel)."""

from pathlib import Path

import tutorial_conformance


def _data(*names: str) -> Path:
    """The first of `names` found in the package's path (installed name, checkout name)."""
    for entry in tutorial_conformance.__path__:
        for name in names:
            if (Path(entry) / name).exists():
                return Path(entry) / name
    raise FileNotFoundError(f"none of {names} in {list(tutorial_conformance.__path__)}")


MANIFESTS = _data("manifests")
OPERATOR = _data("operator")
PINS = _data("pins", "ci/images")  # versions.env, operator-workflow.env
SUITES = _data("suites")  # the test modules, the catalogue and the tutorial
CHECKOUT = Path(tutorial_conformance.__file__).resolve().parent.parent  # a checkout's root
