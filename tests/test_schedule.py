"""``--every`` intervals and the refresh loop."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from ingest.schedule import parse_interval, run_every


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


def test_run_every_keeps_a_fixed_grid() -> None:
    starts: list[float] = []
    t0 = time.monotonic()
    rounds = run_every(0.2, lambda n: starts.append(time.monotonic() - t0), max_rounds=4)
    assert rounds == 4
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(0.15 < gap < 0.4 for gap in gaps), gaps
    assert starts[-1] < 0.75  # on the grid (0.6 s), not drifting by each round's own time


def test_run_every_skips_missed_slots_after_a_slow_round() -> None:
    starts: list[float] = []
    t0 = time.monotonic()

    def round_fn(n: int) -> None:
        starts.append(time.monotonic() - t0)
        if n == 1:
            time.sleep(0.5)  # overruns two slots of 0.2 s

    run_every(0.2, round_fn, max_rounds=3)
    # round 2 starts on the next slot (0.6 s), not at once twice to catch up
    assert 0.55 < starts[1] < 0.78 and 0.78 < starts[2] < 1.0, starts


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
