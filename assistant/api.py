"""``NewsAssistant``: the one API the CLI, the web UI and scripts share."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.abstention import Gate, abstention_notice, gate_row, names_found
from assistant.composition import compose_extractive, for_why_followup
from assistant.config import Settings
from assistant.extractive import ABSTAIN_TEXT, score_sentences
from assistant.followup import rewrite_followup
from assistant.question import analyse_question
from assistant.results import Answer, Passage, StreamEvent
from assistant.retrieval import Filters, HybridRetriever, Retrieval, RetrievalConfig
from assistant.timewords import parse_as_of
from ingest.embedding import Embedder, make_embedder
from ingest.store import NewsStore, StoredArticle, open_client

if TYPE_CHECKING:  # the pipeline (and its text splitter) is imported when ingesting
    from ingest.pipeline import IngestReport, ProgressHook


class NewsAssistant:
    """Ask questions over an index of news articles and get cited answers.

    >>> bot = NewsAssistant(index="news-index")            # doctest: +SKIP
    >>> bot.ask("What did Xi say about Ukraine?").text      # doctest: +SKIP
    """

    def __init__(
        self,
        index: str | Path | None = None,
        *,
        chroma_url: str | None = None,
        llm: str | None = None,
        model: str | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        base = settings or Settings.from_env()
        overrides = {
            "index": str(index) if index else None,
            "chroma_url": chroma_url,
            "llm": llm,
            "model": model,
        }
        self.settings = base.with_(**{k: v for k, v in overrides.items() if v is not None})
        self.settings.validate()
        self._embedder = embedder
        self._store: NewsStore | None = None

    # ---- parts, opened on first use ----------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(
                self.settings.embedder,
                base_url=self.settings.base_url or None,
                api_key=self.settings.api_key or None,
            )
        return self._embedder

    @property
    def store(self) -> NewsStore:
        if self._store is None:
            client = open_client(
                path=self.settings.index, chroma_url=self.settings.chroma_url or None
            )
            self._store = NewsStore(client, embedder_name=self.embedder.name)
            from ingest.lexical import open_lexical

            self._store.lexical = open_lexical(
                self._store, path=self.settings.index, chroma_url=self.settings.chroma_url or None
            )
        return self._store

    @property
    def retriever(self) -> HybridRetriever:
        s = self.settings
        return HybridRetriever(
            self.store,
            self.embedder,
            RetrievalConfig(
                dense_weight=s.dense_weight,
                recency_weight=s.recency_weight,
                recency_days=s.recency_days,
                window_days=s.window_days,
            ),
        )

    # ---- ingest ------------------------------------------------------------------------
    def ingest(
        self, sources: Iterable[str | Path] | str | Path, *, on_progress: ProgressHook | None = None
    ) -> IngestReport:
        """Index files, folders and URLs; returns added / updated / unchanged / failed."""
        if isinstance(sources, (str, Path)):
            sources = [sources]
        from ingest.pipeline import collect_articles, ingest_articles

        return ingest_articles(
            collect_articles(sources), self.store, self.embedder, on_progress=on_progress
        )

    @property
    def feeds(self) -> Any:
        """The feeds this index follows (``list``/``add``/``remove``; see ingest.feedlist): a
        JSON file in a local index, a collection on a Chroma server."""
        from ingest.feedlist import open_feed_list
        from ingest.store import open_client

        url = self.settings.chroma_url
        client = open_client(chroma_url=url) if url else None
        return open_feed_list(path=self.settings.index, client=client, chroma_url=url)

    def refresh(self, sources: Iterable[str] | None = None) -> Any:
        """One round over followed feeds and pages (``sources`` are followed first; default:
        all followed ones): new entries are ingested, then each feed's state is saved."""
        from ingest.refresh import refresh_sources

        feeds = self.feeds
        if sources is None:
            chosen = feeds.list()
        else:
            chosen = []
            for source in sources:
                feeds.add(source)  # a watched source is followed, so its state is kept
                chosen.extend([f] if (f := feeds.get(source)) else [])
        return refresh_sources(chosen, feeds, self.store, self.embedder)

    def ingest_demo(self, *, on_progress: ProgressHook | None = None) -> IngestReport:
        """Index the demo corpus that ships with the package."""
        from ingest.pipeline import DEMO_CORPUS

        return self.ingest([DEMO_CORPUS], on_progress=on_progress)

    # ---- retrieval ---------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        k: int = 10,
        filters: Mapping[str, Any] | Filters | None = None,
        as_of: date | datetime | str | None = None,
    ) -> list[Passage]:
        """Ranked passages for ``query``; filters: ``source``, ``since``, ``until``.
        ``as_of`` (default today) anchors "this week" etc. and the recency prior; when given,
        articles published after it are left out."""
        if not query.strip():
            raise ValueError("the query is empty")
        from assistant.syndication import collapse_syndicated

        wanted, passages = k, []
        for _ in range(2):  # copies of one story fold into one: fetch more to still give k
            found = self.retriever.search(
                query,
                k=wanted,
                filters=Filters.from_mapping(filters),
                max_per_article=self.settings.max_per_article,
                as_of=as_of,
            )
            passages = collapse_syndicated(found, self.store)
            if len(passages) >= k or len(found) < wanted:
                break
            wanted += k - len(passages)
        return passages[:k]

    def as_retriever(self, *, k: int = 8, filters: Mapping[str, Any] | None = None) -> Any:
        """A LangChain retriever over ``search``, to compose into your own chains."""
        from assistant.langchain_tools import NewsRetriever

        return NewsRetriever(assistant=self, k=k, filters=dict(filters) if filters else None)

    def vectorstore(self) -> Any:
        """The passages as a ``langchain_chroma.Chroma`` vector store."""
        from assistant.langchain_tools import news_vectorstore

        return news_vectorstore(self)

    def get_article(self, article_id: str) -> StoredArticle | None:
        return self.store.get_articles([article_id]).get(article_id)

    # ---- answers -----------------------------------------------------------------------
    def ask(
        self,
        question: str,
        *,
        filters: Mapping[str, Any] | Filters | None = None,
        history: list[tuple[str, str]] | None = None,
        previous_queries: list[str] | None = None,
        as_of: date | datetime | str | None = None,
    ) -> Answer:
        """A short answer whose every sentence carries a citation, or an abstention.
        ``as_of``: the date the question is asked on (default today), see ``search``."""
        answer = None
        for event in self.stream(
            question,
            filters=filters,
            history=history,
            previous_queries=previous_queries,
            as_of=as_of,
        ):
            answer = event.answer or answer
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        *,
        filters: Mapping[str, Any] | Filters | None = None,
        history: list[tuple[str, str]] | None = None,
        previous_queries: list[str] | None = None,
        as_of: date | datetime | str | None = None,
    ) -> Iterator[StreamEvent]:
        """Text tokens as they come, then one final event holding the ``Answer``."""
        if not question.strip():
            raise ValueError("the question is empty")
        started = time.perf_counter()
        query = rewrite_followup(question, previous_queries or [])
        if self.settings.llm != "extractive" and history:
            from assistant.generate import condense_followup

            query = condense_followup(self, question, history, fallback=query)
        condensed = time.perf_counter()
        retriever = self.retriever
        vector = retriever.embed_query(query)
        retrieval = retriever.retrieve(
            query,
            k=self.settings.k,
            filters=Filters.from_mapping(filters),
            max_per_article=self.settings.max_per_article,
            vector=vector,
            as_of=as_of,
        )
        from assistant.syndication import collapse_syndicated

        passages = collapse_syndicated(retrieval.passages, self.store)
        retrieved = time.perf_counter()
        analysis = analyse_question(question)
        scored = score_sentences(
            question, self._sentence_vector(question, query, vector), passages, self.embedder,
            analysis=analysis, as_of=parse_as_of(as_of) if as_of else None,
        )
        if analysis.kind == "why" and history:  # "why?" after an answer: its causes
            scored = for_why_followup(scored, passages, history[-1][1])
        answer = Answer(
            question=question, text="", passages=passages, search_query=query,
            mode=self.answer_mode, question_kind=analysis.kind,
        )
        if not scored or self._irrelevant(retrieval, scored, analysis, passages):
            answer.text, answer.abstained, answer.mode = ABSTAIN_TEXT, True, self.answer_mode
            answer.notice = self._abstention_notice(analysis, question, passages, retrieval, as_of)
            yield StreamEvent("token", token=answer.text)
        elif self.settings.llm == "extractive":
            composed = compose_extractive(
                analysis, scored, passages, self.settings.answer_sentences, question)
            answer.text, answer.citations = composed.text, composed.citations
            answer.answer_span = composed.answer_span
            for piece in answer.text.split(" "):
                yield StreamEvent("token", token=piece + " ")
        else:
            from assistant.generate import generate_answer

            yield from generate_answer(self, answer, scored, history or [])
        answer.timings_ms.update({
            "condense": (condensed - started) * 1000,
            "retrieval": (retrieved - condensed) * 1000,
            "total": (time.perf_counter() - started) * 1000,
        })
        yield StreamEvent("answer", answer=answer)

    def _sentence_vector(self, question: str, query: str, vector: Any) -> Any:
        """For a rewritten follow-up, the sentence must answer the new question, in the old
        topic: blend both vectors (retrieval already used the rewritten one)."""
        if query == question:
            return vector
        blended = vector + self.retriever.embed_query(question)
        return blended / float(np.linalg.norm(blended))

    def _irrelevant(
        self, retrieval: Retrieval, scored: list[Any], analysis: Any, passages: list[Passage]
    ) -> bool:
        """The calibrated gate (assistant/abstention.py); the fixed cosine thresholds when no
        gate is shipped."""
        best_cosine = max(s.similarity for s in scored)
        if (retrieval.relevance < self.settings.min_relevance
                or best_cosine < self.settings.sentence_min_relevance):
            return True
        gate = Gate.shipped()
        if gate is None:
            return False
        row = gate_row(scored[0].score, retrieval.relevance, names_found(analysis, passages),
                       len(analysis.entities), len(scored))
        return gate.abstains(row)

    def _abstention_notice(
        self, analysis: Any, question: str, passages: list[Passage], retrieval: Retrieval,
        as_of: Any,
    ) -> str:
        """What was looked for, in which span, and what the index covers."""
        try:
            stats = self.stats()
        except Exception:  # the notice must never turn an abstention into an error
            stats = {}
        span = None
        if retrieval.scope is not None:
            span = (retrieval.scope.since.isoformat(), retrieval.scope.until.isoformat())
        elif as_of:
            day = parse_as_of(as_of)
            start = day - timedelta(days=self.settings.window_days)
            span = (start.isoformat(), day.isoformat())
        return abstention_notice(analysis, question, passages, stats, span)

    @property
    def answer_mode(self) -> str:
        """What answers: ``extractive``, or ``local:MODEL`` / ``openai:MODEL``."""
        if self.settings.llm == "local":
            return f"local:{self.settings.local_model}"
        if self.settings.llm == "openai":
            return f"openai:{self.settings.model}"
        return "extractive"

    def evaluate(
        self, questions: str | Path | Any, *, out_dir: str | Path | None = None, k: int = 10,
        limit: int | None = None, use_dates: bool = True, **options: Any,
    ) -> Any:
        """Run a question set (.jsonl or .csv, see DESIGN.md) and score it.

        Returns an ``EvaluationResult``: ``metrics``, per-question ``scores`` and, with
        ``out_dir``, the report ``files``. ``options`` go to ``run_evaluation``
        (``on_progress``, ``run_info``, ``judge``)."""
        from assistant.evaluation.runner import run_evaluation

        return run_evaluation(self, questions, out_dir=out_dir, k=k, limit=limit,
                              use_dates=use_dates, **options)

    def chat(self) -> Chat:
        """A conversation: follow-up questions are resolved against the earlier turns."""
        return Chat(self)

    def stats(self) -> dict[str, Any]:
        """Articles, passages, outlets and date span of the index, and the answer mode."""
        metas = self.store.all_article_metadata()
        dates = sorted(m["published_at"][:10] for m in metas if m.get("published_at"))
        articles, passages = self.store.count()
        return {
            "articles": articles,
            "passages": passages,
            "sources": sorted({m.get("source", "") for m in metas if m.get("source")}),
            "first_date": dates[0] if dates else "",
            "last_date": dates[-1] if dates else "",
            "answer_mode": self.answer_mode,
            "embedder": self.embedder.name,
        }


class Chat:
    """Conversation state: the turns so far and the queries they were retrieved with."""

    def __init__(self, assistant: NewsAssistant) -> None:
        self.assistant = assistant
        self.turns: list[Answer] = []

    @property
    def history(self) -> list[tuple[str, str]]:
        return [(a.question, a.text) for a in self.turns]

    def _context(self) -> dict[str, Any]:
        return {"history": self.history, "previous_queries": [a.search_query for a in self.turns]}

    def ask(self, question: str, **kwargs: Any) -> Answer:
        answer = self.assistant.ask(question, **self._context(), **kwargs)
        self.turns.append(answer)
        return answer

    def stream(self, question: str, **kwargs: Any) -> Iterator[StreamEvent]:
        for event in self.assistant.stream(question, **self._context(), **kwargs):
            if event.answer is not None:
                self.turns.append(event.answer)
            yield event

    def reset(self) -> None:
        self.turns.clear()
