"""The suite's own hooks (declared by the plugin: tutorial_conformance/plugin.py), the
declared way for another plugin to take part in a test."""

from typing import Any

import pytest


def pytest_tutorial_context(context: Any, item: pytest.Item) -> None:
    """A test's context (toolkit/context.py TestContext) is made, its namespace up, before
    the test runs: a plugin may tie actions to the test's steps by name (`context.on`), as
    the fault plugin does (tutorial_conformance/faults/plugin.py)."""
