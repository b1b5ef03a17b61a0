"""``news-assistant articles`` and ``delete``: list the indexed articles, remove some."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

MakeAssistant = Callable[[argparse.Namespace], Any]


def add_library_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("articles", parents=[common], help="list the indexed articles")
    p.add_argument("--json", action="store_true", help="print them as a JSON array")
    p.add_argument("--search", metavar="WORDS", help="only titles/outlets with these words")
    p = sub.add_parser("delete", parents=[common],
                       help="remove articles (passages, lexical entries, statements, feed state)")
    p.add_argument("ids", nargs="+", metavar="ARTICLE_ID")
    p.add_argument("--json", action="store_true", help="print {deleted, missing} as JSON")
    # the web chat's store lives in ui (ui.feedback runs it; assistant never imports ui)
    p = sub.add_parser("feedback", parents=[common], help="the web chat's feedback: export")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    e = actions.add_parser("export", parents=[common],
                           help="rated/annotated answers as JSON Lines")
    e.add_argument("--out", metavar="FILE", help="write here instead of standard output")


def run_articles(args: argparse.Namespace, make_assistant: MakeAssistant) -> int:
    rows = make_assistant(args).articles()
    if args.search:
        words = args.search.lower().split()
        rows = [r for r in rows
                if all(w in f"{r['title']} {r['source']} {r['id']}".lower() for w in words)]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        day = r["published_at"][:10] or "no date"
        print(f"{r['id']}  {day}  {r['source'] or '-'}  {r['passages']} passages  {r['title']}")
    print(f"{len(rows)} articles")
    return 0


def run_delete(args: argparse.Namespace, make_assistant: MakeAssistant) -> int:
    deleted = make_assistant(args).delete(args.ids)
    missing = [i for i in args.ids if i not in deleted]
    if args.json:
        print(json.dumps({"deleted": deleted, "missing": missing}))
    else:
        print(f"deleted {len(deleted)} article(s)" + (f"; not in the index: {' '.join(missing)}"
                                                      if missing else ""))
    return 0 if deleted or not missing else 1
