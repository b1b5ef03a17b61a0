"""A learned ranker against the shipped fusion, held out (issue 15: does anything beyond the
CV-chosen linear fusion pay?).

    python benchmarks/learned_ranker.py --cache /work/scratch/bench15 [--no-write]

The real retriever (shipped configuration) gives each answerable question's candidate pool,
without and with ``as_of``. Per candidate, features within its question: z-scored and raw
cosine of each model, the best cosine of the passage's sentences (the vectors stored at
ingest, the first model's), BM25 min-max- and z-scored and whether BM25 found it at all, the
share of the question's names in the passage, and two recency priors. A logistic regression (each
question weighted equally) is fitted on 4 folds of questions and ranks the 5th; MRR@10 is
article-level, over the first 10 distinct articles. The shipped fusion's figure on the same
folds is in-sample (its weights were refitted on all questions); its cross-validated figure is
in the "retrieval" section. Reads ../shared/data; writes the "learned-ranker" section.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.retrieval import normalise, zscores
from benchmarks.common import load_questions, open_bot, table, update_section

SETS = ("rtqa-dev", "rtqa-full-dev")


def _best_sentence(cand: Any, query: np.ndarray) -> list[float]:
    """Per model, the best cosine of the passage's stored sentence vectors; they are the first
    model's (MiniLM's), so the other models keep the chunk's cosine, as does a passage
    without them."""
    own = list(cand.cosines) if cand.cosines else [cand.cosine]
    vectors = cand.sentences.vectors if cand.sentences is not None else None
    if vectors is None or not len(vectors) or vectors.shape[1] > query.shape[0]:
        return own
    q = query[: vectors.shape[1]]
    norms = np.linalg.norm(vectors, axis=1) * max(float(np.linalg.norm(q)), 1e-9)
    return [float((vectors @ q / np.maximum(norms, 1e-9)).max()), *own[1:]]


def features(cands: list[Any], query: np.ndarray, names: list[str], ages: list[float]
             ) -> tuple[np.ndarray, list[str]]:
    """One row per candidate (see the module docstring) and the column names."""
    parts = len(cands[0].cosines) or 1
    cos = np.asarray([c.cosines or (c.cosine,) for c in cands], dtype=np.float64)
    sent = np.asarray([_best_sentence(c, query) for c in cands], dtype=np.float64)
    bm25 = np.asarray([c.bm25 for c in cands], dtype=np.float64)
    age = np.maximum(np.asarray(ages, dtype=np.float64), 0.0)
    found = [sum(n in (str(c.meta.get("title", "")) + " " + c.text).lower() for n in names)
             / len(names) if names else 0.0 for c in cands]
    cols: dict[str, np.ndarray] = {}
    for j in range(parts):
        cols[f"z cosine {j}"], cols[f"cosine {j}"] = zscores(cos[:, j]), cos[:, j]
        if j == 0:  # sentence vectors are the first model's
            cols["z best sentence"] = zscores(sent[:, 0])
    cols |= {"BM25 min-max": np.asarray(normalise(list(bm25))), "BM25 z": zscores(bm25),
             "BM25 found it": (bm25 > 0).astype(np.float64),
             "question's names": np.asarray(found), "recency 30 d": np.exp(-age / 30),
             "recency 7 d": np.exp(-age / 7)}
    return np.column_stack(list(cols.values())), list(cols)


def collect(embedder: str, cache: Path) -> list[dict[str, Any]]:
    from assistant.question import analyse_question
    from assistant.retrieval import without_phrase
    from assistant.timewords import parse_as_of, resolve_time_expression

    pools = []
    for name in SETS:
        retriever = open_bot(name, cache, embedder=embedder).retriever
        for q in (q for q in load_questions(name) if q.evidence):
            names = [e.lower() for e in analyse_question(q.question).entities]
            for dated in (False, True):
                day = parse_as_of(q.date if dated else None)
                found = retriever.retrieve(q.question, k=10, max_per_article=1,
                                           as_of=q.date if dated else None).candidates
                if not found:
                    continue
                when = resolve_time_expression(q.question, day)
                vector = retriever.embed_query(without_phrase(q.question, when.phrase)
                                               if when else q.question)
                ages = [(day - c.published).days if c.published else 10_000.0 for c in found]
                x, columns = features(found, vector, names, ages)
                pools.append({
                    "set": name, "id": q.id, "dated": dated, "x": x, "columns": columns,
                    "shipped": np.asarray([c.fused for c in found]),
                    "articles": [str(c.meta.get("article_id", "")) for c in found],
                    "evidence": set(q.evidence)})
    return pools


def reciprocal_rank(scores: np.ndarray, pool: dict[str, Any]) -> float:
    best: dict[str, float] = {}
    for score, article in zip(scores, pool["articles"], strict=True):
        best[article] = max(best.get(article, -np.inf), float(score))
    ranked = sorted(best, key=lambda a: -best[a])[:10]
    return next((1.0 / (i + 1) for i, a in enumerate(ranked) if a in pool["evidence"]), 0.0)


def cross_validate(pools: list[dict[str, Any]], folds: int) -> tuple[list[float], Any]:
    from sklearn.linear_model import LogisticRegression

    def fit(train: list[dict[str, Any]]) -> Any:
        x = np.vstack([p["x"] for p in train])
        y = np.concatenate([[a in p["evidence"] for a in p["articles"]] for p in train])
        w = np.concatenate([np.full(len(p["articles"]), 1.0 / len(p["articles"]))
                            for p in train])
        mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
        model = LogisticRegression(C=1.0, max_iter=3000).fit((x - mean) / std, y,
                                                             sample_weight=w / w.mean())
        return model, mean, std

    held = [0.0] * len(pools)
    for f in range(folds):
        model, mean, std = fit([p for p in pools if fold_of(p, folds) != f])
        for i, p in enumerate(pools):
            if fold_of(p, folds) == f:
                held[i] = reciprocal_rank(model.decision_function((p["x"] - mean) / std), p)
    return held, fit(pools)


def fold_of(pool: dict[str, Any], folds: int) -> int:
    return int(hashlib.sha1(pool["id"].encode()).hexdigest(), 16) % folds


def summary(pools: list[dict[str, Any]], values: list[float], folds: int, name: str,
            dated: bool) -> str:
    means = [np.mean([v for p, v in zip(pools, values, strict=True)
                      if p["set"] == name and p["dated"] == dated and fold_of(p, folds) == f])
             for f in range(folds)]
    return f"{np.mean(means):.3f} ± {np.std(means):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--embedders", default="minilm,minilm+e5")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows, weights = [], []
    for embedder in args.embedders.split(","):
        pools = collect(embedder, args.cache)
        held, (model, _, _) = cross_validate(pools, args.folds)
        shipped = [reciprocal_rank(p["shipped"], p) for p in pools]
        for label, values in (("shipped fusion (in-sample)", shipped),
                              ("learned ranker (held out)", held)):
            rows.append([f"{embedder}: {label}", *(
                summary(pools, values, args.folds, name, dated)
                for name in SETS for dated in (False, True))])
        weights.append(f"{embedder}: " + ", ".join(
            f"{c} {w:+.2f}" for c, w in zip(pools[0]["columns"], model.coef_[0], strict=True)))
    headers = ["system", *(f"{n} {'as_of' if d else 'no as_of'} MRR@10"
                           for n in SETS for d in (False, True))]
    body = (
        "## A learned ranker against the shipped fusion (issue 15)\n\n"
        f"Command: `python benchmarks/learned_ranker.py --cache DIR` ({args.folds}-fold "
        "cross-validation by question; mean ± std over folds). Features per candidate, "
        "within its question: each model's z-scored and raw cosine, the z-scored best "
        "cosine of its stored sentence vectors, BM25 (min-max, z, found at all), the share "
        "of the question's names in the passage, recency exp(-age/30 d) and exp(-age/7 d). "
        "The shipped fusion's row uses its weights refitted on all questions (in-sample); "
        "its held-out figures are in the retrieval section.\n\n"
        f"{table(headers, rows)}\n\nWeights refitted on all questions (standardised "
        "features):\n\n" + "\n".join(f"- {w}" for w in weights) + "\n")
    print(body)
    if not args.no_write:
        update_section("learned-ranker", body)


if __name__ == "__main__":
    main()
