"""Shared helpers of the retrieval benchmarks: data sets, cached indexes, metrics, tables."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# the shared data next to the checkout or its worktree parent (benchmarks/_docs.py);
# NEWS_ASSISTANT_BENCH_DATA=/work/shared/data overrides
from benchmarks._docs import SHARED_DATA  # noqa: E402

DATA = Path(os.environ.get("NEWS_ASSISTANT_BENCH_DATA") or SHARED_DATA)
SETS = ("rtqa-dev", "rtqa-full-dev")
OWN_DATA = Path(__file__).resolve().parent / "data"  # sets written for this project


def set_dir(name: str) -> Path:
    """A question set's folder: ``benchmarks/data/<name>`` for a set written for this project
    (articles and questions of our own), else ``../shared/data/<name>``."""
    own = OWN_DATA / name
    return own if (own / "questions.jsonl").exists() else DATA / name


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    evidence: tuple[str, ...]
    date: str

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


def load_questions(name: str) -> list[Question]:
    rows = [json.loads(line) for line in (set_dir(name) / "questions.jsonl").open()
            if line.strip()]
    return [
        Question(r["id"], r["question"], tuple(r.get("evidence") or ()), r.get("date", ""))
        for r in rows
    ]


class CachedModel:
    """A model whose vectors are kept on disk by text (and kind: passage or query), so that
    the indexes of several embedders and the benchmark's reruns embed each text once. The
    name is the model's: an index built through it is that model's index."""

    def __init__(self, model: Any, path: Path) -> None:
        self.model, self.path = model, path
        self.name, self.max_tokens = model.name, model.max_tokens
        self.count_tokens = model.count_tokens
        self.dimension = getattr(model, "dimension", None)
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as saved:
                self.vectors = dict(zip(saved["keys"].tolist(), saved["vectors"], strict=True))
        self.dirty = False

    def _get(self, texts: Sequence[str], kind: str, embed: Any) -> np.ndarray:
        keys = [hashlib.sha1(f"{kind}\x1f{t}".encode()).hexdigest() for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts, strict=True)
                       if k not in self.vectors}.items())
        if todo:
            for (k, _), v in zip(todo, embed([t for _, t in todo]), strict=True):
                self.vectors[k] = np.asarray(v, dtype=np.float32)
            self.dirty = True
        if not keys:
            return np.zeros((0, self.dimension or 384), dtype=np.float32)
        return np.asarray([self.vectors[k] for k in keys], dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._get(texts, "p", self.model.embed)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        from ingest.embedding import embed_queries

        return self._get(texts, "q", lambda t: embed_queries(self.model, t))

    def save(self) -> None:
        if self.dirty:
            keys = list(self.vectors)
            tmp = self.path.with_suffix(".tmp.npz")
            np.savez(tmp, keys=np.asarray(keys), vectors=np.asarray([self.vectors[k]
                                                                     for k in keys]))
            tmp.replace(self.path)
            self.dirty = False


_MODELS: dict[str, CachedModel] = {}


def cached_embedder(spec: str, cache: Path | None) -> Any:
    """The embedder ``spec`` (minilm, e5, minilm+e5) over on-disk caches of its models'
    vectors (in ``cache``; in memory only without one)."""
    from ingest.embedding import CombinedEmbedder, default_embedder, e5_embedder

    def model(name: str) -> CachedModel:
        if name not in _MODELS:
            inner = default_embedder() if name == "minilm" else e5_embedder()
            where = (cache or Path("/nonexistent")) / f"vectors-{inner.name}.npz"
            _MODELS[name] = CachedModel(inner, where)
        return _MODELS[name]

    if spec == "minilm+e5":
        return CombinedEmbedder(model("minilm"), model("e5"))
    return model(spec)


def save_vector_caches(cache: Path | None) -> None:
    if cache:
        for m in _MODELS.values():
            m.save()


def open_bot(name: str, cache: Path | None, embedder: str = "minilm", **settings: Any) -> Any:
    """A ``NewsAssistant`` over the data set's articles, embedded by ``embedder`` (through the
    vector cache), ingested once into ``cache`` (or a fresh temporary directory)."""
    import tempfile

    from assistant import NewsAssistant
    from assistant.config import Settings

    articles = set_dir(name) / "articles.jsonl"
    stamp = hashlib.sha1(articles.read_bytes()).hexdigest()[:10]
    root = cache if cache else Path(tempfile.mkdtemp(prefix="bench-"))
    index = root / f"{name}-{stamp}-{embedder}"
    bot = NewsAssistant(index=index, settings=Settings.from_env(env={}, embedder=embedder,
                                                                **settings),
                        embedder=cached_embedder(embedder, cache))
    if not (index / "done").exists():
        started = time.perf_counter()
        report = bot.ingest([articles])
        assert report.ok, report.failed
        (index / "done").write_text(report.summary())
        save_vector_caches(cache)
        print(
            f"  indexed {name}: {report.summary()} in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
    return bot


def ranked_articles(article_ids: Iterable[str], k: int = 10) -> list[str]:
    out: list[str] = []
    for article_id in article_ids:
        if article_id not in out:
            out.append(article_id)
            if len(out) == k:
                break
    return out


def rank_metrics(
    rankings: Sequence[Sequence[str]], questions: Sequence[Question]
) -> dict[str, float]:
    """Hits@1/5/10 and MRR@10 over answerable questions (article level)."""
    hits = {1: 0.0, 5: 0.0, 10: 0.0}
    mrr = 0.0
    n = 0
    for ranking, q in zip(rankings, questions, strict=True):
        if not q.answerable:
            continue
        n += 1
        rank = next((i + 1 for i, a in enumerate(ranking[:10]) if a in q.evidence), None)
        if rank:
            mrr += 1.0 / rank
            for k in hits:
                hits[k] += rank <= k
    n = max(n, 1)
    return {"h1": hits[1] / n, "h5": hits[5] / n, "h10": hits[10] / n, "mrr": mrr / n}


def threshold_at(answerable: Sequence[float], rate: float) -> float:
    """Largest threshold that abstains on at most ``rate`` of the answerable questions
    (abstain when signal < threshold)."""
    values = np.sort(np.asarray(answerable, dtype=float))
    allowed = int(np.floor(rate * len(values)))
    return float(values[allowed]) if allowed < len(values) else float(values[-1]) + 1e-6


def abstention(
    signal_ans: Sequence[float], signal_un: Sequence[float], threshold: float
) -> tuple[float, float]:
    """(caught share of unanswerable, false share of answerable) for ``signal < threshold``."""
    caught = float(np.mean([s < threshold for s in signal_un])) if len(signal_un) else 0.0
    false = float(np.mean([s < threshold for s in signal_ans])) if len(signal_ans) else 0.0
    return caught, false


def auroc(signal_ans: Sequence[float], signal_un: Sequence[float]) -> float:
    """Probability that an answerable question scores above an unanswerable one."""
    a, u = np.asarray(signal_ans), np.asarray(signal_un)
    if not len(a) or not len(u):
        return float("nan")
    greater = (a[:, None] > u[None, :]).mean()
    ties = (a[:, None] == u[None, :]).mean()
    return float(greater + 0.5 * ties)


def percentiles(values_ms: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray(values_ms, dtype=float)
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 95))


def table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def rss_mb() -> float:
    """Peak resident set size of this process in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


from benchmarks._docs import DOC, update_section  # noqa: E402, F401  (re-exported)


def forget_memos(*embedders: Any) -> None:
    """Make the next embed, parse and split do the work: MiniLM remembers the vectors of
    texts it has seen (a question too), the sentence parse its pieces, and the splitter, the
    duplicate folding and the sentence scorer what they read, so timing the raw embedder and
    then an ingest of the same texts, or a search and then an answer to the same question,
    would time the second against a warm memo."""
    from assistant import retrieval, scorer
    from ingest import sentence_pieces, sentences

    sentence_pieces.forget()
    sentences.forget()
    scorer.forget()
    retrieval.shingles.cache_clear()
    for embedder in embedders:
        for part in (embedder, getattr(embedder, "first", None), getattr(embedder, "second", None)):
            forget = getattr(part, "forget", None)
            if forget is not None:
                forget()
