"""ci/benchmark_fresh.py's phases and ci/benchmark_suite.py's comparison (no cluster)."""

import pytest

from ci.benchmark_fresh import phases
from ci.benchmark_suite import compared

LOG = """100 benchmark-fresh: start
100 [install-engine] installing docker.io
290 [setup] installing the Python environment (.venv)
350 [install-engine] docker engine: 26.1.5
351 [debian-base] step 1/10: building debian-bookworm
1900 ============================= test session starts ==============================
1902 suites/test_architecture.py ....
2800 ================= 83 passed, 1 skipped in 898.12s (0:14:58) =================
2860 benchmark-fresh: end (exit 0)""".splitlines()


def test_each_phase_runs_from_its_first_line_to_the_next_phase_s():
    found, total = phases(LOG)
    assert found == [("Docker engine (apt, dockerd)", 190), ("Python environment (.venv)", 61),
                     ("offline toolchain (ci/images/build.sh)", 1549),
                     ("the suite (pytest, its kind cluster included)", 900),
                     ("the reports (ci/report.sh)", 60)]
    assert total == 2760 == sum(secs for _, secs in found)


def test_a_log_without_a_phase_names_the_marker_it_lacks():
    with pytest.raises(ValueError, match="offline toolchain"):
        phases([line for line in LOG if "test session starts" not in line])


def test_a_log_that_is_not_stamped_is_refused():
    with pytest.raises(ValueError, match="no stamped lines"):
        phases(["[setup] installing the Python environment"])


def test_merged_states_are_compared_claim_by_claim():
    serial = {"a": "passed", "b": "failed"}
    assert compared(serial, dict(serial)) == "the same 2 claims, the same states"
    assert compared(serial, {"a": "passed", "c": "passed"}) == (
        "2 differ: b: failed serial, absent merged; c: absent serial, passed merged")
