"""report.html: one self-contained page (inline CSS and SVG, no script, fonts or links)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from .metrics import METRICS, MetricSpec, QuestionScore, percentile
from .metrics import format_value as _fmt
from .metrics import metric_scopes as _scopes

PALETTE = ("#334155", "#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#be185d")
WORST_N = 10
PASSAGES_SHOWN = 10
PASSAGE_CHARS = 600

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#0f172a;line-height:1.45}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #cbd5e1}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .6rem;
border-bottom:1px solid #e2e8f0;text-align:left;vertical-align:top}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
.banner{background:#fef3c7;border:1px solid #d97706;padding:.6rem 1rem;margin:1rem 0}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart{border:1px solid #e2e8f0;padding:.4rem}
.chart h3{font-size:.95rem;margin:.2rem 0}.question{border:1px solid #e2e8f0;
padding:.4rem 1rem;margin:1rem 0}.failure{color:#b91c1c;font-weight:600}
.hit{background:#dcfce7}.passage{margin:.3rem 0}.meta{color:#475569;font-size:.9rem}
svg text{font-family:inherit;font-size:12px;fill:#0f172a}
"""


def render_html(scores: Sequence[QuestionScore], report: dict[str, Any]) -> str:
    """The whole report page for ``report`` (the report.json object) and its question scores."""
    run = report.get("run") or {}
    metrics = report.get("metrics") or {}
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Evaluation report</title><style>{CSS}</style></head><body>",
        "<h1>Evaluation report</h1>",
    ]
    if run.get("partial"):
        parts.append(
            '<p class="banner">Partial report: the run was interrupted before every '
            "question was answered.</p>"
        )
    parts += [
        _run_section(run),
        _metrics_section(metrics),
        _judged_section(metrics),
        _charts_section(metrics),
        _latency_section(scores),
        _worst_section(scores),
        _skipped_section(report.get("skipped_rows") or []),
        "</body></html>\n",
    ]
    return "\n".join(parts)


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _run_section(run: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in run.items())
    return f"<h2>Run</h2><table>{rows}</table>"


def _metrics_section(metrics: dict[str, Any]) -> str:
    scopes = _scopes(metrics)
    head = "".join(f'<th class="num">{_e(name)}</th>' for name, _ in scopes)
    counts = "".join(f'<td class="num">{b.get("n_questions", 0)}</td>' for _, b in scopes)
    rows = [f"<tr><th>metric</th>{head}</tr>", f"<tr><td>questions</td>{counts}</tr>"]
    for spec in METRICS:
        cells = "".join(f'<td class="num">{_fmt(spec.value(b), spec.unit)}</td>' for _, b in scopes)
        rows.append(f"<tr><td>{_e(spec.label)}</td>{cells}</tr>")
    return "<h2>Metrics</h2><table>" + "".join(rows) + "</table>"


# --- charts ----------------------------------------------------------------------------------


def _charts_section(metrics: dict[str, Any]) -> str:
    scopes = _scopes(metrics)
    charts = [_bar_chart(spec, scopes) for spec in METRICS if spec.unit != "ms"]
    return '<h2>Metrics per type</h2><div class="charts">' + "".join(charts) + "</div>"


def _bar_chart(spec: MetricSpec, scopes: list[tuple[str, dict[str, Any]]]) -> str:
    """Horizontal bars, one per scope, on a fixed 0..1 axis."""
    label_w, bar_w, row_h, top = 110, 150, 20, 6
    width, height = label_w + bar_w + 50, top + row_h * len(scopes) + 6
    items = [f'<line x1="{label_w}" y1="0" x2="{label_w}" y2="{height}" stroke="#94a3b8"/>']
    for i, (name, block) in enumerate(scopes):
        value, y = spec.value(block), top + i * row_h
        short = name if len(name) <= 16 else name[:15] + "…"
        items.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">'
            f"<title>{_e(name)}</title>{_e(short)}</text>"
        )
        length = 0.0 if value is None else max(0.0, min(1.0, value)) * bar_w
        color = PALETTE[i % len(PALETTE)]
        items.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{length:.1f}" height="{row_h - 6}" '
            f'fill="{color}"><title>{_e(name)}: {_fmt(value)}</title></rect>'
        )
        items.append(f'<text x="{label_w + length + 4:.1f}" y="{y + 13}">{_fmt(value)}</text>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(spec.label)} per type">{"".join(items)}</svg>'
    )
    return f'<div class="chart"><h3>{_e(spec.label)}</h3>{svg}</div>'


def _latency_section(scores: Sequence[QuestionScore]) -> str:
    charts = []
    for name in ("retrieval", "total"):
        values = [v for v in (getattr(s, f"{name}_ms") for s in scores) if v is not None]
        body = _histogram(values, name) if values else "<p>No timings recorded.</p>"
        charts.append(f'<div class="chart"><h3>{_e(name.title())} latency (ms)</h3>{body}</div>')
    return '<h2>Latency distribution</h2><div class="charts">' + "".join(charts) + "</div>"


def _histogram(values: list[float], name: str) -> str:
    """Counts per equal-width bin from 0 to the maximum, with p50 and p95 marked."""
    bins = max(1, min(20, math.ceil(math.sqrt(len(values)))))
    top_value = max(values) or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int(value / top_value * bins))] += 1
    left, plot_w, plot_h, top = 36, 440, 150, 34  # the band above the plot holds p50/p95 labels
    peak = max(counts)
    items = [
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end">{peak}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#94a3b8"/>',
    ]
    bar_w = plot_w / bins
    for i, count in enumerate(counts):
        h = count / peak * plot_h
        lo, hi = top_value * i / bins, top_value * (i + 1) / bins
        items.append(
            f'<rect x="{left + i * bar_w + 1:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{bar_w - 2:.1f}" height="{h:.1f}" fill="{PALETTE[1]}">'
            f"<title>{lo:,.1f}–{hi:,.1f} ms: {count}</title></rect>"
        )
    for q, color in ((50, PALETTE[2]), (95, PALETTE[4])):
        p = percentile(values, q) or 0.0
        x = left + p / top_value * plot_w
        anchor = "end" if x > left + plot_w * 0.6 else "start"
        label_x = x - 3 if anchor == "end" else x + 3
        label_y = 12 if q == 50 else 26
        items.append(
            f'<line x1="{x:.1f}" y1="{label_y + 3}" x2="{x:.1f}" y2="{top + plot_h}" '
            f'stroke="{color}" stroke-dasharray="4 3"/>'
            f'<text x="{label_x:.1f}" y="{label_y}" text-anchor="{anchor}" '
            f'style="fill:{color}">p{q} {p:,.1f}</text>'
        )
    axis_y = top + plot_h + 16
    items.append(
        f'<text x="{left}" y="{axis_y}">0</text>'
        f'<text x="{left + plot_w}" y="{axis_y}" text-anchor="end">{top_value:,.1f} ms</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + plot_w + 10}" '
        f'height="{axis_y + 6}" role="img" aria-label="{_e(name)} latency histogram">'
        + "".join(items)
        + "</svg>"
    )


# --- worst questions -------------------------------------------------------------------------


def worst_questions(scores: Sequence[QuestionScore], n: int = WORST_N) -> list[QuestionScore]:
    """The ``n`` failed questions that failed worst: errors, most failures, lowest RR and F1."""

    def badness(s: QuestionScore) -> tuple[float, ...]:
        return (
            -bool(s.error),
            -len(s.failures),
            _or(s.rr, 1.0),
            _or(s.f1, 1.0),
            _or(s.contains, 1.0),
        )

    return sorted((s for s in scores if s.failures), key=badness)[:n]


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _worst_section(scores: Sequence[QuestionScore]) -> str:
    worst = worst_questions(scores)
    if not worst:
        return "<h2>Worst questions</h2><p>No question failed.</p>"
    return f"<h2>Worst questions ({len(worst)})</h2>" + "".join(_question_card(s) for s in worst)


def _question_card(score: QuestionScore) -> str:
    q, a = score.question, score.answer
    evidence = set(q.evidence or ())
    answer = "–" if a is None else (a.text + ("  (abstained)" if a.abstained else ""))
    rows = [
        ("question", q.question),
        ("reference", q.answer or "–"),
        ("answer", answer),
        (
            "evidence",
            ", ".join(q.evidence)
            if q.evidence
            else ("none (unanswerable)" if q.evidence == () else "not given"),
        ),
    ]
    table = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    scores_line = (
        f"RR {_fmt(score.rr)} · F1 {_fmt(score.f1)} · contains {_fmt(score.contains)} · "
        f"citation validity {_fmt(score.citation_validity)} · "
        f"total {_fmt(score.total_ms, 'ms')}"
    )
    passages = "" if a is None else _passages(a.passages[:PASSAGES_SHOWN], evidence)
    return (
        f'<div class="question"><h3>{_e(q.id)} <span class="meta">{_e(q.type)}</span></h3>'
        f'<p class="failure">{_e(score.failure)}</p><table>{table}</table>'
        f'<p class="meta">{_e(scores_line)}</p>{passages}</div>'
    )


def _passages(passages: Sequence[Any], evidence: set[str]) -> str:
    if not passages:
        return "<p>No passages retrieved.</p>"
    items = []
    for p in passages:
        text = p.text if len(p.text) <= PASSAGE_CHARS else p.text[:PASSAGE_CHARS] + "…"
        hit = p.article_id in evidence
        mark = " ✓ evidence" if hit else ""
        items.append(
            f'<li class="passage{" hit" if hit else ""}"><span class="meta">'
            f"{_e(p.article_id)}{mark} · score {p.score:.3f} · {_e(p.title)}</span><br>"
            f"{_e(text)}</li>"
        )
    return "<p>Retrieved passages:</p><ol>" + "".join(items) + "</ol>"


def _skipped_section(skipped: list[dict[str, Any]]) -> str:
    if not skipped:
        return ""
    rows = "".join(
        f'<tr><td class="num">{_e(r.get("line"))}</td><td>{_e(r.get("reason"))}</td></tr>'
        for r in skipped
    )
    head = "<tr><th>line</th><th>reason</th></tr>"
    return f"<h2>Skipped rows ({len(skipped)})</h2><table>{head}{rows}</table>"


def _judged_section(metrics: dict[str, Any]) -> str:
    """LLM-judged scores, only when a model judged them, labelled with that model."""
    judged = (metrics.get("overall") or {}).get("judged")
    if not judged:
        return ""
    scopes = _scopes(metrics)
    head = "".join(f'<th class="num">{_e(n)}</th>' for n, _ in scopes)
    rows = []
    for key, label in (("faithfulness", "Faithfulness"), ("answer_relevance", "Answer relevance")):
        cells = "".join(
            f'<td class="num">{_fmt((b.get("judged") or {}).get(key))}</td>' for _, b in scopes
        )
        rows.append(f"<tr><td>{label}</td>{cells}</tr>")
    return (
        f"<h2>LLM-judged (judged by {_e(judged['judged_by'])})</h2>"
        '<p class="meta">An opinion of that model, not a measurement.</p>'
        f"<table><tr><th>metric</th>{head}</tr>{''.join(rows)}</table>"
    )
