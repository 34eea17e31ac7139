"""The checkout's pytest configuration. The suite's plugin is tutorial_conformance/plugin.py,
registered as the `tutorial_conformance` pytest11 entry point (`pip install -e .`, as
ci/venv.sh does): it loads in any run, and takes part only when the run selects the suite
(suites/, the default `testpaths`). The project's own tests are in tests/."""

collect_ignore = ["operator"]  # the operator's Go sources and their scaffold's Python-free tree
