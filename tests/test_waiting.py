import pytest

from fixtures.waiting import WaitTimeout, wait_until


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
