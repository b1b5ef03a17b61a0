"""Warm latency of the web chat, measured in the browser: the time from clicking Ask to the
first text of the answer in the conversation, and to the finished answer (its markers and
Copy link rendered), in real headless Chromium, extractive mode, demo corpus.

    python benchmarks/ui_latency.py [--rounds 3] [--write docs/benchmarks.md]

The 14 demo questions (11 answerable, 3 that the corpus cannot answer) are asked ``--rounds``
times after one warm-up question; a new conversation every 5 questions (a conversation's
sources panel grows with its turns). Needs Debian's ``chromium`` and ``playwright`` (the
``test`` extra). The load average is printed with the numbers: other processes on the machine
slow everything down.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
QUESTIONS = Path(__file__).resolve().parent.parent / "ingest" / "demo" / "questions.jsonl"
SECTION = "## Web app latency (browser, extractive, demo corpus)"

# Clicks Ask and resolves with the ms to the first answer text and to the finished answer.
MEASURE = """() => new Promise((resolve) => {
    const bots = () => document.querySelectorAll('#na-chat [data-testid=bot]');
    const done = () => document.querySelectorAll('#na-chat [data-testid=bot] a.na-copy').length;
    const before = bots().length, finished = done();
    let first = null;
    const t0 = performance.now();
    const check = () => {
        const all = bots();
        if (first === null && all.length > before) {
            const text = all[all.length - 1].innerText.trim();
            if (text && text !== '…') first = performance.now() - t0;
        }
        if (done() > finished) {
            observer.disconnect();
            resolve({first: first ?? performance.now() - t0, full: performance.now() - t0});
        }
    };
    const observer = new MutationObserver(check);
    observer.observe(document.querySelector('#na-chat'),
                     {subtree: true, childList: true, characterData: true});
    document.querySelector('#na-ask').click();
})"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(rounds: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from assistant import NewsAssistant
    from ui.app import build_app, launch

    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line]
    rows: list[dict[str, Any]] = []
    retries = 0
    with tempfile.TemporaryDirectory() as tmp:
        bot = NewsAssistant(index=Path(tmp) / "index", llm="extractive")
        bot.ingest_demo()
        app = build_app(bot)
        url = launch(app, port=_free_port(), block=False, quiet=True)
        try:
            with sync_playwright() as pw:
                context = pw.chromium.launch_persistent_context(
                    str(Path(tmp) / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                    headless=True, viewport={"width": 1366, "height": 900})
                page = context.new_page()
                page.set_default_timeout(60_000)
                page.goto(url)
                page.locator("#na-status").get_by_text("articles").wait_for()
                box = page.locator("#na-question textarea")
                for i in range(rounds * len(questions) + 1):
                    q = questions[(i - 1) % len(questions)] if i else questions[0]
                    if i and i % 5 == 0:
                        retries += _new_conversation(page)
                    box.fill(q["question"])
                    timing = page.evaluate(MEASURE)
                    page.wait_for_function("!document.querySelector('#na-ask').disabled")
                    if i:  # the first one warms up
                        rows.append({"answerable": bool(q.get("evidence")), **timing})
                    print(f"{i}: first {timing['first']:.0f} ms, full {timing['full']:.0f} ms",
                          file=sys.stderr, flush=True)
                context.close()
        finally:
            app.close()
    return {**summarise(rows, rounds), "new_conversation_retries": retries}


EMPTY_CHAT = "document.querySelectorAll('#na-chat [data-testid=bot]').length == 0"


def _new_conversation(page: Any) -> int:
    """Click "New conversation" until the chat is empty; how many extra clicks it took.

    A click that lands within a few ms of an answer's end is sometimes undone by that
    answer's last update (seen in about 1 run of 3 of 42 questions): counted, not hidden."""
    for attempt in range(3):
        page.locator("#na-new").click()
        try:
            page.wait_for_function(EMPTY_CHAT, timeout=5_000)
            return attempt
        except Exception:  # playwright's TimeoutError: try once more
            print("New conversation did not clear the chat; clicking again", file=sys.stderr)
    raise RuntimeError("New conversation did not clear the chat after 3 clicks")


def summarise(rows: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {"rounds": rounds, "load_average": os.getloadavg()[0]}
    for name, chosen in (("answers", [r for r in rows if r["answerable"]]),
                         ("abstentions", [r for r in rows if not r["answerable"]])):
        out[name] = {
            "n": len(chosen),
            **{f"first_{k}": round(_pct([r["first"] for r in chosen], q))
               for k, q in (("p50", 0.5), ("p90", 0.9))},
            **{f"full_{k}": round(_pct([r["full"] for r in chosen], q))
               for k, q in (("p50", 0.5), ("p90", 0.9))},
            "first_mean": round(statistics.fmean(r["first"] for r in chosen)),
        }
    return out


def markdown(result: dict[str, Any]) -> str:
    lines = [
        SECTION, "",
        "`python benchmarks/ui_latency.py`: headless Chromium at 1366x900 against "
        "`build_app` on the demo corpus (22 articles), extractive answers, warm (one warm-up "
        f"question), {result['rounds']} rounds of the 14 demo questions; from the click on "
        "Ask to the first answer text in the conversation and to the finished answer "
        "(markers, sources and Copy link rendered). A new conversation every 5 questions.",
        "",
        "| questions | n | first text p50 | first text p90 | full answer p50 | full answer p90 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in ("answers", "abstentions"):
        r = result[name]
        lines.append(f"| {name} | {r['n']} | {r['first_p50']} ms | {r['first_p90']} ms | "
                     f"{r['full_p50']} ms | {r['full_p90']} ms |")
    first = result["answers"]["first_p50"]
    lines += ["", f"Target (issue 16): first text p50 <= 300 ms on an idle machine: "
              f"{'met' if first <= 300 else '**not met**'} ({first} ms). Load average at the "
              f"end of the run: {result['load_average']:.1f} on 2 cores. \"New conversation\" "
              f"needed a second click {result['new_conversation_retries']} time(s) (a click "
              "within milliseconds of an answer's end can be undone by its last update).", ""]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    doc = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = doc.find(SECTION)
    if start >= 0:
        end = doc.find("\n## ", start + len(SECTION))
        doc = doc[:start] + text + (doc[end + 1:] if end >= 0 else "")
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    path.write_text(doc, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", metavar="MARKDOWN", help="put the table in this file")
    args = parser.parse_args()
    result = measure(args.rounds)
    print(json.dumps(result, indent=2))
    if args.write:
        write_section(Path(args.write), markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
