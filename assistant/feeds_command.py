"""``news-assistant watch`` and ``news-assistant feeds list|add|remove``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

DEFAULT_EVERY = "15m"


def add_feed_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``watch`` and ``feeds`` on the CLI's subparsers."""
    p = sub.add_parser(
        "watch", parents=[common], help="refresh feeds and pages on a schedule until stopped"
    )
    p.add_argument("sources", nargs="*", metavar="FEED_OR_URL",
                   help="sources to follow and refresh (default: the followed feeds)")
    p.add_argument("--every", default=DEFAULT_EVERY,
                   help=f"time between rounds, e.g. 30s, 15m, 1h (default {DEFAULT_EVERY})")
    p.add_argument("--once", action="store_true", help="run one round and exit")

    # --index / --chroma-url go after the action (a parent parser's value would be overwritten
    # by the action parser's default)
    p = sub.add_parser("feeds", help="the feeds this index follows: list, add, remove")
    actions = p.add_subparsers(dest="feeds_action", required=True, metavar="ACTION")
    q = actions.add_parser("list", parents=[common], help="show the followed feeds")
    q.add_argument("--json", action="store_true")
    q = actions.add_parser("add", parents=[common], help="follow feeds or pages")
    q.add_argument("urls", nargs="+", metavar="FEED_OR_URL")
    q = actions.add_parser("remove", parents=[common], help="stop following feeds")
    q.add_argument("urls", nargs="+", metavar="FEED_OR_URL")


def run_feeds(args: argparse.Namespace, make_assistant: Callable[[Any], Any]) -> int:
    feeds = make_assistant(args).feeds
    if args.feeds_action == "list":
        followed = feeds.list()
        if args.json:
            rows = [{k: v for k, v in f.to_dict().items() if k != "state"} for f in followed]
            print(json.dumps({"where": feeds.where, "feeds": rows}, indent=2, ensure_ascii=False))
            return 0
        if not followed:
            print(f"no feeds followed ({feeds.where}); add one with: news-assistant feeds add URL")
        for f in followed:
            seen = f"last refreshed {f.refreshed_at}" if f.refreshed_at else "not refreshed yet"
            label = " · ".join(x for x in (f.kind, f.title) if x)
            print(f"{f.url}" + (f"  ({label})" if label else "") + f"  {seen}")
        return 0
    changed = feeds.add if args.feeds_action == "add" else feeds.remove
    status = 0
    for url in args.urls:
        if changed(url):
            print(f"{'following' if args.feeds_action == 'add' else 'removed'}: {url}")
        elif args.feeds_action == "add":
            print(f"already following: {url}")
        else:
            print(f"not followed: {url}", file=sys.stderr)
            status = 1
    return status


def run_watch(args: argparse.Namespace, make_assistant: Callable[[Any], Any]) -> int:
    from ingest.schedule import parse_interval, run_every

    interval = parse_interval(args.every)
    bot = make_assistant(args)
    sources = list(args.sources) or None
    if sources is None and not bot.feeds.list():
        raise ValueError("no feeds followed: give FEED_OR_URL, or add some with `feeds add`")
    outcome = {"ok": True}

    def one_round(n: int) -> None:
        result = bot.refresh(sources)
        outcome["ok"] = result.ok
        log(f"round {n}: {result.summary()}")
        for source in result.sources:
            log(f"  {source.line()}")
            for warning in source.warnings:
                log(f"    warning: {warning}")
            if source.report is not None:
                log_articles(source.report, source.titles)

    if args.once:
        one_round(1)
        return 0 if outcome["ok"] else 1
    stop = threading.Event()
    _stop_on_sigterm(stop)
    log(f"watching {'the given sources' if sources else 'the followed feeds'} every {args.every}"
        " (Ctrl-C stops)")
    try:
        rounds = run_every(interval, one_round, stop=stop,
                           on_error=lambda n, exc: log(f"round {n} failed: {exc}"))
    except KeyboardInterrupt:
        log("stopped")
        return 0
    log(f"stopped after {rounds} rounds")
    return 0


def log_articles(report: Any, titles: dict[str, str]) -> None:
    """One line per article a round added or updated, and per entry that failed."""
    for kind, ids in (("added", report.added), ("updated", report.updated)):
        for article_id in ids:
            log(f"    {kind}: {titles.get(article_id) or article_id}")
    for error in report.failed:
        log(f"    failed: {error.where}: {error.reason}")


def log(message: str) -> None:
    print(f"{datetime.now().astimezone().isoformat(timespec='seconds')} {message}", flush=True)


def _stop_on_sigterm(stop: threading.Event) -> None:
    """SIGTERM ends the watch like Ctrl-C: at once while waiting, and a round cut short is
    redone by the next watch (its feed state was not saved)."""

    def handler(signum: int, frame: Any) -> None:
        stop.set()
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
