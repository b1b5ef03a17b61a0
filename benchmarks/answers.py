"""Answer quality and speed: extractive vs the local model, same questions, same run.

python benchmarks/answers.py [--answerable 60] [--unanswerable 10] [--contexts sentences,chunks]
                             [--model qwen2.5-coder-1.5b] [--rows FILE] [--no-write]
python benchmarks/answers.py --extractive-only [--sets rtqa-full-dev,rtqa-dev,detail]

Reads ../shared/data/rtqa-full-dev (never copied into the repo; --extractive-only also reads
the project's own benchmarks/data/detail); indexes its articles once into
--cache; asks every question as of its quiz date, in every mode, one question at a time so that
machine load hits all modes alike; writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._docs import DOC, SHARED_DATA, machine, markdown_table, update_section

DATA = SHARED_DATA / "rtqa-full-dev"


@dataclass
class Row:
    """One question answered in one mode."""

    mode: str
    id: str
    answerable: bool
    reference: str
    text: str = ""
    reply: str = ""  # the model's raw streamed reply
    abstained: bool = False
    declined: bool = False  # the model said the passages do not answer; extractive shown
    failed: str = ""
    fallback: bool = False  # an LLM mode that showed the extractive answer (failure, decline)
    contains_reference: bool = False
    evidence_cited: bool = False
    citations: int = 0
    citations_valid: int = 0
    markers_dangling: int = 0
    sentences: int = 0
    supported: int = 0
    claim_check: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    ttft_ms: float = 0.0
    model_ttft_ms: float = 0.0  # a generating mode: the model's own first token
    model_contains_reference: bool = False  # ... and its text alone, after the answer phrase
    total_ms: float = 0.0
    load: float = 0.0


def normalise(text: str) -> str:
    text = re.sub(r"\[\d+\]", " ", text.lower())
    return " ".join(re.findall(r"[a-z0-9$%]+", text))


def load_questions(answerable: int, unanswerable: int) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (DATA / "questions.jsonl").open() if line.strip()]
    yes = [r for r in rows if r.get("evidence")][:answerable]
    no = [r for r in rows if r.get("evidence") == []][:unanswerable]
    return yes + no


def open_index(cache: Path, embedder: Any) -> Path:
    from assistant import NewsAssistant

    index = cache / "rtqa-full-dev"
    if not (index / "done").exists():
        bot = NewsAssistant(index=index, llm="extractive", embedder=embedder)
        report = bot.ingest([DATA / "articles.jsonl"])
        assert report.ok, report.failed
        (index / "done").write_text(report.summary())
    return index


def ask(bot: Any, mode: str, q: dict[str, Any], offer_decline: bool) -> Row:
    row = Row(mode, q["id"], bool(q["evidence"]), q.get("answer", ""))
    started = time.perf_counter()
    answer = None
    for event in bot.stream(q["question"], as_of=q.get("date") or None):
        if event.answer is not None:
            answer = event.answer
        elif not row.ttft_ms:
            row.ttft_ms = (time.perf_counter() - started) * 1000
        if event.kind == "token":
            row.reply += event.token
    row.total_ms = (time.perf_counter() - started) * 1000
    row.load = os.getloadavg()[0]
    assert answer is not None
    score(row, answer, bot, q)
    if answer.mode != "extractive" or row.fallback:
        row.prompt_tokens = prompt_tokens(bot, answer, offer_decline)
    return row


def prompt_tokens(bot: Any, answer: Any, offer_decline: bool) -> int:
    """Tokens of the prompt the model read, counted by the llama.cpp server's tokenizer."""
    import httpx

    from assistant.extractive import score_sentences
    from assistant.generate import grounding_passages
    from assistant.llm import build_messages

    vector = bot.retriever.embed_query(answer.question)
    scored = score_sentences(answer.question, vector, answer.passages, bot.embedder)
    given = grounding_passages(answer.passages, scored, bot.settings.llm_context)
    text = "\n".join(c for _, c in build_messages(answer.question, given,
                                                  offer_decline=offer_decline))
    base = bot.endpoint().base_url.removesuffix("/v1")
    reply = httpx.post(f"{base}/tokenize", json={"content": text}, timeout=60)
    return len(reply.json()["tokens"]) + 10  # + the chat template's role markers


def score(row: Row, answer: Any, bot: Any, q: dict[str, Any]) -> None:
    from assistant.llm import markers_in
    from assistant.sentences import sentence_spans

    row.text, row.abstained = answer.text, answer.abstained
    checks = getattr(answer, "claim_check", None) or {}
    row.claim_check = dict(checks)
    row.declined = bool(checks.get("declined"))
    row.failed = answer.notice if "failed" in answer.notice else ""
    ref = normalise(row.reference)
    words = f" {normalise(answer.text)} "  # whole words: "5" must not match "50"
    row.contains_reference = bool(ref) and not row.abstained and f" {ref} " in words
    timings = getattr(answer, "timings_ms", None) or {}
    row.model_ttft_ms = float(timings.get("model_first_token", 0.0))
    own = answer.text
    span = getattr(answer, "answer_span", None)
    if answer.mode != "extractive" and span and own.startswith(f"**{span['text']}**"):
        own = own.split("\n\n", 1)[-1]  # the model's text after the answer phrase
    row.model_contains_reference = (bool(ref) and not row.abstained
                                    and f" {ref} " in f" {normalise(own)} ")
    row.citations = len(answer.citations)
    for c in answer.citations:
        article = bot.get_article(c.article_id)
        row.citations_valid += bool(article and article.body[c.start : c.end] == c.quote)
    numbers = {c.n for c in answer.citations}
    row.markers_dangling = sum(1 for n in markers_in(answer.text) if n not in numbers)
    row.evidence_cited = any(c.article_id in q["evidence"] for c in answer.citations)
    row.fallback = row.mode != "extractive" and answer.mode == "extractive"
    if not row.abstained:
        if answer.mode != "extractive":  # a generated answer: the claim check's verdict
            row.sentences, row.supported = checks["sentences"], checks["supported"]
        else:  # extractive (or the fallback to it): verbatim quotes, supported by construction
            row.sentences = row.supported = len(sentence_spans(answer.text))


def as_declined_abstains(rows: list[Row]) -> list[Row]:
    """The same answers under the other decline policy: a model decline becomes an abstention."""
    out = []
    for r in rows:
        if r.declined:
            r = Row(r.mode, r.id, r.answerable, r.reference, abstained=True, declined=True,
                    ttft_ms=r.ttft_ms, total_ms=r.total_ms, load=r.load)
        out.append(r)
    return out


def summarise(rows: list[Row]) -> dict[str, float]:
    yes = [r for r in rows if r.answerable]
    no = [r for r in rows if not r.answerable]
    answered = [r for r in rows if not r.abstained]
    sentences = sum(r.sentences for r in answered)
    citations = sum(r.citations for r in rows)
    ttft = [r.ttft_ms for r in rows]
    model_ttft = [r.model_ttft_ms for r in rows if r.model_ttft_ms]
    total = [r.total_ms for r in rows]
    return {
        "reference": _share(r.contains_reference for r in yes),
        "false_abstention": _share(r.abstained for r in yes),
        "correct_abstention": _share(r.abstained for r in no),
        "evidence_cited": _share(r.evidence_cited for r in yes if not r.abstained),
        "citation_validity": sum(r.citations_valid for r in rows) / citations if citations else 1.0,
        "dangling": sum(r.markers_dangling for r in rows),
        "supported": (sum(r.supported for r in answered) / sentences) if sentences else 1.0,
        "declined": sum(r.declined for r in yes),
        "failed": sum(bool(r.failed) for r in rows),
        "fallback": sum(r.fallback for r in yes),
        "prompt_tokens": statistics.median([r.prompt_tokens for r in rows if r.prompt_tokens]
                                           or [0]),
        "model_reference": _share(r.model_contains_reference for r in yes),
        "ttft_p50": _pct(ttft, 50), "ttft_p95": _pct(ttft, 95),
        "model_ttft_p50": _pct(model_ttft, 50), "model_ttft_p95": _pct(model_ttft, 95),
        "total_p50": _pct(total, 50), "total_p95": _pct(total, 95),
    }


def _share(flags: Any) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


def _pct(values: list[float], q: int) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answerable", type=int, default=60)
    parser.add_argument("--unanswerable", type=int, default=10)
    parser.add_argument("--variants", default="sentences,chunks,sentences+decline",
                        help="LLM modes, comma-separated: what the model reads (sentences or "
                             "chunks), +decline to offer 'The sources do not say.' in the prompt")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "na-bench")
    parser.add_argument("--rows", type=Path, help="write every answer as JSON lines here")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {DOC.name}")
    parser.add_argument("--extractive-only", action="store_true",
                        help="every question of --sets, extractive mode only: answer, answer "
                             "span and abstention (its own docs section)")
    parser.add_argument("--sets", default="rtqa-full-dev,rtqa-dev")
    parser.add_argument("--render", nargs=2, metavar=("RESULTS.json", "INFO.json"),
                        help="only rewrite the docs section from a run's printed results")
    args = parser.parse_args()
    if args.extractive_only:
        extractive_report(args.sets.split(","), args.cache, write=not args.no_write,
                          rows_out=args.rows)
        return
    if args.render:
        results, info = (json.loads(Path(f).read_text()) for f in args.render)
        update_section("answers", render(results, info, ["--cache", "DIR", "--rows", "FILE"]))
        return

    from assistant import NewsAssistant
    from assistant.config import Settings
    from assistant.local_model import get_local_server
    from ingest.embedding import default_embedder

    embedder = default_embedder()
    index = open_index(args.cache, embedder)
    questions = load_questions(args.answerable, args.unanswerable)
    started = time.perf_counter()
    server = get_local_server(args.model)
    load_s = time.perf_counter() - started
    extractive = NewsAssistant(index=index, llm="extractive", embedder=embedder)
    modes: dict[str, tuple[Any, bool]] = {"extractive": (extractive, False)}
    for variant in args.variants.split(","):
        context, _, decline = variant.partition("+")
        settings = Settings.from_env(env={}, index=str(index), llm="local",
                                     local_model=args.model, llm_context=context,
                                     offer_decline=decline == "decline")
        bot = NewsAssistant(settings=settings, embedder=embedder)
        modes[f"local, {variant.replace('+', ' + ')}"] = (bot, decline == "decline")
    rows: dict[str, list[Row]] = {mode: [] for mode in modes}
    loads = [os.getloadavg()[0]]
    out = args.rows.open("w") if args.rows else None
    for i, q in enumerate(questions, start=1):
        for mode, (bot, offer_decline) in modes.items():
            row = ask(bot, mode, q, offer_decline)
            rows[mode].append(row)
            if out:
                out.write(json.dumps(row.__dict__) + "\n")
                out.flush()
        loads.append(os.getloadavg()[0])
        print(f"{i}/{len(questions)} {q['id']} load {loads[-1]:.1f} "
              + " ".join(f"{m}:{r[-1].total_ms / 1000:.1f}s" for m, r in rows.items()),
              file=sys.stderr, flush=True)
    results = {mode: summarise(r) for mode, r in rows.items()}
    for mode in list(rows):
        if mode.endswith("decline"):
            results[f"{mode}, decline = abstain"] = summarise(as_declined_abstains(rows[mode]))
    print(json.dumps(results, indent=2))
    info = {"questions": len(questions), "answerable": args.answerable,
            "unanswerable": args.unanswerable, "model": server.model, "threads": server.threads,
            "load_min": min(loads), "load_median": statistics.median(loads),
            "load_max": max(loads), "model_load_s": load_s,
            "minutes": (time.perf_counter() - started) / 60}
    print(json.dumps(info), file=sys.stderr)
    if not args.no_write:
        update_section("answers", render(results, info, sys.argv[1:]))
        print(f"wrote its section of {DOC}", file=sys.stderr)


def extractive_report(sets: list[str], cache: Path, *, write: bool,
                      rows_out: Path | None = None) -> dict[str, Any]:
    """Every question of each set, as of its date, extractive: the answer and its span
    against the reference, abstention, speed; every answer as a JSON line in `rows_out`."""
    from assistant.evaluation.metrics import (
        contains_reference,
        exact_match,
        strip_citation_markers,
        token_f1,
    )
    from benchmarks.common import open_bot, set_dir

    results: dict[str, Any] = {}
    out = rows_out.open("w") if rows_out else None
    for name in sets:
        bot = open_bot(name, cache, llm="extractive")
        rows = [json.loads(line) for line in (set_dir(name) / "questions.jsonl").open()]
        bot.ask(rows[0]["question"])  # warm up: model loading is not answer time
        seen: dict[str, list[float]] = {k: [] for k in (
            "contains", "false_abstention", "declined", "span_em", "span_f1", "em", "f1",
            "ms", "spans")}
        kinds: dict[str, int] = {}
        for q in rows:
            started = time.perf_counter()
            answer = bot.ask(q["question"], as_of=q.get("date") or None)
            seen["ms"].append((time.perf_counter() - started) * 1000)
            kinds[answer.question_kind] = kinds.get(answer.question_kind, 0) + 1
            if out:
                out.write(json.dumps({
                    "set": name, "id": q["id"], "question": q["question"],
                    "reference": q["answer"], "answerable": bool(q.get("evidence")),
                    "kind": answer.question_kind, "abstained": answer.abstained,
                    "span": (answer.answer_span or {}).get("text", ""),
                    "answer": answer.text}) + "\n")
            if not q.get("evidence"):
                seen["declined"].append(float(answer.abstained))
                continue
            text = "" if answer.abstained else strip_citation_markers(answer.text)
            span = "" if answer.abstained or not answer.answer_span else (
                answer.answer_span["text"])
            seen["false_abstention"].append(float(answer.abstained))
            seen["contains"].append(contains_reference(text, q["answer"]))
            seen["em"].append(exact_match(text, q["answer"]))
            seen["f1"].append(token_f1(text, q["answer"]))
            seen["span_em"].append(exact_match(span, q["answer"]))
            seen["span_f1"].append(token_f1(span, q["answer"]))
            seen["spans"].append(float(bool(span)))
        results[name] = {k: statistics.mean(v) for k, v in seen.items() if v and k != "ms"}
        results[name].update({"p50_ms": _pct(seen["ms"], 50) * 1000,
                              "p95_ms": _pct(seen["ms"], 95) * 1000, "questions": len(rows),
                              "kinds": kinds})
        print(name, json.dumps(results[name]), file=sys.stderr, flush=True)
    if out:
        out.close()
    if write:
        update_section("answers-extractive", render_extractive(results, sets))
    return results


def render_extractive(results: dict[str, Any], sets: list[str]) -> str:
    headers = ["set", "questions", "reference in answer", "false abstention",
               "unanswerable declined", "span EM", "span F1", "answer EM", "answer F1",
               "answers with a span", "p50 / p95 (ms)"]
    rows = [[name, r["questions"], f"{r['contains']:.3f}", f"{r['false_abstention']:.3f}",
             f"{r['declined']:.3f}", f"{r['span_em']:.3f}", f"{r['span_f1']:.3f}",
             f"{r['em']:.3f}", f"{r['f1']:.3f}", f"{r['spans']:.0%}",
             f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f}"] for name, r in results.items()]
    return (
        f"## Extractive answers: answer phrase, quotes, abstention ({', '.join(sets)})\n\n"
        f"```\npython benchmarks/answers.py --extractive-only --sets {','.join(sets)}\n```\n\n"
        "Every question of each set, asked as of its quiz date, extractive mode, with the "
        "shipped `assistant/scorer_weights.json` (fitted by `benchmarks/train_scorer.py` on "
        "these same dev sets: its cross-validated held-out numbers are in the scorer section; "
        "the numbers here are in-sample for the fitted weights; `detail` is a set written "
        "for the project and never fitted on). *span*: the answer phrase "
        "(`answer_span`) alone against the reference; *answer*: the whole answer text.\n\n"
        f"{markdown_table(headers, rows)}\n"
    )


def render(results: dict[str, dict[str, float]], info: dict[str, Any], argv: list[str]) -> str:
    headers = ["mode", "reference in answer", "false abstention", "correct abstention",
               "evidence cited", "citations verbatim", "sentences supported",
               "model declined / fell back", "prompt tokens (median)", "TTFT p50 / p95 (s)",
               "model's first token p50 / p95 (s)", "reference in the model's text",
               "total p50 / p95 (s)"]
    table = [
        [mode, f"{m['reference']:.0%}", f"{m['false_abstention']:.0%}",
         f"{m['correct_abstention']:.0%}", f"{m['evidence_cited']:.0%}",
         f"{m['citation_validity']:.0%}", f"{m['supported']:.0%}",
         f"{m['declined']:.0f} / {m['fallback']:.0f}", f"{m['prompt_tokens']:.0f}",
         f"{m['ttft_p50']:.1f} / {m['ttft_p95']:.1f}",
         f"{m['model_ttft_p50']:.1f} / {m['model_ttft_p95']:.1f}" if m["model_ttft_p50"] else "-",
         f"{m['model_reference']:.0%}" if m["model_ttft_p50"] else "-",
         f"{m['total_p50']:.1f} / {m['total_p95']:.1f}"]
        for mode, m in results.items()
    ]
    command = " ".join(["python benchmarks/answers.py", *argv])
    return (
        "## Answers: extractive vs the local model (rtqa-full-dev)\n\n"
        f"```\n{command}\n```\n\n"
        f"{info['answerable']} answerable and {info['unanswerable']} unanswerable questions of "
        f"rtqa-full-dev, each asked as of its quiz date in every mode in turn; local model "
        f"`{info['model']}` (llama.cpp via xllamacpp, {info['threads']} thread(s), "
        f"loaded in {info['model_load_s']:.0f} s). {info['minutes']:.0f} minutes in all.\n\n"
        f"{markdown_table(headers, table)}\n\n"
        "- *reference in answer*: the normalised reference answer occurs in the answer text "
        "(answerable questions). *evidence cited*: an answer cites an evidence article.\n"
        "- *citations verbatim*: the citation's quote equals the article body at its offsets.\n"
        "- *sentences supported*: the claim check found a supporting passage sentence "
        "(extractive sentences are quotes, supported by construction).\n"
        "- *model declined / fell back*: answerable questions where the model said the passages "
        "do not answer / where the extractive answer was shown instead of the model's (after a "
        "decline, a failure, or a reply with no supported sentence; a notice says so). The "
        "`+ decline` mode offers \"The sources do not say.\" in the prompt; its "
        "`decline = abstain` row scores the same replies with declines as abstentions.\n"
        "- TTFT is from the question to the first streamed token (retrieval included). A "
        "generated answer to a factoid question opens with the extractive answer phrase "
        "(`answer_phrase_first`), so its first token is that phrase; *model's first token* is "
        "when the model's own text began, and *reference in the model's text* scores that text "
        "alone, without the phrase.\n"
        f"- Machine: {machine()}, shared: load average {info['load_min']:.1f} to "
        f"{info['load_max']:.1f} (median {info['load_median']:.1f}) during the run.\n"
        + targets(results)
    )


def targets(results: dict[str, dict[str, float]]) -> str:
    """The issue's targets for the default local mode, and what was tried for speed."""
    local, extractive = results.get("local, sentences"), results.get("extractive")
    if not local or not extractive:
        return ""
    rows = [
        ["reference in answer ≥ extractive", f"{local['reference']:.0%} vs "
         f"{extractive['reference']:.0%}", _yes(local["reference"] >= extractive["reference"])],
        ["false abstention ≤ 10 %", f"{local['false_abstention']:.0%}",
         _yes(local["false_abstention"] <= 0.10)],
        ["TTFT p50 ≤ 3 s", f"{local['ttft_p50']:.1f} s", _yes(local["ttft_p50"] <= 3.0)],
    ]
    from assistant.generate import EXCERPT_SENTENCES, EXCERPT_TOKENS

    tokens = local["prompt_tokens"]
    return (
        "\n### Targets (local, sentences: the default mode)\n\n"
        f"{markdown_table(['target', 'measured', 'reached'], rows)}\n\n"
        f"The model reads at most {EXCERPT_SENTENCES} of the best-scored sentences, within about "
        f"{EXCERPT_TOKENS} tokens (`assistant/generate.py`); the prompts' median is {tokens:.0f} "
        "tokens, of which ~105 (system prompt, chat template) are reused from llama.cpp's cache "
        "between questions. How that prompt was chosen, and the earlier runs behind the other "
        "decisions (excerpts rather than chunks, no decline offered), follow this section.\n"
    )


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


if __name__ == "__main__":
    main()
