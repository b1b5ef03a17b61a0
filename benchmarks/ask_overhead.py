"""What an extractive answer costs over its search, for two versions of the code side by side
on one index: each version's ``search`` (plain and dated) and ``ask`` in its own process,
alternating, every call embedding its question and reading its passages as if new.

    python benchmarks/ask_overhead.py --index /work/scratch/scale18/index \\
        --code /work/wt/before19 --code . [--rounds 2] [--section ask-overhead]

``--code`` is a checkout of this repository (e.g. a git worktree at another commit); the
first is the baseline. Results go to docs/benchmarks.md unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import machine, percentiles, table, update_section

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from benchmarks.common import load_questions
from assistant import NewsAssistant
from ingest.embedding import default_embedder

def forget(embedder):
    # every memo either version keeps: the query's vector, splits, shingles, parses, words
    import importlib
    embedder.forget()
    for module, names in (("ingest.sentences", ("_cached_spans",)),
                          ("assistant.retrieval", ("shingles",)),
                          ("assistant.scorer", ("_words", "_names"))):
        mod = importlib.import_module(module)
        for name in names:
            if hasattr(mod, name):
                getattr(mod, name).cache_clear()
    importlib.import_module("ingest.sentence_pieces").forget()

bot = NewsAssistant(index=sys.argv[2], embedder=default_embedder(), llm="extractive")
questions = load_questions("rtqa-dev")
n = int(sys.argv[3])
for q in questions[-40:]:  # warm up on questions that are not timed
    bot.search(q.question, k=10); bot.search(q.question, k=10, as_of=q.date)
    bot.ask(q.question, as_of=q.date)
out = {"search": [], "dated": [], "ask": []}
for q in questions[:n]:
    for name, call in (("search", lambda: bot.search(q.question, k=10)),
                       ("dated", lambda: bot.search(q.question, k=10, as_of=q.date)),
                       ("ask", lambda: bot.ask(q.question, as_of=q.date))):
        forget(bot.embedder)
        started = time.perf_counter()
        call()
        out[name].append((time.perf_counter() - started) * 1000)
print(json.dumps(out))
"""


def run(code: Path, index: str, n: int) -> dict[str, list[float]]:
    env = dict(os.environ, PYTHONPATH=str(code))
    done = subprocess.run([sys.executable, "-c", CHILD, str(code), index, str(n)], env=env,
                          capture_output=True, text=True, check=True, cwd=code)
    return json.loads(done.stdout.strip().splitlines()[-1])


def commit_of(code: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=code,
                          capture_output=True, text=True).stdout.strip() or str(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True)
    parser.add_argument("--code", action="append", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--section", default="ask-overhead")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    codes = [c.resolve() for c in args.code]
    times: dict[Path, dict[str, list[float]]] = {c: {"search": [], "dated": [], "ask": []}
                                                 for c in codes}
    loads = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for code in codes:  # alternating, so both see the same load
            for name, values in run(code, args.index, args.questions).items():
                times[code][name] += values
            loads.append(os.getloadavg()[0])
    rows = []
    for code in codes:
        t = times[code]
        s, d, a = (percentiles(t[k])[0] for k in ("search", "dated", "ask"))
        rows.append([commit_of(code), round(s, 1), round(d, 1), round(a, 1),
                     round(percentiles(t["ask"])[1], 1), round(a - d, 1), round(a / s, 2),
                     round(a / d, 2)])
    headers = ["code", "search p50 ms", "dated search p50 ms", "ask p50 ms", "ask p95 ms",
               "ask - dated search ms", "ask / search", "ask / dated search"]
    command = ("python benchmarks/ask_overhead.py --index " + args.index + " "
               + " ".join(f"--code {c}" for c in args.code)
               + f" --rounds {args.rounds} --questions {args.questions}")
    body = "\n\n".join([
        f"Command: `{command}` ({args.questions} rtqa-dev questions a round, each version in "
        "its own process, alternating; every call embeds its question and reads its passages "
        "as if new: all memos are cleared before it).",
        table(headers, rows),
        f"Machine: {machine()}; load average (1 min) during the run: "
        f"{min(loads):.1f}-{max(loads):.1f}."])
    print(body)
    if not args.no_write:
        update_section(args.section, body)


if __name__ == "__main__":
    main()
