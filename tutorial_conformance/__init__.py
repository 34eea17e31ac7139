"""The conformance suite of the tutorial "Introduction to Kubernetes", as one package.

Installed, its subpackages (fixtures, toolkit, faults, suites) and data (manifests, operator,
pins) live under this package. In a checkout they are the repository's top-level folders,
which this package's path then includes.
"""

from pathlib import Path

__version__ = "0.2.0"

_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "toolkit").is_dir():
    __path__.append(str(_CHECKOUT))
