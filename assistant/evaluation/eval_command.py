"""``news-assistant eval``: progress on stderr, the metrics table (or JSON) on stdout.

Exit status: 0 done; 1 done, but rows were skipped or ``--compare`` found regressions;
2 unusable input (no such file, no valid question, bad flags); 130 interrupted (the partial
report is written first).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from .metrics import QuestionScore, format_value
from .questions import QuestionSetError, load_questions
from .report import compare_reports, load_report, print_comparison, print_report
from .runner import (
    EvaluationResult,
    bad_rows_text,
    ensure_index,
    eval_index_dir,
    index_path,
    read_built_marker,
    run_evaluation,
)

MakeAssistant = Callable[[argparse.Namespace], Any]


def run_eval_command(args: argparse.Namespace, make_assistant: MakeAssistant) -> int:
    """Run ``eval`` for parsed ``args``; ``make_assistant(args)`` opens the assistant."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if args.k < 1:
        raise ValueError(f"--k must be at least 1, not {args.k}")
    if args.articles and (args.index or args.chroma_url):
        raise ValueError("give --articles or --index/--chroma-url, not both")
    old_report = load_report(args.compare) if args.compare else None  # fail before a long run
    try:
        questions, row_errors = load_questions(args.questions)
    except QuestionSetError as error:
        err.print(f"news-assistant eval: error: {escape(str(error))}")
        return 2
    for line in bad_rows_text(row_errors, args.questions):
        err.print(f"[yellow]skipped[/] {escape(line)}")
    if not questions:
        err.print(f"news-assistant eval: error: {args.questions}: no valid question")
        return 2
    bot, run_info = _open_assistant(args, make_assistant, err)
    out_dir = Path(args.out or Path("eval-reports") / datetime.now().strftime("%Y%m%d-%H%M%S"))
    run_info = {"questions": str(args.questions), **run_info}
    result = _run_with_progress(bot, questions, row_errors, args, out_dir, run_info, err)
    return _show(result, args, old_report, row_errors, err)


def _progress(err: Console, *, transient: bool = True) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=transient,
        disable=not err.is_terminal and not os.environ.get("FORCE_PROGRESS"),
    )


def _open_assistant(
    args: argparse.Namespace, make_assistant: MakeAssistant, err: Console
) -> tuple[Any, dict[str, Any]]:
    """The assistant over ``--index``, or over the cached index of ``--articles``."""
    if not args.articles:
        return make_assistant(args), {}
    from assistant.config import Settings

    articles = Path(args.articles)
    if not articles.is_file():
        raise ValueError(f"--articles {articles}: no such file")
    cache_dir = eval_index_dir(articles, embedder=Settings.from_env().embedder)
    # chroma_url "" (not None) also overrides NEWS_ASSISTANT_CHROMA_URL: the cache is local.
    local = {"index": str(index_path(cache_dir)), "chroma_url": ""}
    bot = make_assistant(argparse.Namespace(**{**vars(args), **local}))
    built = read_built_marker(cache_dir)
    info: dict[str, Any] = {"articles": str(articles), "index_cache": str(cache_dir)}
    if built is not None:
        err.print(f"Using the cached index of {escape(str(articles))} ({escape(str(cache_dir))})")
        info["ingest"] = "cached"
        return bot, info
    err.print(f"Building an index of {escape(str(articles))} in {escape(str(cache_dir))}")
    with _progress(err) as progress:
        task = progress.add_task("Indexing articles", total=None)
        report = ensure_index(
            bot, articles, cache_dir,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    err.print(f"Index: {report.summary()}")
    for failure in report.failed[:20]:
        err.print(f"  [yellow]failed:[/] {escape(failure.where)}: {escape(failure.reason)}")
    info["ingest"] = report.summary()
    return bot, info


def _run_with_progress(
    bot: Any, questions: list[Any], row_errors: list[Any], args: argparse.Namespace,
    out_dir: Path, run_info: dict[str, Any], err: Console,
) -> EvaluationResult:
    planned = len(questions if args.limit is None else questions[: max(args.limit, 0)])
    with _progress(err) as progress:
        task = progress.add_task("Evaluating", total=planned)

        def advance(done: int, total: int, score: QuestionScore) -> None:
            progress.update(task, completed=done, total=total)

        return run_evaluation(
            bot, questions, out_dir=out_dir, k=args.k, limit=args.limit,
            use_dates=not args.no_dates, on_progress=advance, run_info=run_info,
            row_errors=row_errors, judge=False if args.no_judge else None,
        )


def judged_table(metrics: dict[str, Any]) -> Table:
    """The LLM-judged scores, titled with the judging model."""
    scopes = [("overall", metrics["overall"]), *sorted(metrics["per_type"].items())]
    model = metrics["overall"]["judged"]["judged_by"]
    table = Table(title=f"LLM-judged (judged by {model}; an opinion, not a measurement)")
    table.add_column("metric")
    for name, _ in scopes:
        table.add_column(name, justify="right")
    for key, label in (("faithfulness", "Faithfulness"), ("answer_relevance", "Answer relevance"),
                       ("n", "answers judged")):
        cells = [(b.get("judged") or {}).get(key) for _, b in scopes]
        table.add_row(label, *(str(c) if key == "n" else format_value(c) for c in cells))
    return table


def _show(
    result: EvaluationResult, args: argparse.Namespace, old_report: dict[str, Any] | None,
    row_errors: list[Any], err: Console,
) -> int:
    out = Console(highlight=False, soft_wrap=True)
    if args.json:
        print(json.dumps(result.metrics, indent=2, ensure_ascii=False))
    else:
        print_report(result.metrics, out)
        if result.metrics["overall"].get("judged"):
            out.print(judged_table(result.metrics))
    note = err if args.json else out
    note.print(f"dates: {result.run_info.get('dates', '')}; k = {args.k}; "
               f"{len(result.scores)} question(s) in {result.run_info.get('seconds', 0):.1f} s")
    if result.n_errors:
        note.print(f"[red]{result.n_errors} question(s) failed with an error[/] "
                   "(see the failure column of questions.csv)")
    if result.files:
        note.print(f"report: {escape(str(result.files.html))} "
                   f"(+ {result.files.json.name}, {result.files.csv.name})")
    regressions = 0
    if old_report is not None:
        # Every overall metric side by side; per type only what moved past the threshold.
        rows = [r for r in compare_reports(old_report, result.metrics)
                if r.scope == "overall" or r.status]
        regressions = print_comparison(rows, note)
    if result.interrupted:
        err.print(f"[yellow]interrupted after {len(result.scores)} of {result.n_planned} "
                  "question(s); the report above is partial[/]")
        return 130
    return 1 if row_errors or regressions else 0
