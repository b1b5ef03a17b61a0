"""Article records in JSON Lines, JSON (one object or an array) and CSV files.

Each function yields ``Article`` records or ``IngestError`` values naming the file and line
(never raises for bad input), so one bad record never stops the others.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Generator, Iterator
from typing import Any

from ingest.cleaning import clean_field, clean_text, normalise_date
from ingest.errors import IngestError
from ingest.reading import MAX_FILE_BYTES
from ingest.records import Article

LoadResult = Article | IngestError
MAX_JSON_DEPTH = 100  # deeper nesting is reported at the line where it passes this depth
TOO_DEEP = f"nested too deeply (more than {MAX_JSON_DEPTH} levels of [ and {{)"
_JSON_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{}\n]')
_SPACE = re.compile(r"[ \t\r\n]*")


def record_to_article(record: object, *, origin: str) -> Article:
    """A JSON/CSV record with the fields of DESIGN.md; raises ValueError naming the bad field."""
    if not isinstance(record, dict):
        raise ValueError(f"expected an object with a 'body' field, got {type(record).__name__}")
    body = record.get("body")
    if body is not None and not isinstance(body, str):
        raise ValueError(f"'body' must be text, got {_json_type(body)}")
    if body is None or not body.strip():
        raise ValueError("missing or empty 'body'")
    fields: dict[str, str] = {}
    for name in ("id", "title", "source", "url", "published_at"):
        value = record.get(name)
        if value is None:
            continue
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ValueError(f"field {name!r} must be a string, got {_json_type(value)}")
        fields[name] = clean_field(value)
    fields["published_at"] = normalise_date(fields.get("published_at", ""))
    return Article(body=clean_text(body), origin=origin, **fields)


def load_jsonl(text: str, origin: str) -> Iterator[LoadResult]:
    """One record per line; a bad line is reported and the next one read."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield IngestError(where, f"invalid JSON ({error.msg} at column {error.colno})")
            continue
        except RecursionError:
            yield IngestError(where, TOO_DEEP)
            continue
        yield from guard_record(where, record_to_article, record, origin=where)


def load_json(text: str, origin: str) -> Iterator[LoadResult]:
    """One object, or an array of them read one by one (each named by the line it starts on)."""
    start = _SPACE.match(text).end()  # type: ignore[union-attr]  # matches the empty string
    if text.startswith("[", start):
        yield from _load_json_array(text, start + 1, origin)
        return
    decoded = yield from _decode_one(text, start, origin)
    if decoded is not None:
        where = f"{origin}:{_line_at(text, start)}"
        yield from guard_record(where, record_to_article, decoded[0], origin=where)
        yield from _check_trailing(text, decoded[1], origin, "after the object")


def _load_json_array(text: str, pos: int, origin: str) -> Iterator[LoadResult]:
    line, counted = 1, 0
    first = True
    while True:
        pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith("]", pos):
            yield from _check_trailing(text, pos + 1, origin, "after the closing ']'")
            return
        if not first:
            if not text.startswith(",", pos):
                yield _json_error(text, pos, origin, "expected ',' or ']' between records")
                return
            pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
        first = False
        line, counted = line + text.count("\n", counted, pos), pos
        decoded = yield from _decode_one(text, pos, origin)
        if decoded is None:
            return
        record, pos = decoded
        where = f"{origin}:{line}"
        yield from guard_record(where, record_to_article, record, origin=where)


Decoded = Generator[IngestError, None, tuple[Any, int] | None]


def _decode_one(text: str, pos: int, origin: str) -> Decoded:
    """Decode the JSON value at ``pos``: ``(value, end)``, or None after yielding the error."""
    try:
        return json.JSONDecoder().raw_decode(text, pos)
    except json.JSONDecodeError as error:
        yield IngestError(f"{origin}:{error.lineno}", f"invalid JSON ({error.msg})")
    except RecursionError:
        yield IngestError(f"{origin}:{_deep_line(text, pos)}", TOO_DEEP)
    return None


def _check_trailing(text: str, pos: int, origin: str, after: str) -> Iterator[IngestError]:
    end = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    if end < len(text):
        yield _json_error(text, end, origin, f"extra data {after}")


def _json_error(text: str, pos: int, origin: str, reason: str) -> IngestError:
    return IngestError(f"{origin}:{_line_at(text, pos)}", f"invalid JSON ({reason})")


def _line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _deep_line(text: str, pos: int) -> int:
    """The line on which nesting first passes ``MAX_JSON_DEPTH`` (strings skipped)."""
    depth, line = 0, _line_at(text, pos)
    for token in _JSON_TOKENS.finditer(text, pos):
        char = token.group()
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return line
        elif char in "]}":
            depth -= 1
    return line


def load_csv(text: str, origin: str) -> Iterator[LoadResult]:
    """A header naming a ``body`` column, then one record per row (cells may span lines)."""
    # A long article is one cell: allow cells as long as the largest file ingest reads.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))
    reader = csv.DictReader(io.StringIO(text))
    try:
        fieldnames = reader.fieldnames
    except csv.Error as error:
        yield IngestError(f"{origin}:1", f"unreadable CSV header ({error})")
        return
    if not fieldnames or "body" not in fieldnames:
        yield IngestError(
            f"{origin}:1",
            f"CSV header must name a 'body' column (found: {', '.join(fieldnames or [])})",
        )
        return
    yield from _csv_rows(reader, origin)


def _csv_rows(reader: csv.DictReader[str], origin: str) -> Iterator[LoadResult]:
    ended = reader.line_num  # the line the previous row ended on
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # the rest of the file cannot be split into rows reliably
            yield IngestError(f"{origin}:{ended + 1}", f"unreadable CSV row ({error})")
            return
        where, ended = f"{origin}:{ended + 1}", reader.line_num
        if None in row:
            yield IngestError(where, "more cells than header columns")
            continue
        record = {k: v for k, v in row.items() if v not in (None, "")}
        yield from guard_record(where, record_to_article, record, origin=where)


def guard_record(
    where: str, make: Callable[..., Article], *args: Any, **kwargs: Any
) -> Iterator[LoadResult]:
    """``make(...)``, with a bad record turned into an ``IngestError`` naming ``where``."""
    try:
        yield make(*args, **kwargs)
    except IngestError as error:
        yield error
    except ValueError as error:
        yield IngestError(where, str(error))


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type (a number, not "int")."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
