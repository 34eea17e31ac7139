"""Where the suite's files are: in a checkout, beside the code; installed (`pip install .`),
in the data packages the wheel ships (pyproject.toml maps each directory to one)."""

import importlib.util
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


def _data(relative: str, package: str) -> Path:
    local = CHECKOUT / relative
    if local.exists():
        return local
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"neither {local} nor the installed package {package}")
    return Path(next(iter(spec.submodule_search_locations)))


MANIFESTS = _data("manifests", "tutorial_suite_data.manifests")
OPERATOR = _data("operator", "tutorial_suite_data.operator")
PINS = _data("ci/images", "tutorial_suite_data.pins")  # versions.env, operator-workflow.env
SUITES = _data("suites", "suites")  # the test modules, the catalogue and the tutorial
