"""``news-assistant quotes SPEAKER [--about TOPIC] [--since D] [--json]``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any


def run_quotes(
    args: argparse.Namespace, make_assistant: Callable[[argparse.Namespace], Any]
) -> int:
    bot = make_assistant(args)
    filters = {"since": args.since} if args.since else None
    found = bot.statements(args.speaker, about=args.about, filters=filters, k=args.k)
    if args.json:
        payload = {
            "speaker": args.speaker,
            "about": args.about,
            "statements": [s.to_dict() for s in found],
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    topic = f" on {args.about}" if args.about else ""
    if not found:
        console.print(f"No statements by {escape(args.speaker)}{escape(topic)} in the index.")
        return 0
    for s in found:
        where = ", ".join(x for x in (s.source, s.published_at[:10]) if x)
        mark = "“" if s.kind == "direct" else ""
        console.print(f"[bold]{escape(s.speaker)}[/] {escape(s.cue)}: "
                      f"{mark}{escape(s.text)}{'”' if mark else ''}")
        console.print(f"   [dim]{escape(s.title)} ({escape(where)})[/]")
    return 0
