"""Write a benchmark's results into its own section of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def _shared_data() -> Path:
    """../shared/data next to the checkout, or next to its parent (a worktree in wt/NAME);
    NEWS_ASSISTANT_SHARED_DATA overrides."""
    if os.environ.get("NEWS_ASSISTANT_SHARED_DATA"):
        return Path(os.environ["NEWS_ASSISTANT_SHARED_DATA"])
    root = Path(__file__).resolve().parent.parent
    candidates = [root.parent / "shared" / "data", root.parent.parent / "shared" / "data"]
    return next((c for c in candidates if c.exists()), candidates[0])


SHARED_DATA = _shared_data()


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def update_section(name: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the block between ``<!-- name:start -->`` and ``<!-- name:end -->``."""
    doc.parent.mkdir(exist_ok=True)
    intro = "# Benchmarks\n\nEvery number below comes from the command shown above it.\n"
    text = doc.read_text() if doc.exists() else intro
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (
        f"<!-- {name}:start -->\n{body.strip()}\n\n_Run {stamp} on {machine()}._\n"
        f"<!-- {name}:end -->"
    )
    pattern = re.compile(
        rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S
    )
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    doc.write_text(text)


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
