"""Refreshing on a schedule: ``--every 15m`` intervals and a loop that runs rounds until stopped."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip
_INTERVAL = re.compile(r"(?:\d+(?:\.\d+)?\s*[a-z]*\s*)+")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


def parse_interval(text: str) -> float:
    """Seconds in an interval such as ``"15m"``, ``"1h30m"``, ``"90s"``, ``"2 hours"``, ``"45"``.

    A bare number is seconds. Raises ``ValueError`` with a readable message for anything
    else, including zero.
    """
    spec = text.strip().lower()
    parts = _PART.findall(spec) if _INTERVAL.fullmatch(spec) else []
    units_ok = all(unit in _UNITS or (unit == "" and len(parts) == 1) for _, unit in parts)
    if not parts or not units_ok:
        raise ValueError(f"invalid interval {text!r}: use e.g. 30s, 15m, 1h30m or 1d")
    seconds = sum(float(number) * _UNITS.get(unit, 1) for number, unit in parts)
    if seconds <= 0:
        raise ValueError(f"invalid interval {text!r}: must be longer than zero")
    return seconds


def run_every(
    interval: float,
    round_fn: Callable[[int], object],
    *,
    stop: threading.Event | None = None,
    max_rounds: int | None = None,
    on_error: Callable[[int, Exception], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Call ``round_fn(n)`` now and then every ``interval`` seconds until ``stop`` is set.

    Rounds start on a fixed grid (a slow round delays the next one only if it overruns, and
    missed slots are skipped, never run in a burst). An exception from a round goes to
    ``on_error`` when given, so one failed refresh does not end the watch; otherwise it is
    raised. Returns the number of rounds run. ``clock`` is the time source (tests pass a fake
    one, together with a ``stop`` whose ``wait`` advances it).
    """
    stop = stop or threading.Event()
    started = clock()
    rounds = 0
    while not stop.is_set() and (max_rounds is None or rounds < max_rounds):
        rounds += 1
        try:
            round_fn(rounds)
        except Exception as exc:
            if on_error is None:
                raise
            on_error(rounds, exc)
        if max_rounds is not None and rounds >= max_rounds:
            break
        stop.wait(seconds_to_next_slot(clock() - started, interval))
    return rounds


def seconds_to_next_slot(elapsed: float, interval: float) -> float:
    """Time from ``elapsed`` to the next start on the grid ``0, interval, 2 * interval, ...``."""
    next_slot = (int(elapsed // interval) + 1) * interval
    return next_slot - elapsed
