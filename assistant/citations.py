"""Claim check for generated answers: every sentence is matched to its best-supporting sentence
in the passages given; markers that point nowhere or at a non-supporting passage are corrected
or removed, and sentences with no support are flagged. Quotes are always verbatim passage text."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.extractive import cite, content_words
from assistant.llm import MARKER
from assistant.results import Citation, Passage
from assistant.sentences import sentence_spans
from ingest.embedding import Embedder

SUPPORT_THRESHOLD = 0.55  # combined similarity below which a sentence counts as unsupported
LEXICAL_WEIGHT = 0.5


@dataclass
class CheckedAnswer:
    text: str
    citations: list[Citation]
    unsupported: list[str] = field(default_factory=list)
    markers_removed: int = 0
    markers_corrected: int = 0


@dataclass(frozen=True)
class _Candidate:
    passage: int  # index into passages
    start: int  # offset in the article body
    end: int
    text: str


def check_citations(answer: str, passages: list[Passage], embedder: Embedder) -> CheckedAnswer:
    """Validate and renumber the markers of ``answer`` (numbered 1..len(passages))."""
    candidates = [
        _Candidate(i, p.start + s, p.start + e, p.text[s:e])
        for i, p in enumerate(passages)
        for s, e in sentence_spans(p.text)
    ]
    claims = [answer[s:e] for s, e in sentence_spans(answer)]
    if not claims or not candidates:
        return CheckedAnswer(MARKER.sub("", answer).strip(), [], claims if claims else [])
    cand_vecs = embedder.embed([c.text for c in candidates])
    claim_vecs = embedder.embed([MARKER.sub("", c) for c in claims])
    result = CheckedAnswer("", [])
    keys: dict[tuple[int, int], int] = {}
    out = []
    for claim, vec in zip(claims, claim_vecs, strict=True):
        support = _support(MARKER.sub("", claim), vec, candidates, cand_vecs)
        given = [int(m) for m in MARKER.findall(claim)]
        result.markers_removed += sum(1 for n in given if not 1 <= n <= len(passages))
        bare = MARKER.sub("", claim).rstrip()
        best = int(np.argmax(support))
        if support[best] < SUPPORT_THRESHOLD:
            result.unsupported.append(bare.strip())
            result.markers_removed += sum(1 for n in given if 1 <= n <= len(passages))
            out.append(bare)
            continue
        chosen = candidates[best]
        valid = [n for n in given if 1 <= n <= len(passages)]
        if valid and chosen.passage + 1 not in valid:
            result.markers_corrected += 1
        key = (chosen.passage, chosen.start)
        if key not in keys:
            keys[key] = len(result.citations) + 1
            p = passages[chosen.passage]
            result.citations.append(cite(keys[key], p, chosen.text, chosen.start, chosen.end))
        out.append(f"{bare} [{keys[key]}]")
    result.text = " ".join(s.strip() for s in out)
    return result


def _support(
    claim: str, vec: np.ndarray, candidates: list[_Candidate], vecs: np.ndarray
) -> np.ndarray:
    words = content_words(claim)
    lexical = np.array(
        [len(words & content_words(c.text)) / len(words) if words else 0.0 for c in candidates]
    )
    return vecs @ vec + LEXICAL_WEIGHT * lexical
