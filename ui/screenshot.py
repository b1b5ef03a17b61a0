"""Regenerate the README's screenshots: the app on the demo corpus after the demo question and
a follow-up, on a desktop (``docs/screenshot.png``), a phone (``docs/screenshot-phone.png``)
and in dark mode (``docs/screenshot-dark.png``).

    python -m ui.screenshot [docs]

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and ``playwright`` from PyPI
(the ``test`` extra); Playwright drives the system browser and never downloads one.
"""

from __future__ import annotations

import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SHOTS: dict[str, dict[str, Any]] = {
    "screenshot.png": {"viewport": {"width": 1366, "height": 900}},
    "screenshot-phone.png": {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                             "has_touch": True, "device_scale_factor": 2},
    "screenshot-dark.png": {"viewport": {"width": 1366, "height": 900}, "color_scheme": "dark"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _shoot(pw: Any, url: str, profile: Path, out: Path, options: dict[str, Any]) -> None:
    from ui.app import DEMO_QUESTION

    context = pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **options)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.locator("#na-status").get_by_text("articles").wait_for(state="attached")
    for question in (DEMO_QUESTION, "And what about energy?"):
        done = page.locator("#na-chat a.na-copy").count()
        page.locator("#na-question textarea").fill(question)
        page.locator("#na-ask").click()
        page.wait_for_function(
            "n => document.querySelectorAll('#na-chat a.na-copy').length > n", arg=done)
    marker = page.locator("#na-chat .na-cite a").last
    if options.get("is_mobile"):
        marker.tap()  # touch: a tap shows the card
    else:
        marker.hover()
    page.locator("#na-card-pop").wait_for()
    if not options.get("is_mobile"):
        page.locator("#na-since input, #na-since textarea").first.fill("2024-05-01")
        page.locator("#na-chips").get_by_text("Since 2024-05-01 ×").wait_for()
        marker.hover()
    page.wait_for_timeout(400)
    page.screenshot(path=str(out))
    context.close()


def take(out_dir: Path) -> list[Path]:
    """Serve the demo corpus from a temporary index and save each screenshot in ``out_dir``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the hint is the point
        raise SystemExit("needs playwright: pip install 'news-assistant[test]'") from None
    from assistant import NewsAssistant
    from ui.app import build_app, launch

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        bot = NewsAssistant(index=Path(tmp) / "index", llm="extractive")
        bot.ingest_demo()
        app = build_app(bot)
        url = launch(app, port=_free_port(), block=False, quiet=True)
        try:
            with sync_playwright() as pw:
                for i, (name, options) in enumerate(SHOTS.items()):
                    _shoot(pw, url, Path(tmp) / f"profile-{i}", out_dir / name, options)
                    written.append(out_dir / name)
        finally:
            app.close()
    return written


if __name__ == "__main__":
    for path in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")):
        print(path)
