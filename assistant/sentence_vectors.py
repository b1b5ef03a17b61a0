"""The vectors of the passages' sentences for answer scoring: stored at ingest where the
passage carries them (``Passage.sentences``), embedded now for the rest (passages whose read
copy lacks them: indexed before they existed, or synced from a Chroma server)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.results import Passage
from assistant.sentences import passage_spans
from ingest.embedding import Embedder, embed_sentences


def sentence_vectors(passages: Sequence[Passage],
                     embedder: Embedder) -> list[tuple[list[tuple[int, int]], np.ndarray]]:
    """Per passage: its sentence spans (``passage_spans``, offsets in the passage text) and
    one vector per span, from the stored ones or one embedder call for all that are
    missing."""
    spans = [passage_spans(p) for p in passages]
    stored = [p.sentences.lookup() if p.sentences is not None else {} for p in passages]
    missing = [(i, j) for i, found in enumerate(spans) for j, span in enumerate(found)
               if span not in stored[i]]
    fresh = embed_sentences(embedder, [passages[i].text[slice(*spans[i][j])]
                                       for i, j in missing]) if missing else None
    computed = {key: fresh[n] for n, key in enumerate(missing)} if fresh is not None else {}
    out = []
    for i, found in enumerate(spans):
        rows = [stored[i][span] if span in stored[i] else computed[(i, j)]
                for j, span in enumerate(found)]
        width = rows[0].shape[0] if rows else 0
        out.append((found, np.asarray(rows, dtype=np.float32).reshape(len(rows), width)))
    return out
