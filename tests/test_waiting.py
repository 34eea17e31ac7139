import time

import pytest
from kubernetes.client.exceptions import ApiException

from tutorial_conformance.toolkit.waiting import (
    ProbeError,
    Unrecoverable,
    WaitTimeout,
    holds_for,
    wait_until,
)


def test_returns_the_observation_once_done():
    seen = iter([(False, 1), (False, 2), (True, 3)])
    assert wait_until("the third poll", lambda: next(seen), timeout=10, interval=0.01) == 3


def test_timeout_names_what_was_awaited_and_the_last_observation():
    with pytest.raises(WaitTimeout) as err:
        wait_until("pod x to be Ready", lambda: (False, "phase=Pending"), timeout=0.2,
                   interval=0.05)
    assert "waiting for pod x to be Ready; last seen: phase=Pending" in str(err.value)


def test_a_failing_probe_is_reported_as_the_last_observation():
    def probe() -> tuple[bool, str]:
        raise ConnectionError("refused")

    with pytest.raises(WaitTimeout, match="last seen: ConnectionError: refused"):
        wait_until("the apiserver", probe, timeout=0.2, interval=0.05)


def test_an_unrecoverable_state_ends_the_wait_at_once():
    def probe() -> tuple[bool, str]:
        raise Unrecoverable("pod redis is on node w2, not on the downed w1")

    started = time.monotonic()
    with pytest.raises(WaitTimeout, match="stopped waiting for the eviction: pod redis is on"):
        wait_until("the eviction", probe, timeout=30, interval=0.05)
    assert time.monotonic() - started < 5


def test_holds_for_fails_at_the_first_poll_that_breaks_it():
    seen = iter([(True, []), (True, []), (False, ["redis"])])
    with pytest.raises(AssertionError, match=r"expected no pod for 30s; after 3 poll\(s\) saw"):
        holds_for("no pod", lambda: next(seen), duration=30, interval=0.01)
    assert holds_for("no pod", lambda: (True, []), duration=0.05, interval=0.01) == []


def test_a_bug_in_the_probe_ends_the_wait_at_once():
    def probe() -> tuple[bool, str]:
        return {}["status"]  # type: ignore[return-value]

    started = time.monotonic()
    with pytest.raises(ProbeError, match="the probe of the pod's status failed: KeyError"):
        wait_until("the pod's status", probe, timeout=30, interval=0.05)
    assert time.monotonic() - started < 5


def test_an_api_error_is_retried():
    answers = iter([ApiException(status=503, reason="unavailable"), (True, "ok")])

    def probe() -> tuple[bool, str]:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_until("the apiserver", probe, timeout=10, interval=0.01) == "ok"
