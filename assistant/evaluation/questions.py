"""Load a question set (JSON Lines or CSV, fields of DESIGN.md) and report bad rows by line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

KNOWN_FIELDS = ("id", "question", "answer", "evidence", "type", "date")


@dataclass(frozen=True)
class Question:
    """One evaluation question.

    ``answer`` is the reference answer (None: not given). ``evidence`` holds the supporting
    article ids: None when not given, ``()`` when the corpus cannot answer the question.
    """

    id: str
    question: str
    answer: str | None = None
    evidence: tuple[str, ...] | None = None
    type: str = ""
    date: str = ""
    line: int = field(default=0, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def answerable(self) -> bool | None:
        """True/False when known; without ``evidence`` a reference answer implies answerable."""
        if self.evidence is not None:
            return bool(self.evidence)
        return True if self.answer else None


@dataclass(frozen=True)
class RowError:
    """A skipped row: its (first) line number in the file and why it was rejected."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class QuestionSetError(Exception):
    """The file as a whole cannot be read as a question set (missing, wrong format, no header)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class _RowProblem(ValueError):
    """Internal: why one row is invalid."""


def load_questions(path: str | Path) -> tuple[list[Question], list[RowError]]:
    """Read a ``.jsonl`` or ``.csv`` question set; bad rows are skipped and returned as errors.

    Raises ``QuestionSetError`` only when the whole file is unusable.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: tolerate the BOM spreadsheets add
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(path, f"cannot read: {exc}") from exc
    rows = _csv_rows(path, text) if _is_csv(path, text) else _jsonl_rows(text)
    questions: list[Question] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        try:
            question = _to_question(row, line)
        except _RowProblem as exc:
            errors.append(RowError(line, str(exc)))
            continue
        if question.id in first_line:
            errors.append(
                RowError(
                    line, f"duplicate id {question.id!r} (first on line {first_line[question.id]})"
                )
            )
            continue
        first_line[question.id] = line
        questions.append(question)
    return questions, errors


def _is_csv(path: Path, text: str) -> bool:
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return False
    if suffix in {".csv", ".tsv"}:
        return True
    return not text.lstrip().startswith("{")  # unknown suffix: sniff the first character


def _jsonl_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | _RowProblem]]:
    # split("\n"), not splitlines(): U+2028 and friends are legal inside JSON strings.
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield line, _RowProblem(f"invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(row, dict):
            yield line, _RowProblem(f"expected a JSON object, got {type(row).__name__}")
            continue
        yield line, row


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any] | _RowProblem]]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    if "question" not in header:
        raise QuestionSetError(path, "CSV header has no 'question' column")
    reader.fieldnames = header
    previous_end = 1  # the header's line; a record may span lines (quoted newlines)
    for record in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if None in record:
            yield start, _RowProblem("more cells than header columns")
            continue
        yield start, _csv_cells(record)


def _csv_cells(record: dict[str, Any]) -> dict[str, Any] | _RowProblem:
    """CSV cells to the JSON shapes: an empty cell is "not given"; evidence becomes a list."""
    row: dict[str, Any] = {}
    for name, value in record.items():
        if value is None or not name:
            continue  # short row (missing trailing cells) or an unnamed column
        value = value.strip()
        if value == "":
            continue
        if name == "evidence":
            try:
                value = _parse_evidence_cell(value)
            except _RowProblem as exc:
                return exc
        row[name] = value
    return row


def _parse_evidence_cell(cell: str) -> list[Any]:
    """A JSON list (``[]`` = unanswerable) or ``;``-separated article ids."""
    if cell.startswith("["):
        try:
            value = json.loads(cell)
        except json.JSONDecodeError as exc:
            raise _RowProblem(f"evidence is not a valid JSON list: {exc.msg}") from exc
        if not isinstance(value, list):
            raise _RowProblem("evidence must be a list of article ids")
        return value
    return [part.strip() for part in cell.split(";") if part.strip()]


def _to_question(row: dict[str, Any] | _RowProblem, line: int) -> Question:
    if isinstance(row, _RowProblem):
        raise row
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise _RowProblem(
            "missing question" if question is None else "question must be a non-empty string"
        )
    answer = _optional_text(row, "answer", allow_number=True)
    return Question(
        id=_id(row, line),
        question=question.strip(),
        answer=answer or None,  # "" is how unanswerable sets say "no reference"
        evidence=_evidence(row.get("evidence")),
        type=_optional_text(row, "type") or "",
        date=_date(row),
        line=line,
        extra={k: v for k, v in row.items() if k not in KNOWN_FIELDS},
    )


def _id(row: dict[str, Any], line: int) -> str:
    value = row.get("id")
    if value is None or value == "":
        return f"line-{line}"
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _RowProblem("id must be a string or an integer")
    return str(value).strip()


def _optional_text(row: dict[str, Any], name: str, *, allow_number: bool = False) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    if allow_number and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # quiz answers such as 1989 are often written as JSON numbers
    if not isinstance(value, str):
        raise _RowProblem(f"{name} must be a string, got {type(value).__name__}")
    return value.strip()


def _evidence(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _RowProblem(f"evidence must be a list of article ids, got {type(value).__name__}")
    ids: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int) or str(item).strip() == "":
            raise _RowProblem(f"evidence ids must be non-empty strings, got {item!r}")
        ids.append(str(item).strip())
    return tuple(dict.fromkeys(ids))  # drop repeats, keep order


def _date(row: dict[str, Any]) -> str:
    value = _optional_text(row, "date")
    if not value:
        return ""
    try:
        datetime.fromisoformat(value)  # 3.11: dates, date-times, "Z" and offsets
    except ValueError:
        raise _RowProblem(f"date is not ISO 8601: {value!r}") from None
    return value
