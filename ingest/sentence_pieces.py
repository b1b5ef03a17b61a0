"""The phrases of a sentence that can answer a question: spaCy's entities, then its noun
chunks, as (start, end, label) offsets inside the sentence text.

Parsed once per sentence at ingest and stored beside the sentence vectors (the answer phrase
of an extractive answer would otherwise parse its best sentences at question time: about half
of what `ask` added over a search). Each sentence is parsed alone, so the pieces stored at
ingest are exactly those a parse at question time gives.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence

from ingest.nlp import load_english

Piece = tuple[int, int, str]  # (start, end, entity label or "CHUNK") inside a sentence
PARSE_DISABLE = ("lemmatizer",)  # entities and noun chunks need no lemmas (a tenth of the parse)
_MEMO_SIZE = 8192

_memo: dict[str, tuple[Piece, ...]] = {}
_memo_lock = threading.Lock()


def parse_pieces(sentences: Sequence[str]) -> list[tuple[Piece, ...]]:
    """The pieces of each sentence. Remembered per process by text: syndicated copies and
    follow-up questions bring the same sentences back."""
    with _memo_lock:
        known = {t: _memo[t] for t in sentences if t in _memo}
    missing = list(dict.fromkeys(t for t in sentences if t not in known))
    if missing:
        docs = load_english().pipe(missing, disable=list(PARSE_DISABLE), batch_size=64)
        for text, doc in zip(missing, docs, strict=True):
            pieces = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            pieces += [(c.start_char, c.end_char, "CHUNK") for c in doc.noun_chunks]
            known[text] = tuple(pieces)
        with _memo_lock:
            for text in missing:
                if len(_memo) >= _MEMO_SIZE:
                    _memo.pop(next(iter(_memo)))  # the oldest
                _memo[text] = known[text]
    return [known[t] for t in sentences]


def forget() -> None:
    """Drop the remembered parses (a benchmark timing the parse itself)."""
    with _memo_lock:
        _memo.clear()


def encode_pieces(pieces: Sequence[Sequence[Piece]]) -> str:
    """The pieces of several sentences as compact JSON (kept as one string in a read copy,
    so that a search, which never needs them, does not pay for decoding them)."""
    return json.dumps([[[s, e, label] for s, e, label in found] for found in pieces],
                      separators=(",", ":"))


def decode_pieces(raw: object) -> tuple[tuple[Piece, ...], ...] | None:
    """Pieces from ``encode_pieces``' JSON (or its parsed lists); None for anything malformed
    (those sentences are parsed again)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if not isinstance(raw, (list, tuple)):
        return None
    try:
        return tuple(tuple((int(s), int(e), str(label)) for s, e, label in found)
                     for found in raw)
    except (TypeError, ValueError):
        return None
