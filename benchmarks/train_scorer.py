"""Fit the sentence scorer, the answer-span chooser and the abstention gate; report k-fold
cross-validated (folds by question) held-out numbers only; write assistant/scorer_weights.json.

python benchmarks/train_scorer.py [--cache DIR] [--folds 5] [--no-write]

Reads ../shared/data/{rtqa-dev,rtqa-full-dev} (never copied into the repo). Positive sentence =
a sentence of an evidence article that contains the reference answer. scikit-learn is used here
only; the shipped weights are plain JSON read with numpy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import open_bot, set_dir

SETS = ["rtqa-full-dev", "rtqa-dev"]  # narrowed by --sets
FACTOID = frozenset({"who", "when", "where", "how_many", "how_much", "which", "what"})
READ = 8  # candidates come from this many passages (the runtime reads fewer; chosen by CV)
WITHOUT: list[str] = []  # --without: features zeroed, to measure what they add
EXTRA: list[str] = []  # --extra-train: sets that train the scorer and spans only
RULE_SETS: list[str] = []  # --rule-sets: sets that help choose the "states" rule only


@dataclass
class Item:
    """One question with its candidate sentences, their features and labels."""

    set: str
    id: str
    question: str
    answer: str
    answerable: bool
    date: str
    kind: str
    expected: tuple[str, ...]
    relevance: float
    features: np.ndarray
    labels: np.ndarray  # sentence holds the reference, in an evidence article
    texts: list[str]
    ranks: list[int]
    articles: list[str]
    starts: list[int]
    contexts: list[str]
    entities_found: float  # share of the question's names in the retrieved passages
    n_entities: int
    baseline: np.ndarray = field(default_factory=lambda: np.zeros(0))  # hand-set score
    titles: list[str] = field(default_factory=list)  # each candidate's article headline
    # each candidate's passage published in the abstention signal's window (as_of)
    windowed: list[bool] = field(default_factory=list)


def collect(name: str, cache: Path, reuse: bool = False) -> list[Item]:
    """Retrieve (as of the question date) and featurise every question of a set, once.
    ``reuse``: take the newest collected file even if the feature code changed since."""
    out = cache / f"items-{name}-{_code_stamp()}.pkl"
    earlier = sorted(cache.glob(f"items-{name}-*.pkl"), key=lambda p: p.stat().st_mtime)
    if reuse and earlier:
        out = earlier[-1]
    if out.exists():
        return list(pickle.loads(out.read_bytes()))
    from assistant.abstention import evidence_relevance, published_since
    from assistant.evaluation.metrics import contains_reference
    from assistant.question import analyse_question
    from assistant.retrieval import Filters
    from assistant.scorer import (
        BASE_FEATURES,
        content_words,
        sentence_candidates,
        sentence_features,
    )
    from assistant.syndication import collapse_syndicated

    bot = open_bot(name, cache, llm="extractive")
    retriever = bot.retriever
    rows = [json.loads(line) for line in (set_dir(name) / "questions.jsonl").open()]
    items = []
    started = time.perf_counter()
    for i, q in enumerate(rows):
        analysis = analyse_question(q["question"])
        vector = retriever.embed_query(q["question"])
        retrieval = retriever.retrieve(q["question"], k=bot.settings.k, filters=Filters(),
                                       max_per_article=bot.settings.max_per_article,
                                       vector=vector, as_of=q.get("date") or None)
        passages = collapse_syndicated(retrieval.passages, bot.store)
        cands = sentence_candidates(passages, limit=READ)
        vectors = bot.embedder.embed([c.text for c in cands]) if cands else np.zeros((0, 1))
        as_of = date.fromisoformat(q["date"]) if q.get("date") else None
        feats = sentence_features(analysis, q["question"], vector, cands, vectors, passages,
                                  as_of) if cands else np.zeros((0, len(BASE_FEATURES)))
        # what the runtime gate reads (``assistant.pipeline.decide_abstention``)
        relevance = evidence_relevance(retrieval.relevance, retrieval.relevance_since,
                                       [c.passage_rank for c in cands],
                                       [float(f[0]) for f in feats], passages)
        evidence = set(q.get("evidence") or [])
        labels = np.asarray([
            bool(q["answer"]) and passages[c.passage_rank].article_id in evidence
            and bool(contains_reference(c.text, q["answer"])) for c in cands], dtype=bool)
        wanted = content_words(q["question"])
        top = max(passages[0].score, 1e-9) if passages else 1.0
        baseline = np.asarray([
            float(f[0]) + 0.15 * (len(wanted & content_words(c.text)) / len(wanted) if wanted
                                  else 0.0) + 0.2 * max(passages[c.passage_rank].score, 0) / top
            for c, f in zip(cands, feats, strict=True)])
        haystack = " ".join(p.title + " " + p.text for p in passages).lower()
        names = [e.lower() for e in analysis.entities]
        items.append(Item(
            name, q["id"], q["question"], q.get("answer", ""), bool(q.get("evidence")),
            q.get("date", ""), analysis.kind, analysis.expected_types, relevance,
            feats, labels, [c.text for c in cands], [c.passage_rank for c in cands],
            [passages[c.passage_rank].article_id for c in cands], [c.start for c in cands],
            [c.context_text for c in cands],
            sum(n in haystack for n in names) / len(names) if names else 1.0, len(names),
            baseline, [passages[c.passage_rank].title for c in cands],
            [published_since(passages[c.passage_rank], retrieval.relevance_since)
             for c in cands]))
        if (i + 1) % 50 == 0:
            print(f"  {name}: {i + 1}/{len(rows)} in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)
    out.write_bytes(pickle.dumps(items))
    return items


def holds(text: str, reference: str) -> bool:
    """The reference's words, in order, among the text's (benchmarks/answers.py's measure:
    "Japan’s" holds "Japan", "17-year-old" holds "17")."""
    from benchmarks.answers import normalise

    ref = normalise(reference)
    return bool(ref) and f" {ref} " in f" {normalise(text)} "


def relabel(items: list[Item]) -> None:
    """Labels and text features from the stored texts: the label is ``holds`` in an evidence
    article; the text features are recomputed with the current code."""
    from assistant.question import analyse_question
    from assistant.scorer import BASE_FEATURES, TEXT_FEATURES, text_features

    evidence = {}
    for name in sorted({it.set for it in items}):
        for line in (set_dir(name) / "questions.jsonl").open():
            row = json.loads(line)
            evidence[row["id"]] = set(row.get("evidence") or [])
    for it in items:
        it.labels = np.asarray([it.articles[i] in evidence[it.id] and holds(t, it.answer)
                                for i, t in enumerate(it.texts)], dtype=bool)
        base = it.features[:, : len(BASE_FEATURES)].copy()
        for name in WITHOUT:
            if name in BASE_FEATURES:
                base[:, BASE_FEATURES.index(name)] = 0.0
        extra = text_features(analyse_question(it.question), it.question, it.texts)
        for name in WITHOUT:  # an ablation: the feature says nothing
            if name in TEXT_FEATURES:
                extra[:, TEXT_FEATURES.index(name)] = 0.0
        it.features = np.hstack([base, extra]) if len(it.texts) else np.zeros(
            (0, base.shape[1] + extra.shape[1]))


def _code_stamp() -> str:
    """Cached features are valid for one version of the feature code and the data."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha1()
    for path in ("assistant/question.py", "assistant/scorer.py", "assistant/abstention.py",
                 "ingest/sentences.py"):
        digest.update((root / path).read_bytes())
    return digest.hexdigest()[:8]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/na-answer-bench"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--collect-only", action="store_true")
    parser.add_argument("--reuse", action="store_true",
                        help="fit on the newest collected features even if the code changed")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--floor-shares", default="0.5",
                        help="comma-separated budget shares for the floors; several: chosen "
                             "on the training folds")
    parser.add_argument("--extra-train", default="",
                        help="comma-separated sets whose questions only train the sentence "
                             "scorer and the span chooser (in every fold), never the gate, "
                             "and are never reported")
    parser.add_argument("--rule-sets", default="detail-train",
                        help="comma-separated sets that only help choose the 'states the "
                             "answer' rule of abstention (with the quizzes' training folds): "
                             "the scorer, spans and gate never learn from them")
    parser.add_argument("--without", default="",
                        help="comma-separated sentence/span features to zero (an ablation)")
    args = parser.parse_args()
    WITHOUT[:] = [n for n in args.without.split(",") if n]
    global FLOOR_SHARES
    FLOOR_SHARES = tuple(float(x) for x in args.floor_shares.split(","))
    args.cache.mkdir(parents=True, exist_ok=True)
    names = tuple(args.sets.split(","))
    extra = tuple(n for n in args.extra_train.split(",") if n)
    rule = tuple(n for n in args.rule_sets.split(",") if n)
    items = [item for name in names + extra + rule
             for item in collect(name, args.cache, args.reuse)]
    relabel(items)
    print(f"{len(items)} questions collected", file=sys.stderr)
    if args.collect_only:
        return
    SETS[:] = names
    EXTRA[:] = extra
    RULE_SETS[:] = rule
    fit_and_report(items, folds=args.folds, cache=args.cache, write=not args.no_write)


# ---- fitting and cross-validation ------------------------------------------------------------
C_GRID = (0.1, 1.0)
READ_GRID = (5, 8)  # passages whose sentences are read
RATIO_GRID = (0.3, 0.5, 0.7, 1.01)
FALSE_ABSTENTION = 0.05


def fold_of(item: Item, folds: int) -> int:
    return int(hashlib.sha1(item.id.encode()).hexdigest(), 16) % folds


def fit_linear(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], c: float = 1.0) -> Any:
    from sklearn.linear_model import LogisticRegression

    from assistant.scorer import LinearModel

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=2000).fit((x - mean) / scale, y)
    return LinearModel(names, mean, scale, model.coef_[0], float(model.intercept_[0]))


def fit_sentences(items: list[Item], c: float, read: int) -> Any:
    from assistant.scorer import FEATURES

    rows = [(it.features[i], it.labels[i]) for it in items for i in range(len(it.texts))
            if it.ranks[i] < read]
    x = np.asarray([r[0] for r in rows])
    y = np.asarray([r[1] for r in rows])
    return fit_linear(x, y, FEATURES, c)


def quote_of(item: Item, i: int) -> str:
    from assistant.scorer import ANAPHORA

    text = item.texts[i]
    if item.contexts[i] and ANAPHORA.match(text):
        return f"{item.contexts[i]} {text}"
    return text


def compose(item: Item, scores: np.ndarray, read: int, ratio: float) -> list[int]:
    """Indices of the quoted sentences: the best, and a second one from the same article
    scoring at least ``ratio`` of the best (probabilities)."""
    order = [i for i in np.argsort(-scores) if item.ranks[i] < read]
    if not order:
        return []
    first = order[0]
    picked = [first]
    for i in order[1:4]:
        if item.texts[i].lower() == item.texts[first].lower():
            continue
        if item.articles[i] == item.articles[first] and scores[i] >= ratio * scores[first]:
            picked.append(i)
            break
    return picked


def baseline_pick(item: Item) -> list[int]:
    """The hand-set scorer and pick_sentences of before (margin 0.12, two sentences)."""
    order = list(np.argsort(-item.baseline))
    if not order:
        return []
    picked = [order[0]]
    for i in order[1:]:
        if item.baseline[i] < item.baseline[order[0]] - 0.12:
            break
        if item.texts[i].lower() != item.texts[order[0]].lower():
            picked.append(i)
            break
    return picked


def contains(item: Item, picked: list[int], span: str = "") -> float:
    text = " ".join([span, *(quote_of(item, i) for i in picked)])
    return float(bool(picked) and holds(text, item.answer))


def held_out_sentences(items: list[Item], folds: int, read: int, c: float) -> dict[str, Any]:
    """Out-of-fold probabilities for every item (the scorer never saw its question)."""
    scores: dict[str, np.ndarray] = {}
    for f in range(folds):
        train = [it for it in items if fold_of(it, folds) != f]
        model = fit_sentences(train, c, read)
        for it in items:
            if fold_of(it, folds) == f:
                scores[it.id] = (model.probabilities(it.features) if len(it.texts)
                                 else np.zeros(0))
    return scores


def per_fold(items: list[Item], folds: int, value: Any) -> tuple[float, float]:
    """Mean and standard deviation over folds of the per-fold mean of ``value(item)``."""
    means = []
    for f in range(folds):
        vals = [value(it) for it in items if fold_of(it, folds) == f]
        vals = [v for v in vals if v is not None]
        if vals:
            means.append(float(np.mean(vals)))
    return float(np.mean(means)), float(np.std(means))


def fit_and_report(items: list[Item], *, folds: int, cache: Path, write: bool) -> None:
    from benchmarks._docs import update_section

    results: dict[str, Any] = {}
    rule_items = [it for it in items if it.set in RULE_SETS]
    items = [it for it in items if it.set not in RULE_SETS]
    answerable = [it for it in items if it.answerable]
    # 1. sentence scorer: C and how many passages are read, chosen on held-out folds
    choices = {}
    for read in READ_GRID:
        for c in C_GRID:
            oof = held_out_sentences(items, folds, read, c)
            score = np.mean([contains(it, compose(it, oof[it.id], read, 1.01))
                             for it in answerable])
            choices[(read, c)] = (score, oof)
            print(f"read {read} C {c}: top-1 contains {score:.3f}", file=sys.stderr)
    # within 0.005 (two of ~365 questions: noise) the more passages read win, as the gate
    # declines better with more evidence (5 against 8 tied at 0.833 on 2026-12-07 and gave
    # rtqa-dev 0.77 declined against 0.83); then the weaker regularisation
    top = max(float(v[0]) for v in choices.values())
    read, c = max((k for k in choices if float(choices[k][0]) >= top - 0.005),
                  key=lambda k: (k[0], k[1]))
    oof = choices[(read, c)][1]
    ratios = {r: np.mean([contains(it, compose(it, oof[it.id], read, r)) for it in answerable])
              for r in RATIO_GRID}
    print(f"ratios {ratios}", file=sys.stderr)
    best = max(ratios.values())
    ratio = max(r for r, v in ratios.items() if v >= best - 1e-9)  # ties: the stricter one
    results["choice"] = {"read": read, "C": c, "ratio": ratio}
    for name in SETS:
        subset = [it for it in answerable if it.set == name]
        results[name] = {
            "baseline_top2": per_fold(subset, folds, lambda it: contains(it, baseline_pick(it))),
            "learned_top1": per_fold(subset, folds, lambda it: contains(
                it, compose(it, oof[it.id], read, 1.01))),
            "learned_composed": per_fold(subset, folds, lambda it: contains(
                it, compose(it, oof[it.id], read, ratio))),
            "ceiling": per_fold(subset, folds, lambda it: float(any(
                it.labels[i] for i in range(len(it.texts)) if it.ranks[i] < read))),
        }
    gate = fit_gate([it for it in items if it.set in SETS], oof, folds, read)
    stated = choose_stated([it for it in items if it.set in SETS], rule_items, oof, folds,
                           read, c, gate)
    results["gate"] = gate["report"]
    results["stated"] = stated["report"]
    spans = fit_spans(items, oof, folds, read, cache)
    results["span"] = spans["report"]
    for name in SETS:
        subset = [it for it in answerable if it.set == name]

        def answered(it: Item) -> float:
            if ABSTAINS.get(it.id):
                return 0.0
            picked, span = compose_with_span(it, oof[it.id], read, ratio)
            return contains(it, picked, span)

        results[name]["answer_with_span"] = per_fold(subset, folds, answered)
        # per question, so that two runs can be compared pair by pair (fold by fold)
        results[name]["answered"] = {it.id: answered(it) for it in subset}
        results[name]["spans"] = {it.id: _shown(it, HOLDERS) for it in subset}
        results[name]["abstained"] = {it.id: bool(ABSTAINS.get(it.id)) for it in items
                                      if it.set == name}
    print(json.dumps(results, indent=1, default=float))
    if write:
        weights = {
            "trained_on": list(SETS) + list(EXTRA), "folds": folds, "read": read,
            "second_ratio": ratio,
            "sentence": fit_sentences(items, c, read).to_dict(),
            "gate": gate["model"], "floors": gate["floors"], "span": spans["model"],
            "stated": stated["params"],
        }
        WEIGHTS.write_text(json.dumps(weights, indent=1) + "\n")
        (cache / "cv-results.json").write_text(json.dumps(results, indent=1, default=float))
        update_section("scorer", render(results, folds))


WEIGHTS = Path(__file__).resolve().parent.parent / "assistant" / "scorer_weights.json"


def gate_features(item: Item, probabilities: np.ndarray, read: int) -> list[float]:
    """The runtime gate's row: over the sentences of the passages read."""
    from assistant.abstention import gate_row

    kept = probabilities[np.asarray(item.ranks, dtype=int) < read] if len(item.texts) else (
        probabilities[:0])
    return gate_row(float(kept.max()) if len(kept) else 0.0, item.relevance,
                    item.entities_found, item.n_entities, len(kept))


def fit_gate(items: list[Item], oof: dict[str, np.ndarray], folds: int, read: int
             ) -> dict[str, Any]:
    """Abstain when P(answerable) is below a threshold set on the training folds at <= 5 %
    false abstention in each set; report held-out caught / false rates."""
    from assistant.abstention import GATE_FEATURES

    x = {it.id: np.asarray(gate_features(it, oof[it.id], read)) for it in items}
    signals = {it.id: (it.relevance, _top_cosine(it, oof[it.id], read)) for it in items}
    abstains: dict[str, bool] = {}

    def floored(it: Item, floors: tuple[float, float]) -> bool:
        relevance, cosine = signals[it.id]
        return relevance < floors[0] or cosine < floors[1]

    def fit_share(train: list[Item], share: float
                  ) -> tuple[Any, float, tuple[float, float], float]:
        """Floors spending ``share`` of the budget, the gate the rest; and the training
        declined rate (mean over sets) they reach."""
        floors = choose_floors(train, floored, share)
        model = fit_linear(np.asarray([x[it.id] for it in train]),
                           np.asarray([it.answerable for it in train]), GATE_FEATURES)
        thresholds = []
        for name in SETS:  # the floors' false abstentions count against the budget
            yes = [it for it in train if it.answerable and it.set == name]
            allowed = int(np.floor(FALSE_ABSTENTION * 0.8 * len(yes)))
            allowed -= sum(floored(it, floors) for it in yes)
            probs = sorted(float(model.probabilities(x[it.id][None])[0]) for it in yes
                           if not floored(it, floors))
            thresholds.append(probs[allowed] if 0 < allowed < len(probs) else 0.0)
        threshold = min(thresholds)
        declined = [np.mean([floored(it, floors) or float(model.probabilities(
            x[it.id][None])[0]) < threshold for it in train
            if not it.answerable and it.set == name]) for name in SETS]
        return model, threshold, floors, float(np.mean(declined))

    def fit(train: list[Item]) -> tuple[Any, float, tuple[float, float], float]:
        """The split of the budget between floors and gate that declines the most training
        questions (ties: the larger share for the floors, the simpler rule)."""
        fits = [(*fit_share(train, share), share) for share in FLOOR_SHARES]
        best = max(fits, key=lambda f: (round(f[3], 9), f[4]))
        return best[0], best[1], best[2], best[4]

    chosen_floors, chosen_shares = [], []
    for f in range(folds):
        model, threshold, floors, share = fit([it for it in items if fold_of(it, folds) != f])
        chosen_floors.append(floors)
        chosen_shares.append(share)
        for it in items:
            if fold_of(it, folds) == f:
                abstains[it.id] = floored(it, floors) or (
                    float(model.probabilities(x[it.id][None])[0]) < threshold)
    report = {}
    for name in SETS:
        yes = [it for it in items if it.set == name and it.answerable]
        no = [it for it in items if it.set == name and not it.answerable]
        report[name] = {
            "false_abstention": per_fold(yes, folds, lambda it: float(abstains[it.id])),
            "declined": per_fold(no, folds, lambda it: float(abstains[it.id])),
            "false_abstention_pooled": float(np.mean([abstains[it.id] for it in yes])),
            "declined_pooled": float(np.mean([abstains[it.id] for it in no])),
        }
    model, threshold, floors, share = fit(items)
    report["floors_per_fold"] = chosen_floors
    report["floor_share_per_fold"] = chosen_shares
    print(f"floors per fold {chosen_floors}, shares {chosen_shares}; shipped {floors}, "
          f"share {share}", file=sys.stderr)
    global ABSTAINS
    ABSTAINS = abstains
    return {"model": {**model.to_dict(), "threshold": round(threshold, 6)}, "report": report,
            "floors": {"relevance": floors[0], "sentence_cosine": floors[1]}}


STATED_GRID: list[tuple[float, int] | None] = [None, (1.0, 1), (1.0, 3), (0.75, 1), (0.75, 3)]


def choose_stated(items: list[Item], rule_items: list[Item], oof: dict[str, np.ndarray],
                  folds: int, read: int, c: float, gate: dict[str, Any]) -> dict[str, Any]:
    """The "states the answer" rule (``assistant.abstention.states_the_answer``): a best
    sentence holding ``coverage`` of the question's words and an answer of its type overrides
    an abstention. (coverage, how many best sentences) chosen per fold on the training folds
    of the quizzes and the rule sets, for the most right decisions (answer an answerable
    question, decline an unanswerable one; mean over sets); ``ABSTAINS`` is updated with the
    held-out choice. The rule sets' scores and gate decisions come from the scorer and the
    gate fitted on all quiz questions, never on theirs."""
    from assistant.abstention import states_the_answer
    from assistant.question import analyse_question
    from assistant.scorer import LinearModel

    scores = dict(oof)
    if rule_items:
        model = fit_sentences(items, c, read)
        gated = LinearModel.from_dict(gate["model"])
        floors = (gate["floors"]["relevance"], gate["floors"]["sentence_cosine"])
        for it in rule_items:
            scores[it.id] = model.probabilities(it.features) if len(it.texts) else np.zeros(0)
            ABSTAINS[it.id] = (
                it.relevance < floors[0] or _top_cosine(it, scores[it.id], read) < floors[1]
                or float(gated.probabilities(np.asarray(
                    [gate_features(it, scores[it.id], read)]))[0]) < gate["model"]["threshold"])
    pool = items + rule_items
    analyses = {it.id: analyse_question(it.question) for it in pool}

    def states(it: Item, params: tuple[float, int]) -> bool:
        order = [i for i in np.argsort(-scores[it.id]) if it.ranks[i] < read][:params[1]]
        return states_the_answer(it.question, analyses[it.id], [
            it.texts[i] for i in order if not it.windowed or it.windowed[i]], params[0])

    fired = {(it.id, p): states(it, p) for it in pool for p in STATED_GRID if p is not None}

    def abstains(it: Item, params: tuple[float, int] | None) -> bool:
        return bool(ABSTAINS.get(it.id)) and not (params is not None and fired[(it.id, params)])

    def right(subset: list[Item], params: tuple[float, int] | None) -> float:
        per_set = [np.mean([abstains(it, params) != it.answerable for it in subset
                            if it.set == name]) for name in {it.set for it in subset}]
        return float(np.mean(per_set))

    def best(train: list[Item]) -> tuple[float, int] | None:
        values = {p: right(train, p) for p in STATED_GRID}
        top = max(values.values())
        return next(p for p in STATED_GRID if values[p] >= top - 1e-9)  # ties: the stricter

    chosen: list[Any] = []
    held: dict[str, bool] = {}
    for f in range(folds):
        params = best([it for it in pool if fold_of(it, folds) != f])
        chosen.append(params)
        held.update({it.id: abstains(it, params) for it in pool if fold_of(it, folds) == f})
    report: dict[str, Any] = {"per_fold": chosen}
    for name in [*SETS, *RULE_SETS]:
        yes = [it for it in pool if it.set == name and it.answerable]
        no = [it for it in pool if it.set == name and not it.answerable]
        report[name] = {
            "false_abstention_without": per_fold(yes, folds, lambda it: float(abstains(it, None))),
            "false_abstention": per_fold(yes, folds, lambda it: float(held[it.id])),
            "declined_without": per_fold(no, folds, lambda it: float(abstains(it, None))),
            "declined": per_fold(no, folds, lambda it: float(held[it.id])),
        }
    ABSTAINS.update({it.id: held[it.id] for it in items})
    params = best(pool)
    print(f"stated per fold {chosen}; shipped {params}", file=sys.stderr)
    return {"report": report, "params": None if params is None else {
        "coverage": params[0], "sentences": params[1]}}


# the part of the false-abstention budget the floors may spend, the gate the rest. Half, fixed:
# choosing it on the training folds among 0, 1/2 and all (--floor-shares 0,0.5,1) flipped
# with one question's features and cost held-out false abstention (docs/benchmarks.md)
FLOOR_SHARES: tuple[float, ...] = (0.5,)
RELEVANCE_FLOORS = (0.25, 0.30, 0.35, 0.40)
COSINE_FLOORS = (0.20, 0.25, 0.30, 0.35)


def choose_floors(train: list[Item], floored: Any, share: float) -> tuple[float, float]:
    """The (dense relevance, quoted sentence cosine) floors that decline the most unanswerable
    training questions at <= share x 0.8 x 5 % false abstention in each set; ties go to the
    lower floors. None within budget: the lowest."""
    best: tuple[float, float, float] | None = None
    for rel in RELEVANCE_FLOORS:
        for cos in COSINE_FLOORS:
            caught, within = [], True
            for name in SETS:
                yes = [it for it in train if it.answerable and it.set == name]
                no = [it for it in train if not it.answerable and it.set == name]
                if yes and np.mean([floored(it, (rel, cos)) for it in yes]) > (
                        FALSE_ABSTENTION * 0.8 * share + 1e-9):
                    within = False
                if no:
                    caught.append(np.mean([floored(it, (rel, cos)) for it in no]))
            score = float(np.mean(caught)) if caught else 0.0
            if within and (best is None or score > best[0] + 1e-9):
                best = (score, rel, cos)
    return (best[1], best[2]) if best else (RELEVANCE_FLOORS[0], COSINE_FLOORS[0])


ABSTAINS: dict[str, bool] = {}


def _top_cosine(item: Item, scores: np.ndarray, read: int) -> float:
    """The cosine of the sentence the answer would quote first (the pipeline's floor)."""
    kept = [i for i in range(len(item.texts)) if item.ranks[i] < read]
    return float(item.features[max(kept, key=lambda i: scores[i]), 0]) if kept else 0.0
HOLDERS: dict[str, tuple[str, int]] = {}  # question -> (held-out span, its sentence index)


def compose_with_span(item: Item, scores: np.ndarray, read: int, ratio: float
                      ) -> tuple[list[int], str]:
    """assistant/composition.py's choice: the span's sentence, then the best sentence when it
    is another one of the same article or names the span too, else one naming the same span
    or from the same article close in score."""
    if item.id not in HOLDERS or item.kind not in FACTOID:
        return compose(item, scores, read, ratio), ""
    span, holder = HOLDERS[item.id]
    order = [i for i in np.argsort(-scores) if item.ranks[i] < read]
    pattern = re.compile(rf"(?<!\w){re.escape(span)}(?!\w)", re.I)
    same = [i for i in order[:8] if i != holder and item.texts[i] != item.texts[holder]
            and pattern.search(item.texts[i])]
    close = [i for i in order[:4] if i != holder and item.texts[i] != item.texts[holder]
             and scores[i] >= ratio * scores[holder]
             and item.articles[i] == item.articles[holder]]
    from assistant.scorer import ANAPHORA

    top = order[0] if order else holder
    if item.contexts[top] == item.texts[holder] and ANAPHORA.match(item.texts[top]):
        return [top], span  # quoted with its antecedent, the span's sentence
    if top != holder and item.texts[top] != item.texts[holder] and (
            item.articles[top] == item.articles[holder] or pattern.search(item.texts[top])):
        return [holder, top], span
    return [holder, *(same or close)[:1]], span


def fit_spans(items: list[Item], oof: dict[str, np.ndarray], folds: int, read: int,
              cache: Path) -> dict[str, Any]:
    """Span candidates of each question's best sentences (out-of-fold order), a logistic
    regression on them (positive = the span equals the reference), held-out EM / F1."""
    from assistant.answer_span import (
        DEMONYM_ENDINGS,
        PEOPLE_TYPES,
        SPAN_FEATURES,
        SPAN_RATIO,
        SPAN_SENTENCES,
        SpanEvidence,
        answering,
        may_name_a_place,
        neighbours,
        parse_pieces,
        span_candidates,
        span_pool,
        typed_question,
        typed_sentences,
    )
    from assistant.composition import SUPPORT_SENTENCES
    from assistant.evaluation.metrics import exact_match, token_f1
    from assistant.question import analyse_question
    from assistant.scorer import content_words

    parsed_path = cache / f"pieces-{_code_stamp()}.pkl"
    parsed: dict[str, Any] = pickle.loads(parsed_path.read_bytes()) if parsed_path.exists() else {}
    rows: dict[str, tuple[list[Any], np.ndarray, np.ndarray]] = {}
    tops: dict[str, list[int]] = {}
    places: dict[str, list[int]] = {}  # candidate sentence index -> item sentence index
    fallback: dict[str, tuple[list[Any], np.ndarray]] = {}  # spans of deeper sentences
    fallback_places: dict[str, list[int]] = {}
    for it in items:
        scores = oof[it.id]
        order = [i for i in np.argsort(-scores) if it.ranks[i] < read][:SPAN_SENTENCES]
        tops[it.id] = [i for i in order if scores[i] >= SPAN_RATIO * scores[order[0]]]
    todo = sorted({it.texts[i] for it in items for i in tops[it.id]} - set(parsed))
    if todo:
        started = time.perf_counter()
        for text, pieces in zip(todo, parse_pieces(todo), strict=True):
            parsed[text] = pieces
        print(f"parsed {len(todo)} sentences in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        parsed_path.write_bytes(pickle.dumps(parsed))
    # the other sentences of the best ones' articles, as assistant/composition.py reads them,
    # parsed where they may name the place of a people a best sentence names
    support: dict[str, list[int]] = {}
    for it in items:
        scores = oof[it.id]
        articles = {it.articles[i] for i in tops[it.id]}
        texts = {it.texts[i] for i in tops[it.id]}
        support[it.id] = []
        for i in np.argsort(-scores):
            if (it.ranks[i] < read and it.articles[i] in articles and it.texts[i] not in texts
                    and len(support[it.id]) < SUPPORT_SENTENCES):
                texts.add(it.texts[i])
                support[it.id].append(int(i))
    todo_support = set()
    for it in items:
        sentences = [it.texts[i] for i in tops[it.id]]
        peoples = [c.text for c in span_candidates(sentences, [parsed[t] for t in sentences],
                                                   set())
                   if c.label in PEOPLE_TYPES and c.text.endswith(DEMONYM_ENDINGS)]
        if peoples:
            todo_support |= {it.texts[i] for i in support[it.id]
                             if may_name_a_place(it.texts[i], peoples)} - set(parsed)
    if todo_support:
        todo = sorted(todo_support)
        for text, pieces in zip(todo, parse_pieces(todo), strict=True):
            parsed[text] = pieces
        parsed_path.write_bytes(pickle.dumps(parsed))
    for it in items:
        sentences = [it.texts[i] for i in tops[it.id]]
        analysis = analyse_question(it.question)
        qwords = content_words(it.question) | {w.lower() for e in analysis.entities
                                               for w in e.split()}
        cands, feats = span_pool(analysis, SpanEvidence(
            sentences, [float(oof[it.id][i]) for i in tops[it.id]],
            titles=[it.titles[i] for i in tops[it.id]], known=parsed,
            support=[it.texts[i] for i in support[it.id]],
        ), qwords)
        for name in WITHOUT:
            if name in SPAN_FEATURES:
                feats[:, SPAN_FEATURES.index(name)] = 0.0
        labels = np.asarray([bool(it.answer) and exact_match(c.text, it.answer) == 1.0
                             for c in cands], dtype=bool)
        rows[it.id] = (cands, feats, labels)
        places[it.id] = tops[it.id] + support[it.id]
    # as assistant/composition.py does: when the best sentences hold no date or amount of the
    # kind asked for, the answer phrase comes from the next ones of their articles that do
    def looks_deeper(it: Item, cands: list[Any], where: list[int]) -> bool:
        """As assistant/composition.py: no candidate of the asked type, or none next to
        the asked verb or role."""
        analysis = analyse_question(it.question)
        texts = [it.texts[i] for i in where]
        if analysis.verb or analysis.role:
            return not neighbours(analysis, cands, texts)
        return typed_question(analysis) and not answering(analysis, cands, texts)

    untyped = [it for it in items if looks_deeper(it, rows[it.id][0], places[it.id])]
    todo = sorted({it.texts[i] for it in untyped for i in support[it.id]} - set(parsed))
    if todo:
        for text, pieces in zip(todo, parse_pieces(todo), strict=True):
            parsed[text] = pieces
        parsed_path.write_bytes(pickle.dumps(parsed))
    for it in untyped:
        analysis = analyse_question(it.question)
        qwords = content_words(it.question) | {w.lower() for e in analysis.entities
                                               for w in e.split()}
        deeper = [support[it.id][i] for i in typed_sentences(
            analysis, [it.texts[i] for i in support[it.id]], parsed, qwords)]
        if not deeper:
            continue
        cands, feats = span_pool(analysis, SpanEvidence(
            [it.texts[i] for i in deeper], [float(oof[it.id][i]) for i in deeper],
            titles=[it.titles[i] for i in deeper], known=parsed), qwords)
        for name in WITHOUT:
            if name in SPAN_FEATURES:
                feats[:, SPAN_FEATURES.index(name)] = 0.0
        fallback[it.id] = (cands, feats)
        fallback_places[it.id] = deeper

    def fit(train: list[Item]) -> Any:
        x = np.concatenate([rows[it.id][1] for it in train if len(rows[it.id][0])])
        y = np.concatenate([rows[it.id][2] for it in train if len(rows[it.id][0])])
        return fit_linear(x, y, SPAN_FEATURES)

    for f in range(folds):
        model = fit([it for it in items if fold_of(it, folds) != f and it.answerable])
        for it in items:
            cands, feats, _ = rows[it.id]
            where = places[it.id]
            analysis = analyse_question(it.question)
            keep = answering(analysis, cands, [it.texts[i] for i in where])
            if it.id in fallback and looks_deeper(it, cands, where):
                (cands, feats), where = fallback[it.id], fallback_places[it.id]
                keep = answering(analysis, cands, [it.texts[i] for i in where])
            if fold_of(it, folds) != f or not keep or it.kind not in FACTOID:
                continue
            best = cands[keep[int(np.argmax(model.probabilities(feats[keep])))]]
            HOLDERS[it.id] = (best.text, where[best.sentence])
    answerable = [it for it in items if it.answerable]
    report: dict[str, Any] = {}
    for name in SETS:
        yes = [it for it in answerable if it.set == name]
        report[name] = {
            "span_em": per_fold(yes, folds, lambda it: exact_match(_shown(it, HOLDERS),
                                                                   it.answer)),
            "span_f1": per_fold(yes, folds, lambda it: token_f1(_shown(it, HOLDERS), it.answer)),
            "span_shown": per_fold(yes, folds, lambda it: float(bool(_shown(it, HOLDERS)))),
            "span_ceiling": per_fold(yes, folds, lambda it: float(rows[it.id][2].any())),
        }
    return {"model": fit(answerable).to_dict(), "report": report}


def _shown(item: Item, chosen: dict[str, tuple[str, int]]) -> str:
    """The span an answer shows: none when the gate abstained (held-out decisions)."""
    return "" if ABSTAINS.get(item.id) or item.id not in chosen else chosen[item.id][0]


def render(results: dict[str, Any], folds: int) -> str:
    def cell(pair: Any) -> str:
        return f"{pair[0]:.3f} ± {pair[1]:.3f}"

    floors = results["gate"].get("floors_per_fold", [])
    shares = results["gate"].get("floor_share_per_fold", [])
    rows = []
    for name in SETS:
        r, g, s = results[name], results["gate"][name], results["span"][name]
        rows.append([name, cell(r["baseline_top2"]), cell(r["learned_top1"]),
                     cell(r["learned_composed"]), cell(r["answer_with_span"]), cell(r["ceiling"]),
                     cell(g["false_abstention"]), cell(g["declined"]), cell(s["span_em"]),
                     cell(s["span_f1"]), cell(s["span_ceiling"])])
    from benchmarks._docs import markdown_table

    headers = ["set", "hand-set scorer, 2 sentences", "learned, top sentence",
               "learned, composed", "answer: span first + quotes, gate applied",
               "ceiling (a read sentence holds it)", "false abstention",
               "unanswerable declined", "span EM", "span F1", "span ceiling"]
    choice = results["choice"]
    return (
        "## Learned sentence scorer, answer span and abstention gate (cross-validated)\n\n"
        "```\npython benchmarks/train_scorer.py\n```\n\n"
        f"{folds}-fold cross-validation, folds by question over rtqa-dev and rtqa-full-dev "
        "pooled; every number is measured on held-out folds only (mean ± standard deviation "
        "over the folds), each question retrieved as of its date. *contains*: the normalised "
        "reference occurs in the quoted sentence(s). The abstention floors (dense relevance "
        "of the top hit, cosine of the quoted sentence) are chosen on the training folds to "
        "decline the most unanswerable questions within half of a ≤ 4 % false-abstention "
        "budget in each set; the learned gate's threshold spends the rest. Span EM / F1 "
        "count abstentions as empty answers.\n\n"
        f"{markdown_table(headers, rows)}\n\n"
        f"Chosen on held-out folds: sentences of the top {choice['read']} passages, "
        f"C = {choice['C']}; a second sentence from the same article when its probability is "
        f"≥ {choice['ratio']} × the best one's. Abstention floors per fold (relevance, "
        f"sentence cosine): {', '.join(f'{a:.2f}/{b:.2f}' for a, b in floors)}; their share "
        f"of the budget per fold: {', '.join(str(x) for x in shares)}. Weights: "
        "`assistant/scorer_weights.json`.\n"
    )


if __name__ == "__main__":
    main()
