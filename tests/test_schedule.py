"""``--every`` intervals and the refresh loop."""

from __future__ import annotations

import threading
import time

import pytest

from ingest.schedule import parse_interval, run_every, seconds_to_next_slot


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15m", 900),
        ("30s", 30),
        ("1h", 3600),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("1.5h", 5400),
        ("2 hours", 7200),
        ("10 min", 600),
        ("1d", 86400),
        ("15M", 900),
        ("45", 45),
    ],
)
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "15x", "15m30", "-5m", "abc", "1h-30m", "0", "0m"])
def test_parse_interval_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid interval"):
        parse_interval(text)


class FakeTime(threading.Event):
    """A clock that only moves when the loop waits (or a round says it took time): the grid
    is then checked exactly, whatever the machine's load."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None and timeout > 0, timeout
        self.waits.append(timeout)
        self.now += timeout
        return self.is_set()


def test_run_every_keeps_a_fixed_grid() -> None:
    fake = FakeTime()
    starts: list[float] = []

    def round_fn(n: int) -> None:
        starts.append(fake.now - 1000.0)
        fake.now += 0.05 * n  # each round takes a while, but less than the interval

    rounds = run_every(1.0, round_fn, stop=fake, max_rounds=4, clock=fake.clock)
    assert rounds == 4
    # on the grid, not drifting by each round's own duration
    assert starts == pytest.approx([0.0, 1.0, 2.0, 3.0])


def test_run_every_skips_missed_slots_after_a_slow_round() -> None:
    fake = FakeTime()
    starts: list[float] = []

    def round_fn(n: int) -> None:
        starts.append(fake.now - 1000.0)
        if n == 1:
            fake.now += 2.5  # overruns two slots of 1 s

    run_every(1.0, round_fn, stop=fake, max_rounds=3, clock=fake.clock)
    # round 2 starts on the next slot (3 s), not at once twice to catch up
    assert starts == pytest.approx([0.0, 3.0, 4.0])
    assert fake.waits == pytest.approx([0.5, 1.0])


@pytest.mark.parametrize(
    ("elapsed", "interval", "wait"),
    [(0.0, 10, 10), (0.2, 10, 9.8), (9.99, 10, 0.01), (10.0, 10, 10), (25.0, 10, 5)],
)
def test_seconds_to_next_slot(elapsed: float, interval: float, wait: float) -> None:
    assert seconds_to_next_slot(elapsed, interval) == pytest.approx(wait)


def test_run_every_really_waits_between_rounds() -> None:
    """With the real clock: rounds are spaced by the interval, not run back to back (the
    upper bound only guards against hanging, so machine load cannot fail it)."""
    starts: list[float] = []
    t0 = time.monotonic()
    rounds = run_every(0.1, lambda n: starts.append(time.monotonic() - t0), max_rounds=3)
    assert rounds == 3
    assert starts[1] >= 0.1 - 0.01 and starts[2] >= 0.2 - 0.01, starts
    assert starts[2] < 30, starts


def test_stop_event_ends_the_loop_promptly() -> None:
    stop = threading.Event()
    calls: list[int] = []
    thread = threading.Thread(target=lambda: run_every(60, calls.append, stop=stop))
    thread.start()
    time.sleep(0.2)
    stop.set()
    thread.join(timeout=2)
    assert not thread.is_alive()
    assert calls == [1]


def test_errors_go_to_on_error_and_the_loop_goes_on() -> None:
    errors: list[tuple[int, str]] = []

    def round_fn(n: int) -> None:
        if n == 2:
            raise RuntimeError("index unavailable")

    rounds = run_every(
        0.01, round_fn, max_rounds=3, on_error=lambda n, e: errors.append((n, str(e)))
    )
    assert rounds == 3 and errors == [(2, "index unavailable")]
    with pytest.raises(RuntimeError):
        run_every(0.01, round_fn, max_rounds=3)
