"""Evaluation reports: report.json, questions.csv, report.html, terminal tables, comparison."""

from __future__ import annotations

import csv
import io
import json
import os
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .html_report import render_html
from .metrics import (
    HITS_KS,
    METRICS,
    MetricSpec,
    QuestionScore,
    aggregate,
    format_value,
    metric_scopes,
)
from .questions import RowError

REPORT_FORMAT = "news-assistant-eval/1"
CSV_COLUMNS = (
    "id",
    "type",
    "question",
    "reference",
    "answer",
    "abstained",
    "evidence",
    "retrieved_ids",
    *(f"hits@{k}" for k in HITS_KS),
    "rr@10",
    "em",
    "f1",
    "contains_reference",
    "citation_validity",
    "citation_precision",
    "n_citations",
    "failure",
    "retrieval_ms",
    "total_ms",
)


@dataclass(frozen=True)
class ReportFiles:
    """Paths of the three files ``write_report`` wrote."""

    json: Path
    csv: Path
    html: Path


def build_report(
    metrics: dict[str, Any],
    run_info: dict[str, Any] | None = None,
    row_errors: Sequence[RowError] = (),
) -> dict[str, Any]:
    """The report.json object: format tag, run info, the metrics object and skipped rows."""
    run = {
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        **(run_info or {}),
    }
    return {
        "format": REPORT_FORMAT,
        "run": run,
        "metrics": metrics,
        "skipped_rows": [{"line": e.line, "reason": e.reason} for e in row_errors],
    }


def write_report(
    out_dir: str | Path,
    scores: Sequence[QuestionScore],
    *,
    metrics: dict[str, Any] | None = None,
    run_info: dict[str, Any] | None = None,
    row_errors: Sequence[RowError] = (),
) -> ReportFiles:
    """Write report.json, questions.csv and report.html into ``out_dir`` (created if needed).

    ``run_info`` is free-form (question file, index, mode, ``partial=True`` after Ctrl-C...).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = aggregate(scores) if metrics is None else metrics
    report = build_report(metrics, run_info, row_errors)
    files = ReportFiles(out / "report.json", out / "questions.csv", out / "report.html")
    _write_atomic(files.json, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    _write_atomic(files.csv, questions_csv(scores))
    _write_atomic(files.html, render_html(scores, report))
    return files


def _write_atomic(path: Path, text: str) -> None:
    # A Ctrl-C while writing must not leave a truncated report behind the old one.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)


def questions_csv(scores: Iterable[QuestionScore]) -> str:
    """questions.csv text: one row per question (columns ``CSV_COLUMNS``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for score in scores:
        writer.writerow(_csv_row(score))
    return buffer.getvalue()


def _csv_row(score: QuestionScore) -> list[str]:
    q, a = score.question, score.answer
    hits = [_num(score.hits.get(k) if score.hits else None) for k in HITS_KS]
    return [
        q.id,
        q.type,
        q.question,
        q.answer or "",
        "" if a is None else a.text,
        "" if score.abstained is None else str(score.abstained).lower(),
        _evidence_cell(q.evidence),
        ";".join(score.retrieved),
        *hits,
        _num(score.rr),
        _num(score.em),
        _num(score.f1),
        _num(score.contains),
        _num(score.citation_validity),
        _num(score.citation_precision),
        "" if a is None else str(len(a.citations)),
        score.failure,
        _num(score.retrieval_ms, 2),
        _num(score.total_ms, 2),
    ]


def _evidence_cell(evidence: tuple[str, ...] | None) -> str:
    """The question-set CSV convention: empty = not given, ``[]`` = unanswerable."""
    if evidence is None:
        return ""
    return ";".join(evidence) if evidence else "[]"


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{round(value, digits):g}"


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a report.json; raises ``ValueError`` when the file is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read report: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(_metrics_of(data).get("overall"), dict):
        raise ValueError(f"{path}: not an evaluation report (no metrics.overall)")
    return data


def _metrics_of(report_or_metrics: dict[str, Any]) -> dict[str, Any]:
    """Accept either a whole report.json object or just its metrics object."""
    metrics = report_or_metrics.get("metrics", report_or_metrics)
    return metrics if isinstance(metrics, dict) else {}


# --- terminal --------------------------------------------------------------------------------


def metrics_table(metrics: dict[str, Any], title: str = "Evaluation") -> Table:
    """A rich table: one row per metric, one column overall and one per question type."""
    scopes = metric_scopes(metrics)
    table = Table(title=title)
    table.add_column("metric")
    for name, _ in scopes:
        table.add_column(name, justify="right")
    table.add_row("questions", *(str(block.get("n_questions", 0)) for _, block in scopes))
    if any(block.get("n_errors") for _, block in scopes):
        table.add_row("errors", *(str(block.get("n_errors", 0)) for _, block in scopes))
    for spec in METRICS:
        table.add_row(spec.label, *(format_value(spec.value(b), spec.unit) for _, b in scopes))
    table.add_row(
        "[dim]n retrieval / answer[/dim]",
        *(f"[dim]{_n(b, 'retrieval')} / {_n(b, 'answer')}[/dim]" for _, b in scopes),
    )
    return table


def _n(block: dict[str, Any], name: str) -> int:
    return int((block.get(name) or {}).get("n", 0))


def print_report(metrics: dict[str, Any], console: Console | None = None) -> None:
    """Print the metrics object as a rich table."""
    (console or Console()).print(metrics_table(metrics))


# --- comparison ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonRow:
    """One metric of one scope in two reports. ``status``: regression, improvement or ""."""

    scope: str
    metric: str
    path: str
    unit: str
    old: float | None
    new: float | None
    status: str = ""

    @property
    def delta(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old


def compare_reports(
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    threshold: float = 0.01,
    latency_threshold: float = 0.10,
    latency_min_ms: float = 1.0,
) -> list[ComparisonRow]:
    """Compare two reports (or metrics objects) metric by metric, overall and per type.

    A rate regresses when it moves the wrong way by more than ``threshold`` (absolute); a
    latency when it grows by more than ``latency_threshold`` (relative) and ``latency_min_ms``.
    """
    old_scopes, new_scopes = dict(metric_scopes(old)), dict(metric_scopes(new))
    names = ["overall", *sorted((set(old_scopes) | set(new_scopes)) - {"overall"})]
    rows = []
    for scope in names:
        old_block, new_block = old_scopes.get(scope, {}), new_scopes.get(scope, {})
        for spec in METRICS:
            before, after = spec.value(old_block), spec.value(new_block)
            status = _status(spec, before, after, threshold, latency_threshold, latency_min_ms)
            rows.append(
                ComparisonRow(scope, spec.label, spec.path, spec.unit, before, after, status)
            )
    return rows


def _status(
    spec: MetricSpec,
    old: float | None,
    new: float | None,
    threshold: float,
    latency_threshold: float,
    latency_min_ms: float,
) -> str:
    if old is None or new is None:
        return ""
    change = new - old if spec.higher_is_better else old - new  # > 0 means better
    limit = max(latency_threshold * old, latency_min_ms) if spec.unit == "ms" else threshold
    significant = abs(change) > limit + 1e-9  # float noise: 0.61 - 0.60 is not above 0.01
    if not significant:
        return ""
    return "improvement" if change > 0 else "regression"


def comparison_table(rows: Sequence[ComparisonRow], *, changed_only: bool = False) -> Table:
    """Old and new side by side, regressions in red and improvements in green."""
    table = Table(title="Comparison (old → new)")
    table.add_column("scope")
    table.add_column("metric")
    for name in ("old", "new", "Δ"):
        table.add_column(name, justify="right")
    table.add_column("")
    for row in rows:
        if changed_only and not row.status:
            continue
        style = {"regression": "bold red", "improvement": "green"}.get(row.status, "")
        delta = "–" if row.delta is None else _signed(row.delta, row.unit)
        table.add_row(
            row.scope,
            row.metric,
            format_value(row.old, row.unit),
            format_value(row.new, row.unit),
            delta,
            row.status.upper() if row.status == "regression" else row.status,
            style=style,
        )
    return table


def _signed(delta: float, unit: str) -> str:
    return f"{delta:+,.1f} ms" if unit == "ms" else f"{delta:+.3f}"


def print_comparison(
    rows: Sequence[ComparisonRow], console: Console | None = None, *, changed_only: bool = False
) -> int:
    """Print the comparison table and a summary line; returns the number of regressions."""
    console = console or Console()
    console.print(comparison_table(rows, changed_only=changed_only))
    regressions = [r for r in rows if r.status == "regression"]
    if regressions:
        console.print(f"[bold red]{len(regressions)} regression(s)[/bold red]")
    else:
        console.print("[green]no regressions[/green]")
    return len(regressions)
