"""Settings: flags over environment variables over defaults, in one frozen dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

from assistant.errors import InvalidRequest
from assistant.shipped_weights import load_weights


def shipped_floor(name: str, default: float) -> float:
    """An abstention floor as calibrated in ``scorer_weights.json`` (``default`` if absent)."""
    return float(load_weights().get("floors", {}).get(name, default))


def default_answer_mode() -> str:
    """``extractive``, with or without the ``[local]`` extra: with the learned sentence scorer
    and the answer phrase it holds the reference answer more often than the local model does
    (rtqa-full-dev 0.73 against 0.68 in one run, docs/benchmarks.md) in a tenth of the time,
    and needs nothing. ``--llm local`` / ``NEWS_ASSISTANT_LLM=local`` choose the model."""
    return "extractive"


@dataclass(frozen=True)
class RetrievalConfig:
    """Knobs of hybrid retrieval (``assistant.retrieval``); the defaults are the benchmark's
    choice (see docs/benchmarks-retrieval.md)."""

    dense_weight: float = 0.8  # share of the dense score in the fused score; BM25 gets the rest
    candidates: int = 50  # per retriever
    # chosen by 5-fold cross-validation (benchmarks/retrieval.py, docs/benchmarks.md): dense
    # weight 0.8, recency prior 1.0 x exp(-age / 30 days); the article-vector stage and the
    # duplicate folding did not pay beyond the spread over folds (folding stays on for what the
    # user sees: it never changed a ranking's first relevant article)
    recency_weight: float = 1.0  # bonus for an article published on the as_of date ...
    recency_days: float = 30.0  # ... decaying with this time constant (days before as_of)
    window_days: int = 7  # look-back window of the time-aware abstention signal
    time_slack_days: int = 2  # widen the span of a relative expression ("this week") by this
    duplicate_jaccard: float = 0.6  # word-trigram overlap above which passages are one story
    fold_window_days: int = 7  # ... when published within this many days of each other
    article_vector_weight: float = 0.0  # second stage: share of the article's cosine (off: CV)
    second_embedder_weight: float = 0.5  # minilm+e5: share of e5's z-scored cosine in dense
    span_min_relevance: float = 0.35  # a date span whose best cosine is lower is dropped
    use_lexical: bool = True
    use_dense: bool = True

    @classmethod
    def for_models(cls, models: tuple[str, ...]) -> RetrievalConfig:
        """The configuration cross-validated for an embedder (``benchmarks/retrieval.py``,
        "what ships"), by the models its vectors come from: with e5, BM25 no longer paid
        (dense only) and the recency prior is half MiniLM's; MiniLM's is the default."""
        from ingest.embedding import E5_NAME  # here: the CLI reads settings before numpy

        if E5_NAME in models:
            return cls(dense_weight=1.0, recency_weight=0.5, recency_days=30.0,
                       second_embedder_weight=0.5 if len(models) > 1 else 1.0)
        return cls()



@dataclass(frozen=True)
class Settings:
    """Everything that changes how the assistant behaves. Secrets never appear in ``public()``."""

    index: str = "news-index"
    chroma_url: str = ""
    llm: str = field(default_factory=default_answer_mode)  # extractive | local | openai
    model: str = ""
    base_url: str = ""
    api_key: str = ""
    local_model: str = "qwen2.5-coder-1.5b"
    embedder: str = "minilm"
    k: int = 8  # passages retrieved for an answer
    max_per_article: int = 2  # so one story cannot crowd out the rest
    # abstention floors: the dense cosine of the top hit, and of the quoted sentence, below
    # which we abstain (chosen by cross-validation in benchmarks/train_scorer.py)
    min_relevance: float = field(default_factory=lambda: shipped_floor("relevance", 0.35))
    sentence_min_relevance: float = field(
        default_factory=lambda: shipped_floor("sentence_cosine", 0.30))
    answer_sentences: int = 2
    # hybrid retrieval: fusion weights, recency prior, time window, syndication (chosen by
    # benchmarks/retrieval.py; see docs/benchmarks-retrieval.md)
    # None: the configuration cross-validated for the embedder in use
    # (``RetrievalConfig.for_models``)
    retrieval: RetrievalConfig | None = None
    llm_timeout: float = 60.0
    # what a generating model reads: "sentences" (excerpts around the best sentences) or the
    # top "chunks" whole; chosen by benchmarks/answers.py (docs/benchmarks-answers.md)
    llm_context: str = "sentences"
    # Whether the prompt offers "The sources do not say." as a reply. Measured on rtqa-full-dev
    # (docs/benchmarks-answers.md): offered, the 1.5B model declined 32 of 60 answerable
    # questions that retrieval had found relevant; not offered, 3. Retrieval decides abstention.
    offer_decline: bool = False
    # A generated answer to a factoid question opens with the extractive answer phrase
    # ("**Spain** [1]", verbatim), shown while the model reads its prompt; the model's text
    # follows. NEWS_ASSISTANT_PHRASE_FIRST=0 leaves the answer to the model alone.
    answer_phrase_first: bool = True

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {
            "index": env.get("NEWS_ASSISTANT_INDEX", cls.index),
            "chroma_url": env.get("NEWS_ASSISTANT_CHROMA_URL", ""),
            "model": env.get("NEWS_ASSISTANT_MODEL", ""),
            "base_url": env.get("OPENAI_BASE_URL", ""),
            "api_key": env.get("OPENAI_API_KEY", ""),
            "embedder": env.get("NEWS_ASSISTANT_EMBEDDER", cls.embedder),
            "local_model": env.get("NEWS_ASSISTANT_LOCAL_MODEL", cls.local_model),
            "llm_context": env.get("NEWS_ASSISTANT_LLM_CONTEXT", cls.llm_context),
        }
        if "NEWS_ASSISTANT_LLM" in env:
            values["llm"] = env["NEWS_ASSISTANT_LLM"]
        elif values["model"] and (values["base_url"] or values["api_key"]):
            values["llm"] = "openai"  # an endpoint configured is an endpoint wanted
        if "NEWS_ASSISTANT_LLM_TIMEOUT" in env:  # seconds for a whole generated answer
            values["llm_timeout"] = float(env["NEWS_ASSISTANT_LLM_TIMEOUT"])
        if "NEWS_ASSISTANT_PHRASE_FIRST" in env:
            values["answer_phrase_first"] = env["NEWS_ASSISTANT_PHRASE_FIRST"].strip().lower() \
                not in ("0", "false", "no", "off", "")
        if "NEWS_ASSISTANT_MIN_RELEVANCE" in env:
            values["min_relevance"] = float(env["NEWS_ASSISTANT_MIN_RELEVANCE"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        # the answer mode (``llm``) is checked by ``assistant.answerers.check_answer_mode``
        if self.llm_context not in ("sentences", "chunks"):
            raise InvalidRequest(
                f"llm_context must be sentences or chunks, not {self.llm_context!r}")
        if self.k < 1:
            raise InvalidRequest(f"k must be at least 1, not {self.k}")

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def public(self) -> dict[str, Any]:
        """Settings safe to show: no key, and no credentials inside URLs."""
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "api_key"}
        shown["api_key_set"] = bool(self.api_key)
        return shown
