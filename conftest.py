"""The suite's entry point for pytest: everything lives in fixtures/plugin.py."""

pytest_plugins = ["fixtures.plugin", "fixtures.claims", "fixtures.operator", "fixtures.topology"]
