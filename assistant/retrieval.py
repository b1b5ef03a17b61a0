"""Find passages for a query: dense (Chroma) and BM25 candidates fused by weighted min-max
scores, a recency prior relative to ``as_of``, relative-date filters, near-duplicate
suppression and a per-article cap. Weights are chosen by ``benchmarks/retrieval.py``."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from assistant.config import RetrievalConfig
from assistant.errors import InvalidRequest
from assistant.results import Passage, passage_from_metadata
from assistant.timewords import TimeScope, parse_as_of, resolve_time_expression
from ingest.cleaning import date_key
from ingest.embedding import Embedder, embed_queries, part_cosines, vector_parts
from ingest.lexical import LexicalRun, StoredPassage
from ingest.sentence_vectors import SentenceVectors
from ingest.store import NewsStore

OVERFETCH = 4  # candidates per wanted passage, so the per-article cap still fills k


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to outlets and a date span (inclusive ISO dates)."""

    sources: tuple[str, ...] = ()
    since: str = ""
    until: str = ""

    @classmethod
    def from_mapping(cls, filters: Mapping[str, Any] | Filters | None) -> Filters:
        if filters is None:
            return cls()
        if isinstance(filters, Filters):
            return filters
        unknown = set(filters) - {"source", "sources", "since", "until"}
        if unknown:
            raise InvalidRequest(f"unknown filter(s) {sorted(unknown)}: use source, since, until")
        raw = filters.get("source") or filters.get("sources") or ()
        sources = (raw,) if isinstance(raw, str) else tuple(raw)
        since, until = _iso(filters.get("since"), "since"), _iso(filters.get("until"), "until")
        if since and until and since > until:
            raise InvalidRequest(f"Since is after Until: no article can match "
                                 f"(since {since}, until {until})")
        return cls(sources=sources, since=since, until=until)

    def to_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.since:
            clauses.append({"published_key": {"$gte": date_key(self.since)}})
        if self.until:
            clauses.append({"published_key": {"$lte": date_key(self.until)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def __bool__(self) -> bool:
        return bool(self.sources or self.since or self.until)

    def admits(self, meta: Mapping[str, Any]) -> bool:
        """Whether a passage with this metadata passes the filters."""
        if self.sources and meta.get("source") not in self.sources:
            return False
        key = int(meta.get("published_key", 0) or 0)
        if self.since and key < date_key(self.since):
            return False
        return not (self.until and key > date_key(self.until))


def _iso(value: Any, name: str) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise InvalidRequest(
            f"filter {name!r}: {value!r} is not an ISO date (YYYY-MM-DD)") from None


@dataclass
class Candidate:
    """A passage found by either retriever, with both raw scores."""

    chunk_id: str
    text: str
    meta: dict[str, Any]
    cosine: float
    bm25: float = 0.0
    fused: float = 0.0
    article_cosine: float | None = None  # of the whole article's mean vector
    loaded: bool = False  # text and metadata known
    # with a vector of several models' (minilm+e5): each model's cosines; ``cosine`` is then
    # the first model's (the abstention signal stays on the scale it was calibrated on)
    cosines: tuple[float, ...] = ()
    article_cosines: tuple[float, ...] = ()
    sentences: SentenceVectors | None = None  # stored at ingest, from the read copy

    def dense_score(self, article_weight: float) -> float:
        """Chunk cosine, blended with the article's when known (a no-op for one-chunk
        articles, whose mean vector is the chunk's)."""
        if self.article_cosine is None or article_weight <= 0:
            return self.cosine
        return (1.0 - article_weight) * self.cosine + article_weight * self.article_cosine

    def part_scores(self, article_weight: float) -> tuple[float, ...]:
        """``dense_score`` of each model of a combined vector."""
        arts = self.article_cosines or (None,) * len(self.cosines)
        return tuple(c if a is None or article_weight <= 0
                     else (1.0 - article_weight) * c + article_weight * a
                     for c, a in zip(self.cosines, arts, strict=True))

    @property
    def published(self) -> date | None:
        key = int(self.meta.get("published_key", 0) or 0)
        if key <= 0:
            return None
        try:
            return date(key // 10000, key // 100 % 100, key % 100)
        except ValueError:
            return None


@dataclass
class Retrieval:
    """Ranked passages plus what the abstention check needs."""

    passages: list[Passage]
    relevance: float  # best dense cosine (inside the time window when as_of is given)
    scope: TimeScope | None = None  # the relative date expression that was applied
    candidates: list[Candidate] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    relevance_since: date | None = None  # the window's start: what ``relevance`` counted


class HybridRetriever:
    """Dense + BM25 retrieval over one ``NewsStore``."""

    def __init__(self, store: NewsStore, embedder: Embedder,
                 config: RetrievalConfig | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self.sizes = tuple(size for _, size in vector_parts(embedder))  # () for one model

    def embed_query(self, query: str) -> np.ndarray:
        return embed_queries(self.embedder, [query])[0]

    def search(self, query: str, *, k: int, filters: Filters | None = None,
               max_per_article: int = 2, vector: np.ndarray | None = None,
               as_of: date | datetime | str | None = None) -> list[Passage]:
        """The ``k`` best passages (see ``retrieve``)."""
        return self.retrieve(query, k=k, filters=filters, max_per_article=max_per_article,
                             vector=vector, as_of=as_of).passages

    def retrieve_collapsed(self, query: str, *, k: int, filters: Filters | None = None,
                           max_per_article: int = 2, vector: np.ndarray | None = None,
                           as_of: date | datetime | str | None = None) -> Retrieval:
        """``retrieve``, then copies of one syndicated story folded into one
        (``assistant.syndication``), fetching more when folding left fewer than ``k``: what
        both ``NewsAssistant.search`` and the answer pipeline use."""
        from assistant.syndication import collapse_syndicated

        wanted = k
        while True:  # at most twice: copies of one story fold into one, so fetch more
            retrieval = self.retrieve(query, k=wanted, filters=filters,
                                      max_per_article=max_per_article, vector=vector,
                                      as_of=as_of)
            passages = collapse_syndicated(retrieval.passages, self.store)
            if len(passages) >= k or len(retrieval.passages) < wanted or wanted > k:
                return replace(retrieval, passages=passages[:k])
            wanted += k - len(passages)

    def retrieve(self, query: str, *, k: int, filters: Filters | None = None,
                 max_per_article: int = 2, vector: np.ndarray | None = None,
                 as_of: date | datetime | str | None = None) -> Retrieval:
        """Passages for ``query`` as of a date (default today).

        A relative date expression in the query ("this week", "in March") sets the earliest
        publication date unless ``filters`` sets ``since`` or ``until``; an explicit ``as_of``
        drops articles published after it. Articles get a recency bonus relative to as_of.
        """
        started = time.perf_counter()
        config = self.config
        filters = filters or Filters()
        day = parse_as_of(as_of)
        named = resolve_time_expression(query, day)
        scope = None if (filters.since or filters.until) else named
        cap = day if as_of is not None else None
        effective = _time_filters(filters, scope, cap, config.time_slack_days)
        # "this week" says when, not what: leave it out of the text that is matched
        query = without_phrase(query, named.phrase) if named else query
        if config.use_dense and (vector is None or named):
            vector = self.embed_query(query)
        embedded = time.perf_counter()
        n = max(config.candidates, k * OVERFETCH)
        dense = self._dense(vector, n, filters)
        # the look-back window behind the abstention signal (when as_of is given)
        window = (day - timedelta(days=config.window_days)).isoformat() if cap else ""
        pool = self._pool(query, vector, dense, effective, window if scope is None else "", n, k)
        if scope is not None and not _relevant_enough(pool, config.span_min_relevance):
            # "this week" is a prior, not a wall: nothing relevant in the span (a stale index,
            # or news older than the phrase says), so rank everything by the recency prior
            scope, effective = None, _time_filters(filters, None, cap, 0)
            pool = self._pool(query, vector, dense, effective, window, n, k)
        found = time.perf_counter()
        ranked = rank_candidates(list(pool.values()), config, day)
        top = 1.0 + max(config.recency_weight, 0.0)  # scores shown in [0, 1]
        folded = suppress_duplicates(ranked, config.duplicate_jaccard,
                                     window_days=config.fold_window_days)
        passages = top_passages(folded, top, max_per_article, k)
        since = relevance_window_start(cap, scope, config.window_days)
        relevance = abstention_signal(ranked, since)
        done = time.perf_counter()
        return Retrieval(passages, relevance, scope, ranked, timings_ms={
            "embed": (embedded - started) * 1000, "candidates": (found - embedded) * 1000,
            "rank": (done - found) * 1000}, relevance_since=since)

    # ---- candidates --------------------------------------------------------------------
    def _dense(self, vector: np.ndarray | None, n: int, filters: Filters) -> dict[str, Candidate]:
        """Nearest passages (text and metadata only without the lexical index, else loaded
        with BM25's in ``_pool``). Only the user's own
        filters go to Chroma: a filtered Chroma query costs ~200 ms at 100k passages against
        ~2 ms unfiltered, so spans derived from as_of or a date expression are applied to these
        candidates afterwards (BM25 filters natively)."""
        if not self.config.use_dense or vector is None:
            return {}
        # With the lexical index's read copies, ids and distances are all Chroma must send
        found = self.store.nearest_passages(  # n may exceed the count: Chroma returns fewer
            vector.tolist(), n, where=filters.to_where(),
            with_records=self.store.lexical is None)
        pool = {}
        for record in found:
            cand = Candidate(record.chunk_id, "", {}, record.cosine)
            if record.loaded:
                cand.text, cand.meta, cand.loaded = record.text, dict(record.meta), True
            pool[record.chunk_id] = cand
        return pool

    def _pool(self, query: str, vector: np.ndarray | None, dense: dict[str, Candidate],
              filters: Filters, window: str, n: int, k: int) -> dict[str, Candidate]:
        """The dense candidates that pass ``filters``, joined with BM25's best ``n`` under
        them and, with a ``window`` start date, BM25's best ``2k`` since then; BM25's come
        with their read copies, the rest are loaded in one read (``_load``)."""
        runs = [(filters, n)] + ([(replace(filters, since=window), 2 * k)] if window else [])
        lexical = self.store.lexical
        found: list[tuple[Filters, list[tuple[str, float]]]] = []
        extra: dict[str, Candidate] = {}
        searched: list[list[tuple[str, float, StoredPassage | None]]] = [[] for _ in runs]
        if self.config.use_lexical and lexical is not None:
            searched = lexical.search_runs(query, [
                LexicalRun(m, tuple(f.sources), date_key(f.since), date_key(f.until))
                for f, m in runs])
        for (run_filters, _), hits in zip(runs, searched, strict=True):
            for chunk_id, _, stored in hits:
                cand = dense.get(chunk_id) or extra.get(chunk_id)
                if cand is None:
                    cand = extra[chunk_id] = Candidate(chunk_id, "", {}, float("nan"))
                if stored is not None and not cand.loaded:
                    self._from_copy(cand, stored, vector)
            found.append((run_filters, [(chunk_id, score) for chunk_id, score, _ in hits]))
        self._load({**dense, **extra}, vector)
        pool: dict[str, Candidate] = {}
        for run_filters, scored in found:
            pool.update((i, c) for i, c in dense.items() if c.loaded and run_filters.admits(c.meta))
            for chunk_id, score in scored:
                cand = dense.get(chunk_id) or extra[chunk_id]
                if cand.loaded:  # else deleted from Chroma but still in the lexical index
                    cand.bm25 = score
                    pool[chunk_id] = cand
        return pool

    def _load(self, pool: dict[str, Candidate], vector: np.ndarray | None) -> None:
        """Text, metadata, the exact dense cosine where unknown (found by BM25 alone) and the
        article's cosine (second stage) of the candidates not loaded yet: from the lexical
        index's read copies, else from Chroma (a passage written by another client of a Chroma
        server since this one opened). Those found in neither stay not ``loaded``."""
        todo = {i: c for i, c in pool.items() if not c.loaded}
        lexical = self.store.lexical
        if todo and lexical is not None:
            for chunk_id, stored in lexical.fetch(list(todo)).items():
                self._from_copy(todo.pop(chunk_id), stored, vector)
        if todo:
            self._load_from_chroma(todo, vector)

    def _from_copy(self, cand: Candidate, stored: StoredPassage,
                   vector: np.ndarray | None) -> None:
        cand.text, cand.meta, cand.loaded = stored.text, dict(stored.meta), True
        if stored.sentence_vectors is not None:
            cand.sentences = SentenceVectors(stored.sentences, stored.sentence_vectors,
                                             stored.sentence_pieces, stored.sentence_split)
        if self.sizes and vector is not None:
            self._set_parts(cand, stored.vector, stored.article_vector, vector)
            return
        if math.isnan(cand.cosine):  # found by BM25 alone
            known = vector is not None and stored.vector is not None
            cand.cosine = float(stored.vector @ vector) if known else 0.0  # type: ignore[operator]
        if vector is not None and stored.article_vector is not None:
            cand.article_cosine = float(stored.article_vector @ vector)

    def _set_parts(self, cand: Candidate, chunk: np.ndarray | None,
                   article: np.ndarray | None, vector: np.ndarray) -> None:
        """Each model's cosines of a combined vector; ``cosine`` becomes the first model's."""
        cand.cosines = (part_cosines(chunk, vector, self.sizes) if chunk is not None
                        else (0.0,) * len(self.sizes))
        cand.cosine = cand.cosines[0]
        if article is not None:
            cand.article_cosines = part_cosines(article, vector, self.sizes)
            cand.article_cosine = cand.article_cosines[0]

    def _load_from_chroma(self, todo: dict[str, Candidate], vector: np.ndarray | None) -> None:
        for record in self.store.passages_by_id(list(todo), with_vectors=True):
            cand = todo[record.chunk_id]
            cand.text = record.text
            cand.meta = dict(record.meta)
            cand.loaded = True
            known = vector is not None and record.vector is not None
            if self.sizes and vector is not None:
                self._set_parts(cand, record.vector if known else None, None, vector)
            elif math.isnan(cand.cosine):
                cand.cosine = 0.0
                if vector is not None and record.vector is not None:
                    cand.cosine = float(record.vector @ vector)
        if vector is None or self.config.article_vector_weight <= 0 or self.sizes:
            return
        ids = sorted({str(c.meta.get("article_id", "")) for c in todo.values()} - {""})
        if not ids:
            return
        sims = {a: float(e @ vector) for a, e in self.store.article_vectors(ids).items()}
        for cand in todo.values():
            cand.article_cosine = sims.get(str(cand.meta.get("article_id", "")))


def _time_filters(filters: Filters, scope: TimeScope | None, as_of: date | None,
                  slack: int) -> Filters:
    """Explicit filters win. Else a relative expression sets the earliest publication date
    (its span's start, less ``slack`` days): news about "March" or "last week" is published
    during or after it, up to as_of, so the span's end is no bound. An explicit as_of caps
    ``until`` (with one day of slack for time zones)."""
    if filters.since or filters.until:
        return filters
    since = (scope.since - timedelta(days=slack)).isoformat() if scope is not None else ""
    until = (as_of + timedelta(days=1)).isoformat() if as_of is not None else ""
    return replace(filters, since=since, until=until)


def _relevant_enough(pool: dict[str, Candidate], threshold: float) -> bool:
    """Whether a pool holds a passage whose dense cosine reaches ``threshold`` (any passage
    when the dense retriever is off)."""
    if not pool:
        return False
    cosines = [c.cosine for c in pool.values() if not math.isnan(c.cosine)]
    return not cosines or max(cosines) >= threshold


def zscores(values: np.ndarray) -> np.ndarray:
    """``(x - mean) / std`` over one query's candidates (all zero when they are equal)."""
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


def dense_scores(candidates: list[Candidate], config: RetrievalConfig) -> list[float]:
    """The dense score of each candidate: its (article-blended) cosine, or for a combined
    vector the weighted sum of each model's z-scored cosines over the candidates."""
    weight = config.article_vector_weight
    if not candidates or not candidates[0].cosines:
        return [c.dense_score(weight) for c in candidates]
    parts = np.asarray([c.part_scores(weight) for c in candidates], dtype=np.float64)
    second = config.second_embedder_weight
    fused = (1.0 - second) * zscores(parts[:, 0]) + second * zscores(parts[:, 1])
    return [float(x) for x in fused]


def normalise(scores: list[float]) -> list[float]:
    """Min-max to [0, 1]; all-equal scores map to 1 (they tie at the top)."""
    if not scores:
        return []
    low, high = min(scores), max(scores)
    if high - low < 1e-9:
        return [1.0 if high > 0 else 0.0 for _ in scores]
    return [(s - low) / (high - low) for s in scores]


def fuse_scores(dense: list[float], lexical: list[float], dense_weight: float) -> list[float]:
    """Weighted sum of min-max normalised dense and BM25 scores of the same candidates."""
    return [dense_weight * d + (1.0 - dense_weight) * b
            for d, b in zip(normalise(dense), normalise(lexical), strict=True)]


def recency_bonus(published: date | None, as_of: date, weight: float, days: float) -> float:
    """``weight * exp(-age / days)`` for an article ``age`` days older than ``as_of``; nothing
    for undated ones. With as_of far past the newest article, it fades to zero for all."""
    if published is None or weight <= 0 or days <= 0:
        return 0.0
    age = max((as_of - published).days, 0)
    return weight * math.exp(-age / days)


def rank_candidates(candidates: list[Candidate], config: RetrievalConfig,
                    as_of: date) -> list[Candidate]:
    """Candidates by fused score plus recency bonus, best first (sets ``fused``)."""
    if not candidates:
        return []
    weight = config.dense_weight if config.use_lexical else 1.0
    if not config.use_dense:
        weight = 0.0
    dense = dense_scores(candidates, config)
    fused = fuse_scores(dense, [c.bm25 for c in candidates], weight)
    for cand, score in zip(candidates, fused, strict=True):
        cand.fused = score + recency_bonus(cand.published, as_of, config.recency_weight,
                                           config.recency_days)
    return sorted(candidates, key=lambda c: (-c.fused, c.chunk_id))


def relevance_window_start(as_of: date | None, scope: TimeScope | None,
                           window_days: int) -> date | None:
    """The earliest publication date the abstention signal counts: ``window_days`` before an
    explicit as_of; None (all) without one, or when a date expression's span already chose
    the candidates."""
    if as_of is not None and scope is None:
        return as_of - timedelta(days=window_days)
    return None


def abstention_signal(ranked: list[Candidate], since: date | None) -> float:
    """Best dense cosine among the candidates published ``since`` (all when None). Fused
    scores are not used: they rank well but separate answerable questions poorly."""
    if since is not None:
        ranked = [c for c in ranked if c.published is not None and since <= c.published]
    return max((c.cosine for c in ranked), default=0.0)


_TOKEN = re.compile(r"\w+")


def without_phrase(query: str, phrase: str) -> str:
    """``query`` less a (lower-cased) date phrase; unchanged if nothing would be left."""
    rest = re.sub(re.escape(phrase), " ", query, flags=re.IGNORECASE)
    rest = re.sub(r"\s+", " ", rest).strip()
    return rest if _TOKEN.search(rest) else query


@lru_cache(maxsize=8192)  # the same candidates come back question after question
def shingles(text: str, n: int = 3) -> frozenset[tuple[str, ...]]:
    words = _TOKEN.findall(text.lower())
    if len(words) < n:
        return frozenset({tuple(words)})
    return frozenset(zip(*(words[i:] for i in range(n)), strict=False))


def suppress_duplicates(ranked: list[Candidate], threshold: float,
                        limit: int = 40, *, window_days: int | None = None) -> list[Candidate]:
    """Drop a passage whose word trigrams overlap a better one's by ``threshold`` (Jaccard)
    when it comes from another article published within ``window_days`` of it (a syndicated
    copy; identical text folds at any distance, the same text a year later is another
    story); the kept passage records the copy's outlet in ``also_reported_by``. Only the
    first ``limit`` are compared (the rest follow unchecked): enough to fill any k the API is
    asked for, at a bounded cost. A threshold above 1 folds nothing."""
    if threshold > 1.0:
        return ranked
    head = ranked[:limit]
    jaccard = trigram_jaccard([c.text for c in head])
    kept: list[int] = []
    for i, cand in enumerate(head):
        twin = next((j for j in kept if jaccard[i, j] >= threshold
                     and head[j].meta.get("article_id") != cand.meta.get("article_id")
                     and (cand.text == head[j].text
                          or within_days(cand.published, head[j].published, window_days))),
                    None)
        if twin is None:
            kept.append(i)
            continue
        source = str(cand.meta.get("source", ""))
        also = list(head[twin].meta.get("_also", []))
        if source and source != head[twin].meta.get("source") and source not in also:
            head[twin].meta["_also"] = [*also, source]
    return [head[i] for i in kept] + ranked[limit:]


def within_days(a: date | None, b: date | None, days: int | None) -> bool:
    """Whether two publication dates lie within ``days`` of each other (always without a
    window, or when a date is unknown: nothing says they are far apart)."""
    if days is None or a is None or b is None:
        return True
    return abs((a - b).days) <= days


def trigram_jaccard(texts: list[str]) -> np.ndarray:
    """Pairwise Jaccard overlap of the texts' word-trigram sets, from one sparse product of
    their incidence rows: ~0.2 ms for 40 passages, where pairwise set intersections cost ~5 ms
    and a dense float product wakes BLAS threads that fight the embedder's for the cores."""
    from scipy.sparse import csr_matrix

    vocabulary: dict[tuple[str, ...], int] = {}
    rows = [[vocabulary.setdefault(g, len(vocabulary)) for g in shingles(t)] for t in texts]
    columns = np.fromiter((c for row in rows for c in row), dtype=np.int64)
    starts = np.cumsum([0, *(len(row) for row in rows)])
    incidence = csr_matrix((np.ones(len(columns), dtype=np.float32), columns, starts),
                           shape=(len(texts), max(len(vocabulary), 1)))
    shared = (incidence @ incidence.T).toarray()
    sizes = np.asarray([len(row) for row in rows], dtype=np.float32)
    union = sizes[:, None] + sizes[None, :] - shared
    return np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)


def top_passages(ranked: list[Candidate], top: float, max_per_article: int,
                 k: int) -> list[Passage]:
    """The first ``k`` candidates as passages, at most ``max_per_article`` of each article."""
    seen: dict[str, int] = {}
    passages: list[Passage] = []
    for cand in ranked:
        if len(passages) == k:
            break
        article_id = str(cand.meta.get("article_id", ""))
        seen[article_id] = seen.get(article_id, 0) + 1
        if seen[article_id] <= max_per_article:
            passages.append(_passage(cand, top))
    return passages


def _passage(cand: Candidate, top: float) -> Passage:
    return passage_from_metadata(cand.chunk_id, cand.text, cand.meta,
                                 score=round(min(max(cand.fused / top, 0.0), 1.0), 6),
                                 sentences=cand.sentences)


DenseRetriever = HybridRetriever  # the name the first version of the API used
