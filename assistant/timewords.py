"""Relative date expressions ("this week", "last month", "yesterday", "in March", "3 days ago")
resolved against an ``as_of`` date into an inclusive date span.

>>> resolve_time_expression("Who resigned yesterday?", date(2024, 5, 17))
TimeScope(since=datetime.date(2024, 5, 16), until=datetime.date(2024, 5, 16), phrase='yesterday')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from assistant.errors import InvalidRequest

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTH = r"(?P<month>" + "|".join(MONTHS) + r"|" + "|".join(m[:3] for m in MONTHS) + r")\.?"
_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "few": 3, "couple of": 2}
_COUNT = r"(?P<n>\d{1,3}|a|one|two|three|four|five|six|seven|eight|nine|ten|few|couple of)"


@dataclass(frozen=True)
class TimeScope:
    """Inclusive date span named by ``phrase``."""

    since: date
    until: date
    phrase: str


def parse_as_of(value: date | datetime | str | None) -> date:
    """``as_of`` as a date; ``None`` means today."""
    if value is None or value == "":
        return date.today()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    except ValueError:
        raise InvalidRequest(f"as_of {value!r} is not an ISO date (YYYY-MM-DD)") from None


def resolve_time_expression(text: str, as_of: date) -> TimeScope | None:
    """The first relative date expression of ``text`` as a span ending no later than
    ``as_of``; ``None`` when there is none. Vague words ("recently") give no span."""
    lowered = text.lower()
    best: tuple[int, TimeScope] | None = None
    for pattern, rule in _RULES:
        match = pattern.search(lowered)
        span = rule(match, as_of) if match else None
        if match and span and (best is None or match.start() < best[0]):
            best = (match.start(), TimeScope(span[0], min(span[1], as_of), match.group(0)))
    return best[1] if best else None


# ---- rules: each turns a match into (since, until) --------------------------------------
def _today(m: re.Match[str], d: date) -> tuple[date, date]:
    return d, d


def _yesterday(m: re.Match[str], d: date) -> tuple[date, date]:
    return d - timedelta(days=1), d - timedelta(days=1)


def _past_week(m: re.Match[str], d: date) -> tuple[date, date]:
    return d - timedelta(days=6), d


def _last_week(m: re.Match[str], d: date) -> tuple[date, date]:
    monday = d - timedelta(days=d.weekday())
    return monday - timedelta(days=7), monday - timedelta(days=1)


def _weekend(m: re.Match[str], d: date) -> tuple[date, date]:
    # the latest Saturday-Sunday that has begun by as_of ("last weekend" is the one before)
    saturday = d - timedelta(days=(d.weekday() - 5) % 7)
    if m.group(1) == "last" and d.weekday() >= 5:
        saturday -= timedelta(days=7)
    return saturday, saturday + timedelta(days=1)


def _this_month(m: re.Match[str], d: date) -> tuple[date, date]:
    return d.replace(day=1), d


def _last_month(m: re.Match[str], d: date) -> tuple[date, date]:
    end = d.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def _this_year(m: re.Match[str], d: date) -> tuple[date, date]:
    return date(d.year, 1, 1), d


def _last_year(m: re.Match[str], d: date) -> tuple[date, date]:
    return date(d.year - 1, 1, 1), date(d.year - 1, 12, 31)


def _past_n(m: re.Match[str], d: date) -> tuple[date, date]:
    days = _count(m) * _UNITS[m.group("unit")]
    return d - timedelta(days=days), d


def _ago(m: re.Match[str], d: date) -> tuple[date, date]:
    days = _count(m) * _UNITS[m.group("unit")]
    slack = max(1, days // 7)  # "3 weeks ago" is approximate; "2 days ago" nearly exact
    return d - timedelta(days=days + slack), d - timedelta(days=max(days - slack, 0))


def _in_month(m: re.Match[str], d: date) -> tuple[date, date] | None:
    month = _month_number(m.group("month"))
    year = int(m.group("year")) if m.group("year") else (d.year if month <= d.month else d.year - 1)
    return _month_span(year, month)


def _in_year(m: re.Match[str], d: date) -> tuple[date, date] | None:
    year = int(m.group("year"))
    return (date(year, 1, 1), date(year, 12, 31)) if year <= d.year else None


def _weekday(m: re.Match[str], d: date) -> tuple[date, date]:
    back = (d.weekday() - WEEKDAYS.index(m.group("day"))) % 7
    if m.group("last") and back == 0:
        back = 7
    day = d - timedelta(days=back)
    return day, day


def _count(m: re.Match[str]) -> int:
    raw = (m.group("n") or "1").strip()
    return int(raw) if raw.isdigit() else _NUMBERS.get(raw, 1)


def _month_number(name: str) -> int:
    return [m[:3] for m in MONTHS].index(name[:3]) + 1


def _month_span(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(r"\b" + pattern + r"\b")


_RULES = [
    (_rx(r"today|tonight|this morning|this afternoon"), _today),
    (_rx(r"yesterday|last night"), _yesterday),
    (_rx(r"(?:in\s+|over\s+|during\s+)?(?:the\s+)?(?:past|last)\s+" + _COUNT
         + r"\s+(?P<unit>day|week|month|year)s?"), _past_n),
    (_rx(_COUNT + r"\s+(?P<unit>day|week|month|year)s?\s+ago"), _ago),
    (_rx(r"(?:this|the)\s+(?:past\s+)?week(?!end)|(?:in\s+|over\s+)?the\s+(?:past|last)\s+week"),
     _past_week),
    (_rx(r"last\s+week(?!end)"), _last_week),
    (_rx(r"(this|last|past)\s+weekend"), _weekend),
    (_rx(r"this\s+month"), _this_month),
    (_rx(r"last\s+month"), _last_month),
    (_rx(r"this\s+year"), _this_year),
    (_rx(r"last\s+year"), _last_year),
    (_rx(r"(?:in|during|since)\s+(?:early\s+|late\s+|mid-?)?" + _MONTH
         + r"(?:\s+(?P<year>(?:19|20)\d\d))?"), _in_month),
    (_rx(r"(?:in|during)\s+(?P<year>(?:19|20)\d\d)"), _in_year),
    (_rx(r"(?:on|this|(?P<last>last))\s+(?P<day>" + "|".join(WEEKDAYS) + r")"), _weekday),
]
