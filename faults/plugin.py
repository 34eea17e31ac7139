"""pytest plugin: `-p faults.plugin --inject-fault=CLAIM_ID` runs only the tests of that
claim, each with the claim's fault applied (faults/catalogue.py), and says whether the
fault was detected (faults/injection.py).

    pytest -p faults.plugin --inject-fault=arch-node-components [--fault-report=out.json]

The rest of the package is imported only once the suite's own plugins are (conftest.py),
so that pytest still rewrites their assertions.
"""

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tutorial-suite faults")
    group.addoption(
        "--inject-fault", default=None, metavar="CLAIM_ID",
        help="run only the tests of this claim, each with the claim's fault applied "
        "(faults/catalogue.py); they must fail",
    )
    group.addoption(
        "--fault-report", default=None, metavar="PATH",
        help="write the outcome of the fault's demonstration as JSON to PATH",
    )


def pytest_configure(config: pytest.Config) -> None:
    claim = config.getoption("inject_fault")
    if claim:
        from faults.injection import FaultPlugin

        config.pluginmanager.register(FaultPlugin(config, claim), "tutorial-faults")
