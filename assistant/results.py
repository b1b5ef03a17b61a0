"""What the assistant returns: passages found, citations and answers (the API contract)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of an article; ``start``/``end`` are offsets in the article body."""

    article_id: str
    chunk_id: str
    text: str
    score: float
    title: str = ""
    source: str = ""
    url: str = ""
    published_at: str = ""
    start: int = 0
    end: int = 0
    also_reported_by: tuple[str, ...] = ()
    # sentence vectors stored at ingest (``ingest.sentence_vectors.SentenceVectors``), when the
    # read copy had them; not part of the JSON contract
    sentences: Any = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("sentences", None)
        data["also_reported_by"] = list(self.also_reported_by)
        return data


def passage_from_metadata(chunk_id: str, text: str, meta: Mapping[str, Any], *,
                          score: float = 0.0, sentences: Any = None) -> Passage:
    """A passage from its index record (text and Chroma metadata; ``_also``: outlets of the
    syndicated copies folded into it; ``sentences``: its stored sentence vectors, if any)."""
    return Passage(
        article_id=str(meta.get("article_id", "")),
        chunk_id=chunk_id,
        text=text,
        score=score,
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        url=str(meta.get("url", "")),
        published_at=str(meta.get("published_at", "")),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        also_reported_by=tuple(meta.get("_also", ())),
        sentences=sentences,
    )


@dataclass(frozen=True)
class Citation:
    """Marker ``[n]`` of an answer: the verbatim ``quote`` at ``body[start:end]`` of the article."""

    n: int
    article_id: str
    title: str
    source: str
    url: str
    published_at: str
    quote: str
    start: int
    end: int
    chunk_id: str = ""
    also_reported_by: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["also_reported_by"] = list(self.also_reported_by)
        return data


@dataclass
class Answer:
    """An answer with its citations. ``abstained`` is True when the sources do not answer."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    abstained: bool = False
    mode: str = "extractive"
    search_query: str = ""  # the question as retrieved, after follow-up rewriting
    # sentences of a generated answer that the claim check found no support for
    unsupported: list[str] = field(default_factory=list)
    notice: str = ""  # e.g. why an LLM answer fell back to the extractive one
    claim_check: dict[str, int] = field(default_factory=dict)  # counts of a generated answer
    timings_ms: dict[str, float] = field(default_factory=dict)
    question_kind: str = ""  # who, when, which, why, open ... (assistant/question.py)
    # the answer phrase of a factoid answer: {"n", "start", "end", "text"}, a verbatim span
    # of citation n's article body
    answer_span: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``ask --json`` object of DESIGN.md."""
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "mode": self.mode,
            "search_query": self.search_query,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [
                {
                    "article_id": p.article_id,
                    "chunk_id": p.chunk_id,
                    "score": round(p.score, 6),
                    "title": p.title,
                    "source": p.source,
                    "published_at": p.published_at,
                    "text": p.text,
                    "also_reported_by": list(p.also_reported_by),
                }
                for p in self.passages
            ],
            "unsupported": list(self.unsupported),
            "notice": self.notice,
            "claim_check": dict(self.claim_check),
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "question_kind": self.question_kind,
            "answer_span": dict(self.answer_span) if self.answer_span else None,
        }


@dataclass(frozen=True)
class StreamEvent:
    """One event of ``NewsAssistant.stream``: a text ``token`` or, last, the final ``answer``."""

    kind: str  # "token" | "answer"
    token: str = ""
    answer: Answer | None = None
