"""Claim check for generated answers: every sentence is matched to its best-supporting sentence
in the passages given; markers that point nowhere or at a non-supporting passage are corrected
or removed, and sentences with no support, or with a name or number that no passage holds, are
flagged. Quotes are always verbatim passage text."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np

from assistant.extractive import cite, content_words
from assistant.llm import DECLINE, MARKER, markers_in
from assistant.results import Citation, Passage
from assistant.sentences import sentence_spans
from ingest.embedding import Embedder

SUPPORT_THRESHOLD = 0.55  # cosine + LEXICAL_WEIGHT * word overlap below which: unsupported
LEXICAL_WEIGHT = 0.5
# "Xi spoke. [1] Putin ..." -> "Xi spoke [1]. Putin ...": markers after the full stop belong to
# the sentence before it, but a sentence splitter would hand them to the next one.
_TRAILING_MARKERS = re.compile(r"([.!?])((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
_LEADING_MARKERS = re.compile(r"((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)([^\[]+)")


@dataclass
class ClaimCounts:
    """What the claim check did to one answer."""

    sentences: int = 0
    supported: int = 0
    unsupported: int = 0
    markers_given: int = 0
    markers_kept: int = 0  # pointed at a passage that supports the sentence
    markers_corrected: int = 0  # pointed at a passage that does not: replaced by the one that does
    markers_removed: int = 0  # pointed nowhere, or the sentence has no support at all
    markers_added: int = 0  # a supported sentence the model left uncited

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class CheckedAnswer:
    text: str
    citations: list[Citation]
    unsupported: list[str] = field(default_factory=list)
    counts: ClaimCounts = field(default_factory=ClaimCounts)


@dataclass(frozen=True)
class _Candidate:
    passage: int  # index into passages
    start: int  # offset in the article body
    end: int
    text: str


def split_claims(answer: str) -> list[str]:
    """The answer's sentences, each keeping the markers that close it (or, in a reply that
    starts with a marker, the markers that open it: "[1] Xi spoke. [2] Putin replied")."""
    text = answer.strip()
    if _LEADING_MARKERS.match(text):
        return [
            f"{sentence} {m.group(1).strip()}"
            for m in _LEADING_MARKERS.finditer(text)
            for sentence in _sentences(m.group(2))
        ]
    text = _TRAILING_MARKERS.sub(lambda m: f"{m.group(2).rstrip()}{m.group(1)}", text)
    claims: list[str] = []
    for claim in _sentences(text):
        if MARKER.sub("", claim).strip(" .!?"):
            claims.append(claim)
        elif claims:  # a lone "[2]." left by the splitter belongs to the sentence before
            claims[-1] += " " + claim
    return claims


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def check_citations(answer: str, passages: list[Passage], embedder: Embedder,
                    question: str = "") -> CheckedAnswer:
    """Validate the markers of ``answer`` (numbered 1..len(passages)) against the passages and
    renumber them in order of appearance, one citation per supporting sentence quoted. A
    sentence is supported only if the passages or the ``question`` hold each of its names and
    numbers."""
    candidates = [
        _Candidate(i, p.start + s, p.start + e, p.text[s:e])
        for i, p in enumerate(passages)
        for s, e in sentence_spans(p.text)
    ]
    claims = split_claims(answer)
    haystack = " ".join([question, *(f"{p.title} {p.text}" for p in passages)]).lower()
    result = CheckedAnswer("", [])
    counts = result.counts
    counts.markers_given = len(markers_in(answer))
    vectors = embedder.embed([c.text for c in candidates]) if candidates and claims else None
    claim_vectors = embedder.embed([_bare(c) for c in claims]) if vectors is not None else None
    keys: dict[tuple[int, int], int] = {}
    out = []
    for i, claim in enumerate(claims):
        bare, given = _bare(claim), markers_in(claim)
        if DECLINE.search(bare):  # "the sources do not say why": no claim to support
            counts.markers_removed += len(given)
            out.append(_sentence(bare))
            continue
        counts.sentences += 1
        best = None
        if vectors is not None and claim_vectors is not None and not unattested(bare, haystack):
            best = _best_support(bare, claim_vectors[i], candidates, vectors, given)
        if best is None:
            result.unsupported.append(_sentence(bare))
            counts.unsupported += 1
            counts.markers_removed += len(given)
            out.append(_sentence(bare))
            continue
        counts.supported += 1
        valid = [n for n in given if 1 <= n <= len(passages)]
        counts.markers_removed += len(given) - len(valid)
        if best.passage + 1 in valid:
            counts.markers_kept += 1
            counts.markers_removed += len(valid) - 1  # one citation per sentence
        elif valid:
            counts.markers_corrected += 1
            counts.markers_removed += len(valid) - 1
        else:
            counts.markers_added += 1
        key = (best.passage, best.start)
        if key not in keys:
            keys[key] = len(result.citations) + 1
            p = passages[best.passage]
            result.citations.append(cite(keys[key], p, best.text, best.start, best.end))
        out.append(_sentence(bare, keys[key]))
    result.text = " ".join(out)
    result.unsupported = [s for s in result.unsupported if s]
    return result


# names (capitalised words inside a sentence) and numbers: the facts a small model swaps
_NAMED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w-]*|\d[\d.,]*\d|\d")


def unattested(claim: str, haystack: str) -> list[str]:
    """The names and numbers of ``claim`` that ``haystack`` (the passages' titles and text,
    lowered) does not hold: "flooding in Kansas" over passages about Virginia is no supported
    claim, however close its words."""
    return [w for w in _NAMED.findall(claim)
            if w.lower().removesuffix("’s").removesuffix("'s") not in haystack]


def _bare(claim: str) -> str:
    text = re.sub(r"\s+([.!?,;:])", r"\1", MARKER.sub("", claim)).strip()
    text = re.sub(r"[,;:]+([.!?])$", r"\1", text)  # "23 August 2023, [1]." -> "... 2023."
    return f"{text}." if text[-1:].isalnum() else text


def _sentence(bare: str, n: int | None = None) -> str:
    """``"Text. [n]"``, the extractive answer's format."""
    return f"{bare} [{n}]" if n is not None else bare


def _best_support(
    claim: str,
    vector: np.ndarray,
    candidates: list[_Candidate],
    vectors: np.ndarray,
    given: list[int],
) -> _Candidate | None:
    """The best-supporting sentence, preferring the passages the model cited when one of them
    supports the claim; None when nothing reaches the threshold."""
    support = _support(claim, vector, [c.text for c in candidates], vectors)
    cited = [j for j, c in enumerate(candidates) if c.passage + 1 in given]
    if cited:
        j = max(cited, key=lambda j: support[j])
        if support[j] >= SUPPORT_THRESHOLD:
            return candidates[j]
    j = int(np.argmax(support))
    return candidates[j] if support[j] >= SUPPORT_THRESHOLD else None


def _support(claim: str, vector: np.ndarray, texts: list[str], vectors: np.ndarray) -> np.ndarray:
    """Embedder cosine plus the share of the claim's content words found in each text."""
    words = content_words(claim)
    lexical = np.array(
        [len(words & content_words(t)) / len(words) if words else 0.0 for t in texts]
    )
    return vectors @ vector + LEXICAL_WEIGHT * lexical


def support_scores(claim: str, passages: list[Passage], embedder: Embedder) -> list[float]:
    """How well each sentence of ``passages`` supports ``claim`` (threshold: SUPPORT_THRESHOLD)."""
    texts = [p.text[s:e] for p in passages for s, e in sentence_spans(p.text)]
    if not texts:
        return []
    vectors = embedder.embed(texts)
    return [float(x) for x in _support(claim, embedder.embed([claim])[0], texts, vectors)]
