"""docs/eval-report.png: the demo question set's report.html, rendered in headless Chromium.

    python benchmarks/eval_screenshot.py [--height 2900]

Evaluates ingest/demo/questions.jsonl over the demo articles (a temporary index cache), then
opens report.html offline in Debian's /usr/bin/chromium through playwright (never
``playwright install``) and saves the top of the page.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "ingest" / "demo"
PNG = ROOT / "docs" / "eval-report.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--height", type=int, default=2900, help="pixels of the page to keep")
    parser.add_argument("--out", default=str(PNG))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eval-shot-") as tmp:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OPENAI_", "NEWS_ASSISTANT_"))}
        env["NEWS_ASSISTANT_CACHE"] = str(Path(tmp) / "cache")
        report_dir = Path(tmp) / "report"
        subprocess.run(
            [sys.executable, "-m", "assistant", "eval", "ingest/demo/questions.jsonl",
             "--articles", "ingest/demo/articles.jsonl", "--out", str(report_dir)],
            cwd=ROOT, env=env, check=True,
        )
        screenshot(report_dir / "report.html", Path(args.out), args.height)
    print(f"wrote {args.out}")


def screenshot(html: Path, png: Path, height: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:  # launch() starts from a fresh temporary profile
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(html.as_uri())
            full = page.evaluate("document.documentElement.scrollHeight")
            png.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(png), full_page=True,
                            clip={"x": 0, "y": 0, "width": 1200, "height": min(height, full)})
        finally:
            browser.close()


if __name__ == "__main__":
    main()
