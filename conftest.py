"""The suite's entry point for pytest: its plugins live in fixtures/ (what they build on,
in toolkit/)."""

pytest_plugins = [
    "fixtures.options",
    "fixtures.plugin",
    "fixtures.claims",
    "fixtures.operator",
    "fixtures.topology",
    "fixtures.parallel",
    "fixtures.rerun",
]
