"""Run a question set through an assistant, score every answer and write the report.

The glue between ``NewsAssistant`` and the scoring code: ask each question (as of its date when
the assistant supports it), rank articles for the retrieval metrics, keep going when one
question fails, and leave a partial report when the run is interrupted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import inspect
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .metrics import QuestionScore, aggregate, score_question
from .questions import Question, RowError, load_questions
from .report import ReportFiles, write_report

if TYPE_CHECKING:
    from assistant.results import Passage

ProgressCallback = Callable[[int, int, QuestionScore], None]
"""(questions done, questions to run, the score just recorded); may raise KeyboardInterrupt."""

CACHE_ENV = "NEWS_ASSISTANT_CACHE"
BUILT_MARKER = "built.json"


@dataclass
class EvaluationResult:
    """What a run produced. ``interrupted``: stopped by Ctrl-C, the scores are a prefix."""

    scores: list[QuestionScore]
    metrics: dict[str, Any]
    row_errors: list[RowError] = field(default_factory=list)
    run_info: dict[str, Any] = field(default_factory=dict)
    files: ReportFiles | None = None
    n_planned: int = 0
    interrupted: bool = False

    @property
    def n_errors(self) -> int:
        """Questions whose run raised (recorded with ``error``, not scored)."""
        return sum(bool(s.error) for s in self.scores)


def run_evaluation(
    bot: Any,
    questions_path: str | Path | Sequence[Question],
    *,
    out_dir: str | Path | None = None,
    k: int = 10,
    limit: int | None = None,
    use_dates: bool = True,
    on_progress: ProgressCallback | None = None,
    run_info: dict[str, Any] | None = None,
    row_errors: Sequence[RowError] = (),
    warm_up: bool = True,
    judge: bool | None = None,
) -> EvaluationResult:
    """Ask every question of ``questions_path`` (a .jsonl/.csv file or ``Question`` objects).

    ``k`` passages are ranked per question for the retrieval metrics: the answer's own
    passages, topped up from ``bot.search`` when there are fewer. With ``use_dates`` a
    question's ``date`` is passed to ``bot.ask(as_of=...)`` when ``ask`` accepts ``as_of``.
    A question that raises is recorded with its error and the run goes on. Ctrl-C
    (``KeyboardInterrupt``, also from ``on_progress``) stops the run; the report of the
    questions done so far is still written and returned with ``interrupted=True``.
    Bad rows of the file are skipped and listed in the result's ``row_errors`` (pass
    ``row_errors`` yourself with ``Question`` objects); an unusable file raises
    ``QuestionSetError``. With ``out_dir`` the three report files are written there;
    ``run_info`` adds entries to the report's run section. ``warm_up`` asks the first
    question once, unscored, so that loading the models does not count as latency.
    ``judge`` (default: when the assistant answers with an LLM) adds LLM-judged faithfulness
    and answer relevance, graded by the assistant's own model, under ``judged`` in each
    metric block; in extractive mode it is never computed.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if isinstance(questions_path, str | Path):
        questions, row_errors = load_questions(questions_path)
        source = str(questions_path)
    else:
        questions, source = list(questions_path), "(in memory)"
    if limit is not None:
        questions = questions[: max(limit, 0)]
    dated = use_dates and accepts(bot.ask, "as_of")
    info = {
        "questions": source,
        "n_questions": len(questions),
        "n_skipped_rows": len(row_errors),
        "k": k,
        **({"limit": limit} if limit is not None else {}),
        **describe_bot(bot),
        "dates": _dates_label(use_dates, dated),
        **(run_info or {}),
    }
    scores: list[QuestionScore] = []
    started = time.perf_counter()
    interrupted = False
    get_body = body_getter(bot)
    judgements: dict[str, Any] = {}
    grader = None
    try:
        if warm_up and questions:
            _warm_up(bot, questions[0].question)
        grader = _make_judge(bot, judge, info)
        for question in questions:
            scores.append(_ask_and_score(bot, question, k=k, dated=dated, get_body=get_body))
            answer = scores[-1].answer
            if grader is not None and answer is not None and not answer.abstained:
                judgements[question.id] = grader.judge(question.question, answer)
            if on_progress:
                on_progress(len(scores), len(questions), scores[-1])
    except KeyboardInterrupt:
        interrupted = True  # report what was done: a partial report beats none
    info["seconds"] = round(time.perf_counter() - started, 2)
    if interrupted:
        info["partial"] = True
        info["n_answered"] = len(scores)
    metrics = aggregate(scores)
    if grader is not None:
        _add_judged(metrics, scores, judgements, grader.model)
    files = None
    if out_dir is not None:
        files = write_report(out_dir, scores, metrics=metrics, run_info=info,
                             row_errors=row_errors)
    return EvaluationResult(scores, metrics, list(row_errors), info, files,
                            n_planned=len(questions), interrupted=interrupted)


def _ask_and_score(
    bot: Any, question: Question, *, k: int, dated: bool, get_body: Callable[[str], str | None]
) -> QuestionScore:
    as_of = (question.date or None) if dated else None
    try:
        answer = bot.ask(question.question, **({"as_of": as_of} if as_of else {}))
        ranked = rank_passages(bot, question.question, answer.passages, k=k, as_of=as_of)
    except Exception as error:  # one failing question must not end the run
        return score_question(question, None, get_body, error=f"{type(error).__name__}: {error}")
    # Score the ranking, keep the answer: the report shows the passages that were ranked.
    return score_question(question, dataclasses.replace(answer, passages=ranked), get_body)


def _make_judge(bot: Any, wanted: bool | None, info: dict[str, Any]) -> Any:
    """The LLM judge, or None: only for LLM answer modes, and never when ``wanted`` is False."""
    if wanted is False or not getattr(getattr(bot, "answerer", None), "generative", False):
        return None
    from .judge import LLMJudge

    try:
        grader = LLMJudge.for_assistant(bot)
    except Exception as error:  # no judge is better than no evaluation
        info["judge_error"] = f"{type(error).__name__}: {error}"
        return None
    if grader is None:
        return None
    info["judged_by"] = grader.model
    return grader


def _add_judged(
    metrics: dict[str, Any], scores: list[QuestionScore], judgements: dict[str, Any], model: str
) -> None:
    from .judge import judged_metrics

    judged = judged_metrics(scores, judgements, model)
    metrics["overall"]["judged"] = judged["overall"]
    for name, block in metrics["per_type"].items():
        block["judged"] = judged["per_type"].get(name)


def _warm_up(bot: Any, question: str) -> None:
    with contextlib.suppress(Exception):  # the scored run records the error, if it persists
        bot.ask(question)


def rank_passages(
    bot: Any, query: str, passages: Sequence[Passage], *, k: int, as_of: str | None = None
) -> list[Passage]:
    """The first ``k`` passages for the retrieval metrics.

    The answer's passages come first (they are what the answer used); when there are fewer
    than ``k`` the rest come from ``bot.search(query, k=k)`` (as of the same date when search
    supports it). Retrieval latency stays the answer's own.
    """
    ranked = list(passages[:k])
    if len(ranked) >= k or not hasattr(bot, "search"):
        return ranked
    extra = {"as_of": as_of} if as_of and accepts(bot.search, "as_of") else {}
    seen = {p.chunk_id for p in ranked}
    for passage in bot.search(query, k=k, **extra):
        if len(ranked) >= k:
            break
        if passage.chunk_id not in seen:
            ranked.append(passage)
            seen.add(passage.chunk_id)
    return ranked


def accepts(function: Callable[..., Any], name: str) -> bool:
    """True when ``function`` takes a parameter called ``name`` (explicitly, not **kwargs)."""
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def body_getter(bot: Any) -> Callable[[str], str | None]:
    """Article id -> body from the bot's index, cached (citations often repeat an article)."""
    bodies: dict[str, str | None] = {}

    def get_body(article_id: str) -> str | None:
        if article_id not in bodies:
            try:
                article = bot.get_article(article_id)
            except Exception:  # an unreadable article only invalidates its quotes
                article = None
            bodies[article_id] = None if article is None else article.body
        return bodies[article_id]

    return get_body


def describe_bot(bot: Any) -> dict[str, Any]:
    """Run facts for the report: answer mode, index, embedder. Never secrets."""
    info: dict[str, Any] = {}
    settings = getattr(bot, "settings", None)
    if settings is not None:
        info["answer_mode"] = getattr(bot, "answer_mode", getattr(settings, "llm", ""))
        info["index"] = settings.chroma_url or settings.index
        info["embedder"] = settings.embedder
    return info


def _dates_label(use_dates: bool, dated: bool) -> str:
    if not use_dates:
        return "off (--no-dates)"
    return "as_of = question date" if dated else "unused (ask() has no as_of)"


# --- an index built from an articles file, cached by content hash ----------------------------


def cache_root() -> Path:
    """``$NEWS_ASSISTANT_CACHE`` or ``~/.cache/news-assistant``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "news-assistant")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def eval_index_dir(articles: str | Path, *, embedder: str, root: str | Path | None = None) -> Path:
    """``<cache>/eval-index/<sha256[:16]>-<embedder>``: the same file gives the same index."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", embedder)[:40]
    base = Path(root) if root is not None else cache_root()
    return base / "eval-index" / f"{file_sha256(articles)[:16]}-{slug}"


def index_path(cache_dir: Path) -> Path:
    """Where the Chroma index of a cache entry lives."""
    return cache_dir / "index"


def read_built_marker(cache_dir: Path) -> dict[str, Any] | None:
    """The record of a finished build, or None (never built, or interrupted half-way)."""
    try:
        return json.loads((cache_dir / BUILT_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def ensure_index(
    bot: Any, articles: str | Path, cache_dir: Path, *,
    on_progress: Callable[[int, int], None] | None = None,
) -> Any:
    """Ingest ``articles`` into ``bot`` (whose index is ``index_path(cache_dir)``) unless a
    finished build is recorded; returns the ``IngestReport``, or None when the cache was used.

    Ingest is idempotent, so a build interrupted half-way resumes where it stopped.
    """
    if read_built_marker(cache_dir) is not None:
        return None
    report = bot.ingest([articles], on_progress=on_progress)
    # Written only once the ingest finished: rows that failed will fail the same way again.
    marker = {
        "articles": str(Path(articles).resolve()),
        "sha256": file_sha256(articles),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "ingest": report.to_dict(),
    }
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / BUILT_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return report


def bad_rows_text(errors: Sequence[RowError], path: str | Path, *, limit: int = 20) -> list[str]:
    """One line per skipped row (``FILE:LINE: reason``), at most ``limit`` then a count."""
    lines = [f"{path}:{e.line}: {e.reason}" for e in errors[:limit]]
    if len(errors) > limit:
        lines.append(f"... and {len(errors) - limit} more skipped row(s)")
    return lines
