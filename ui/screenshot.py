"""Regenerate ``docs/screenshot.png``: the app on the demo corpus after the demo question.

    python -m ui.screenshot [docs/screenshot.png]

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and ``playwright`` from PyPI
(the ``test`` extra); Playwright drives the system browser and never downloads one.
"""

from __future__ import annotations

import socket
import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def take(out: Path, *, width: int = 1400, height: int = 860) -> Path:
    """Serve the demo corpus from a temporary index, ask the demo question, open citation [1]
    and save the window to ``out``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the hint is the point
        raise SystemExit("needs playwright: pip install 'news-assistant[test]'") from None
    from assistant import NewsAssistant
    from ui.app import DEMO_QUESTION, build_app, launch

    with tempfile.TemporaryDirectory() as tmp:
        bot = NewsAssistant(index=Path(tmp) / "index", llm="extractive")
        bot.ingest_demo()
        app = build_app(bot)
        url = launch(app, port=_free_port(), block=False, quiet=True)
        try:
            with sync_playwright() as pw:
                context = pw.chromium.launch_persistent_context(
                    str(Path(tmp) / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                    headless=True, viewport={"width": width, "height": height},
                )
                page = context.new_page()
                page.goto(url)
                page.locator("#na-status").get_by_text("articles").wait_for()
                page.locator("#na-question textarea").fill(DEMO_QUESTION)
                page.locator("#na-ask").click()
                marker = page.locator("#na-chat .na-cite a").first
                marker.wait_for()
                marker.click()
                page.locator("#na-sources mark:target").wait_for()
                page.evaluate("window.scrollTo(0, 0)")
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
                context.close()
        finally:
            app.close()
    return out


if __name__ == "__main__":
    print(take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png")))
