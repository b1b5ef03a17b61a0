"""Re-embed a whole index with another embedder, from the article bodies it stores.

An index records the embedder its vectors came from; opened with another one it is refused
(``ingest.store.NewsStore``), because vectors of two models must never share a collection.
``reindex`` reads every article (text and record) from the articles collection, keeps them in
a JSON Lines file beside the index (so a run that stops half-way loses nothing: the next run
starts from that file), drops both collections and the lexical index, and ingests the
articles again with the new embedder (chunking, story groups and sentence vectors included).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ingest.records import Article
from ingest.store import ARTICLES, PASSAGES

PENDING = "reindex-pending.jsonl"
PAGE = 2000


def stored_articles(client: Any, namespace: str = "") -> Iterator[Article]:
    """Every article the index holds, as the record it was ingested from."""
    names = {getattr(c, "name", c) for c in client.list_collections()}
    if namespace + ARTICLES not in names:
        return
    collection = client.get_collection(namespace + ARTICLES)
    total = collection.count()
    for offset in range(0, total, PAGE):
        got = collection.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
        for article_id, body, meta in zip(got["ids"], got["documents"] or [],
                                          got["metadatas"] or [], strict=False):
            meta = meta or {}
            yield Article(body=body or "", id=article_id, title=str(meta.get("title", "")),
                          source=str(meta.get("source", "")), url=str(meta.get("url", "")),
                          published_at=str(meta.get("published_at", "")),
                          origin=str(meta.get("origin", "")))


def reindex(client: Any, *, work_dir: Path, lexical_dir: Path | None,
            ingest: Callable[[list[Article]], Any], namespace: str = "") -> Any:
    """Drop the index's vectors and ingest its articles again through ``ingest`` (which opens
    the store with the new embedder). Returns what ``ingest`` returns."""
    work_dir.mkdir(parents=True, exist_ok=True)
    pending = work_dir / PENDING
    if not pending.exists():  # else a previous run stopped after dropping the collections
        partial = pending.with_suffix(".part")
        with partial.open("w", encoding="utf-8") as out:
            for article in stored_articles(client, namespace):
                out.write(json.dumps({**article.to_dict(), "origin": article.origin}) + "\n")
        partial.replace(pending)
    names = {getattr(c, "name", c) for c in client.list_collections()}
    for name in (namespace + PASSAGES, namespace + ARTICLES):
        if name in names:
            client.delete_collection(name)
    if lexical_dir is not None and lexical_dir.exists():
        shutil.rmtree(lexical_dir)
    with pending.open(encoding="utf-8") as lines:
        articles = [Article(**json.loads(line)) for line in lines if line.strip()]
    report = ingest(articles)
    pending.unlink()
    return report
