"""``news-assistant feedback export``: the thumbs and notes readers left in the web chat, as
JSON Lines (one rated or annotated answer per line), from the index's conversation store."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ui.conversations import ConversationStore, store_path


def export_feedback(index: str | None, chroma_url: str | None, out: str | None) -> int:
    path = store_path(index, chroma_url)
    rows = ConversationStore(path).feedback() if path.exists() else []
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if out:
        Path(out).write_text(lines, encoding="utf-8")
        print(f"{len(rows)} rated answers written to {out}", file=sys.stderr)
    else:
        sys.stdout.write(lines)
    return 0


def run_feedback(args: argparse.Namespace) -> int:
    import os

    index = args.index or os.environ.get("NEWS_ASSISTANT_INDEX") or "news-index"
    chroma = args.chroma_url or os.environ.get("NEWS_ASSISTANT_CHROMA_URL") or None
    return export_feedback(index, chroma, args.out)
