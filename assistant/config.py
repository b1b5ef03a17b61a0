"""Settings: flags over environment variables over defaults, in one frozen dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

ANSWER_MODES = ("extractive", "local", "openai")



def default_answer_mode() -> str:
    """``local`` when its extra is installed, else ``extractive``: the local model answered
    better on rtqa-full-dev (docs/benchmarks-answers.md), the extractive answerer needs nothing."""
    from assistant.local_model import local_extra_installed

    return "local" if local_extra_installed() else "extractive"


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
    min_relevance: float = 0.35  # dense cosine of the top hit below which we abstain
    sentence_min_relevance: float = 0.30  # best sentence cosine below which we abstain
    answer_sentences: int = 2
    # hybrid retrieval (chosen by benchmarks/retrieval.py; see docs/benchmarks-retrieval.md)
    dense_weight: float = 0.8  # share of the dense score in the fused score, BM25 the rest
    recency_weight: float = 0.5  # bonus for articles published near as_of ...
    recency_days: float = 14.0  # ... decaying with this time constant in days
    window_days: int = 7  # with as_of: abstain on the best cosine in this look-back window
    llm_timeout: float = 60.0
    # what a generating model reads: "sentences" (excerpts around the best sentences) or the
    # top "chunks" whole; chosen by benchmarks/answers.py (docs/benchmarks-answers.md)
    llm_context: str = "sentences"

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
        if "NEWS_ASSISTANT_MIN_RELEVANCE" in env:
            values["min_relevance"] = float(env["NEWS_ASSISTANT_MIN_RELEVANCE"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.llm not in ANSWER_MODES:
            raise ValueError(f"llm must be one of {', '.join(ANSWER_MODES)}, not {self.llm!r}")
        if self.llm == "openai" and not self.model:
            raise ValueError("llm 'openai' needs a model name: --model or NEWS_ASSISTANT_MODEL")
        if self.llm_context not in ("sentences", "chunks"):
            raise ValueError(f"llm_context must be sentences or chunks, not {self.llm_context!r}")
        if self.k < 1:
            raise ValueError(f"k must be at least 1, not {self.k}")

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def public(self) -> dict[str, Any]:
        """Settings safe to show: no key, and no credentials inside URLs."""
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "api_key"}
        shown["api_key_set"] = bool(self.api_key)
        return shown
