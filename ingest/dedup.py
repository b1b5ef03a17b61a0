"""Syndicated copies: the same wire story carried by several outlets, found at ingest.

- **Exact copy** (the same body once case, spacing and punctuation are ignored): not embedded
  again. Its article record keeps its own title, outlet and full text, points at the copy that
  has passages (``duplicate_of``) and shares its group (``group_id``); it has no passages.
- **Near copy** (MinHash Jaccard of word 5-shingles at least ``NEAR_JACCARD``): embedded, since
  its text differs, but its passages and article record carry the group id of the first copy.

Every article gets a ``group_id`` (its own id when it is the first of its story), so retrieval
can return one copy per group and name the other outlets.

Where candidates come from: Chroma itself, so that several processes or machines sharing one
index need no extra side index: exact copies by the ``body_key`` stored in each article record,
near copies by the article's mean vector (the ``news_articles`` collection holds one per
article), confirmed by MinHash on the stored text. Articles of the same run are matched with
an in-memory MinHash LSH. Two processes ingesting two copies at the same instant may both embed
theirs (each misses the other's uncommitted record); nothing is lost, and retrieval's own
duplicate suppression still folds such passages together.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

from ingest.records import Article
from ingest.store import NewsStore

NUM_PERM = 128
SHINGLE_WORDS = 5
NEAR_JACCARD = 0.7  # estimated Jaccard of word 5-shingles from which two texts are one story
CANDIDATE_COSINE = 0.85  # mean-vector cosine from which an indexed article is checked
CANDIDATES = 5  # nearest indexed articles checked per new article
KEY_PAGE = 500  # body keys per Chroma lookup

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Syndication:
    """Where an article stands among copies of its story: the fields its records carry."""

    body_key: str
    group_id: str
    duplicate_of: str = ""  # for an exact copy: the article whose passages it shares
    similarity: float = 1.0  # estimated Jaccard with the matched copy (1.0 when it is the first)

    def article_meta(self) -> dict[str, str]:
        return {
            "body_key": self.body_key,
            "group_id": self.group_id,
            "duplicate_of": self.duplicate_of,
        }


def normalised_words(body: str) -> list[str]:
    """The body's words, case-folded and Unicode-normalised (punctuation and spacing dropped)."""
    return _WORD.findall(unicodedata.normalize("NFKC", body).casefold())


def body_key(body: str) -> str:
    """Equal for two bodies that differ only in case, spacing or punctuation."""
    return hashlib.sha256(" ".join(normalised_words(body)).encode("utf-8")).hexdigest()[:32]


@lru_cache(maxsize=1)
def _permutations() -> tuple[Any, str]:
    # Drawing the random permutations costs ~6 ms per MinHash; draw them once.
    seed = MinHash(num_perm=NUM_PERM)
    return seed.permutations, seed.scheme


def minhash(body: str) -> MinHash:
    """MinHash signature of the body's word ``SHINGLE_WORDS``-shingles."""
    words = normalised_words(body)
    n = min(SHINGLE_WORDS, len(words)) or 1
    shingles = {" ".join(words[i : i + n]) for i in range(max(len(words) - n + 1, 1))}
    permutations, scheme = _permutations()
    signature = MinHash(num_perm=NUM_PERM, permutations=permutations, scheme=scheme)
    signature.update_batch([s.encode("utf-8") for s in shingles])
    return signature


def similarity(a: str, b: str) -> float:
    """Estimated Jaccard similarity of two bodies' shingles (0..1)."""
    return float(minhash(a).jaccard(minhash(b)))


class DuplicateFinder:
    """Places each article of one ingest run among the copies of its story.

    Call ``exact_copies`` once with the articles to index (before embedding), then ``place``
    for each batch of embedded articles, in order.
    """

    def __init__(self, store: NewsStore, *, threshold: float = NEAR_JACCARD) -> None:
        self.store = store
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._run: dict[str, tuple[MinHash, str]] = {}  # article id -> (signature, group id)
        self._vectors: dict[str, np.ndarray] = {}  # mean vectors of this run's articles

    # ---- exact copies ------------------------------------------------------------------
    def exact_copies(self, articles: Sequence[Article]) -> dict[str, Syndication]:
        """The articles whose body an indexed article or an earlier one of this run already
        has, mapped to that copy; these are not to be embedded."""
        keys = {a.id: body_key(a.body) for a in articles}
        indexed = self._indexed_by_key(set(keys.values()))
        first_in_run: dict[str, str] = {}
        copies: dict[str, Syndication] = {}
        for article in articles:
            key = keys[article.id]
            # an indexed copy that this run rewrites with another text no longer counts
            match = next((m for m in indexed.get(key, [])
                          if m[0] != article.id and keys.get(m[0], key) == key), None)
            if match is not None:
                copies[article.id] = Syndication(key, match[1], duplicate_of=match[0])
            elif key in first_in_run:
                first = first_in_run[key]
                group = copies[first].group_id if first in copies else first
                copies[article.id] = Syndication(key, group, duplicate_of=first)
            else:
                first_in_run[key] = article.id
        # a copy of a copy points at the article that has the passages
        for article_id, syn in list(copies.items()):
            target = copies.get(syn.duplicate_of)
            if target is not None:
                copies[article_id] = Syndication(syn.body_key, target.group_id, target.duplicate_of)
        return copies

    def _indexed_by_key(self, keys: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """body key -> [(article id, group id)] of indexed articles that have passages."""
        found: dict[str, list[tuple[str, str]]] = {}
        wanted = sorted(keys)
        for start in range(0, len(wanted), KEY_PAGE):
            got = self.store.articles_where(
                {"$and": [{"body_key": {"$in": wanted[start : start + KEY_PAGE]}},
                          {"duplicate_of": ""}]})
            for article_id, meta in got.items():
                found.setdefault(str(meta.get("body_key")), []).append(
                    (article_id, str(meta.get("group_id") or article_id)))
        for matches in found.values():
            matches.sort()  # the same choice in every process
        return found

    def resolve(self, syn: Syndication) -> Syndication:
        """An exact copy of an article embedded in this run joins that article's group (known
        only once it is placed)."""
        placed = self._run.get(syn.duplicate_of)
        if placed is None or placed[1] == syn.group_id:
            return syn
        return Syndication(syn.body_key, placed[1], syn.duplicate_of)

    def copy_vector(self, syn: Syndication) -> np.ndarray | None:
        """The mean vector of the article an exact copy points at (its record needs one)."""
        if syn.duplicate_of in self._vectors:
            return self._vectors[syn.duplicate_of]
        return self.store.article_vectors([syn.duplicate_of]).get(syn.duplicate_of)

    # ---- near copies -------------------------------------------------------------------
    def place(self, batch: Sequence[tuple[Article, np.ndarray]]) -> list[Syndication]:
        """Group ids of embedded articles (``(article, chunk vectors)``), in order: the group
        of the most similar near copy, indexed or earlier in this run, else their own id."""
        means = [_mean(vectors) for _, vectors in batch]
        indexed = self._nearest_indexed(means)
        placed = []
        for (article, _), mean, candidates in zip(batch, means, indexed, strict=True):
            signature = minhash(article.body)
            best: tuple[float, str] = (0.0, article.id)
            for other_id, other_group, other_body in candidates:
                if other_id != article.id:
                    score = float(signature.jaccard(minhash(other_body)))
                    best = max(best, (score, other_group))
            for other_id in self._lsh.query(signature):
                other_sig, other_group = self._run[other_id]
                best = max(best, (float(signature.jaccard(other_sig)), other_group))
            score, group = best if best[0] >= self.threshold else (1.0, article.id)
            self._remember(article.id, signature, group, mean)
            placed.append(Syndication(body_key(article.body), group, similarity=score))
        return placed

    def _nearest_indexed(self, means: list[np.ndarray]) -> list[list[tuple[str, str, str]]]:
        """Per mean vector: (id, group id, body) of the indexed articles close enough."""
        out: list[list[tuple[str, str, str]]] = [[] for _ in means]
        usable = [i for i, m in enumerate(means) if np.isfinite(m).all() and m.any()]
        total = self.store.count()[0]
        if total == 0 or not usable:
            return out
        got = self.store.nearest_articles([means[i].tolist() for i in usable],
                                          min(CANDIDATES, total))
        for i, hits in zip(usable, got, strict=True):
            out[i] = [
                (hit.id, str(hit.meta.get("group_id") or hit.id), hit.body)
                for hit in hits
                if hit.cosine >= CANDIDATE_COSINE
            ]
        return out

    def _remember(self, article_id: str, signature: MinHash, group: str, mean: np.ndarray) -> None:
        if article_id in self._run:
            self._lsh.remove(article_id)
        self._lsh.insert(article_id, signature)
        self._run[article_id] = (signature, group)
        self._vectors[article_id] = mean


def _mean(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) == 0:
        return np.zeros(vectors.shape[-1] if vectors.ndim == 2 else 1, dtype=np.float32)
    mean = vectors.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)
