"""One copy per syndicated story, applied after retrieval.

Ingest puts copies of one wire story, carried by several outlets, in one group (``group_id``,
see ``ingest.dedup``). Here each group present in the results is represented by one article —
the copy whose passage ranks best — and its passages name the group's other outlets in
``also_reported_by``. A passage of another copy whose text the representative also carries is
replaced by the representative's own passage there (so nothing found is lost, and every quote
stays verbatim text of the article it cites); text only that copy has is kept as it is.
Articles indexed before grouping existed count as groups of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from difflib import SequenceMatcher

from assistant.results import Passage, passage_from_metadata
from ingest.store import NewsStore

PAGE = 500  # ids per Chroma lookup
CARRIED = 0.8  # share of a passage's characters another copy must hold to stand in for it
MIN_RUN = 20  # matching runs shorter than this (common words) do not count


def collapse_syndicated(passages: Sequence[Passage], store: NewsStore) -> list[Passage]:
    """``passages`` (best first) with each story group reduced to one copy; see the module."""
    if not passages:
        return []
    ids = {p.article_id for p in passages}
    lexical = store.lexical
    # The lexical index's article table answers in ~0.1 ms against ~15 ms for Chroma's;
    # Chroma is asked when it lacks one of them (written by another client of a server)
    group_of = lexical.groups(ids) if lexical is not None else {}
    if lexical is not None and group_of.keys() == ids:
        members = lexical.members(set(group_of.values()))
    else:
        group_of = _groups(store, ids)
        members = _members(store, set(group_of.values()))
    speaker: dict[str, str] = {}  # group -> the article that represents it
    for p in passages:
        speaker.setdefault(group_of.get(p.article_id, p.article_id), p.article_id)
    others = {p.article_id for p in passages} - set(speaker.values())
    chunks = _chunks_of(store, {speaker[group_of[a]] for a in others}) if others else {}
    bodies = {a: s.body for a, s in store.get_articles(list(chunks)).items()} if chunks else {}
    kept: dict[str, tuple[Passage, list[str]]] = {}  # chunk id -> (passage, outlets folded in)
    for p in passages:
        group = group_of.get(p.article_id, p.article_id)
        chosen = p
        if p.article_id != speaker[group]:
            rep = speaker[group]
            chosen = _same_text(p, bodies.get(rep, ""), chunks.get(rep, [])) or p
        folded = [p.source, *p.also_reported_by] if chosen is not p else []
        if chosen.chunk_id in kept:
            kept[chosen.chunk_id][1].extend(folded)
        else:
            kept[chosen.chunk_id] = (chosen, list(folded))
    result = []
    for passage, folded in kept.values():
        group = group_of.get(passage.article_id, passage.article_id)
        names = [*passage.also_reported_by, *folded,
                 *(source for article_id, source in members.get(group, [])
                   if article_id != passage.article_id)]
        also = tuple(dict.fromkeys(n for n in names if n and n != passage.source))
        result.append(replace(passage, also_reported_by=also))
    return result


def _same_text(passage: Passage, body: str, chunks: list[Passage]) -> Passage | None:
    """The representative's passage that holds (most of) ``passage``'s text, scored like it;
    None when the representative does not carry that text."""
    span = _span_in(passage.text, body)
    if span is None:
        return None
    start, end = span
    best = max(chunks, key=lambda c: min(c.end, end) - max(c.start, start), default=None)
    if best is None or min(best.end, end) <= max(best.start, start):
        return None
    return replace(best, score=passage.score)


def _span_in(text: str, body: str) -> tuple[int, int] | None:
    """Where ``body`` carries ``text``: verbatim, or with at least ``CARRIED`` of its characters
    in matching runs (a copy's added line or edited word does not make it news)."""
    if not text or not body:
        return None
    start = body.find(text)
    if start >= 0:
        return start, start + len(text)
    blocks = [b for b in SequenceMatcher(None, text, body, autojunk=False).get_matching_blocks()
              if b.size >= MIN_RUN]
    if sum(b.size for b in blocks) < CARRIED * len(text):
        return None
    return blocks[0].b, blocks[-1].b + blocks[-1].size


def _groups(store: NewsStore, article_ids: set[str]) -> dict[str, str]:
    found = {
        article_id: str(meta.get("group_id") or article_id)
        for article_id, meta in store.article_metadata(sorted(article_ids)).items()
    }
    return {a: found.get(a, a) for a in article_ids}


def _members(store: NewsStore, groups: set[str]) -> dict[str, list[tuple[str, str]]]:
    """group -> [(article id, outlet)] of all its copies, oldest first."""
    rows: dict[str, list[tuple[str, str, str]]] = {}
    wanted = sorted(groups)
    for start in range(0, len(wanted), PAGE):
        got = store.articles_where({"group_id": {"$in": wanted[start : start + PAGE]}})
        for article_id, meta in got.items():
            rows.setdefault(str(meta.get("group_id")), []).append(
                (str(meta.get("published_at", "")), article_id, str(meta.get("source", "")))
            )
    return {g: [(a, s) for _, a, s in sorted(r)] for g, r in rows.items()}


def _chunks_of(store: NewsStore, article_ids: set[str]) -> dict[str, list[Passage]]:
    """All passages of these articles, as ``Passage`` objects (score 0)."""
    found: dict[str, list[Passage]] = {}
    for record in store.passages_of(article_ids):
        found.setdefault(str(record.meta.get("article_id", "")), []).append(
            passage_from_metadata(record.chunk_id, record.text, record.meta))
    return found
