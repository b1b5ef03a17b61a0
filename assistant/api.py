"""``NewsAssistant``: the one API the CLI, the web UI and scripts share."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import pipeline as steps
from assistant.answerers import (
    Answerer,
    AnswerRequest,
    AnswerServices,
    answer_description,
    answer_mode,
    build_answerers,
    check_answer_mode,
    choose_answerer,
)
from assistant.config import RetrievalConfig, Settings
from assistant.errors import InvalidRequest
from assistant.llm import Endpoint
from assistant.results import Answer, Passage, StreamEvent
from assistant.retrieval import Filters, HybridRetriever
from ingest.embedding import Embedder, make_embedder, vector_parts
from ingest.store import NewsStore, StoredArticle, open_client, open_store

if TYPE_CHECKING:  # the pipeline (and its text splitter) is imported when ingesting
    from langchain_chroma import Chroma
    from langchain_core.language_models import BaseChatModel

    from assistant.langchain_tools import AnswerRunnable, NewsRetriever
    from assistant.statements import Statement
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
        chat_model: BaseChatModel | None = None,
    ) -> None:
        """``chat_model``: any LangChain chat model to write answers with (the ``local`` and
        ``openai`` modes otherwise build a ``ChatOpenAI`` on their endpoint); it implies an LLM
        mode (``openai`` unless ``llm`` says otherwise)."""
        base = settings or Settings.from_env()
        if chat_model is not None and llm is None:  # a chat model given is a chat model wanted
            llm = "openai"
            model = model or base.model or str(
                getattr(chat_model, "model_name", "") or type(chat_model).__name__)
        overrides = {
            "index": str(index) if index else None,
            "chroma_url": chroma_url,
            "llm": llm,
            "model": model,
        }
        self.settings = base.with_(**{k: v for k, v in overrides.items() if v is not None})
        self.settings.validate()
        check_answer_mode(self.settings)
        self.chat_model = chat_model
        self._embedder = embedder
        self._store: NewsStore | None = None
        self._retriever: HybridRetriever | None = None
        self._answerers: dict[str, Answerer] | None = None

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
            self._store = open_store(path=self.settings.index,
                                     chroma_url=self.settings.chroma_url or None,
                                     embedder_name=self.embedder.name)
        return self._store

    @property
    def retrieval_config(self) -> RetrievalConfig:
        """The settings' retrieval knobs, else those cross-validated for the embedder in use
        (which is MiniLM when e5 was asked for but cannot run here)."""
        return self.settings.retrieval or RetrievalConfig.for_models(
            tuple(name for name, _ in vector_parts(self.embedder)) or (self.embedder.name,))

    @property
    def retriever(self) -> HybridRetriever:
        """The one retriever (built once): candidates, fusion, time, syndication, top-up."""
        if self._retriever is None:
            self._retriever = HybridRetriever(self.store, self.embedder, self.retrieval_config)
        return self._retriever

    @property
    def answerers(self) -> dict[str, Answerer]:
        """The answerers of this bot by name (built once): the default (``settings.llm``) and
        those questions may be routed to (``assistant.answerers.ROUTES``)."""
        if self._answerers is None:
            services = AnswerServices(embedder=self.embedder, index=self.store,
                                      chat_model=self.chat_model)
            self._answerers = build_answerers(self.settings, services)
        return self._answerers

    @property
    def answerer(self) -> Answerer:
        """The default answerer, of the answer mode ``settings.llm``."""
        return self.answerers[self.settings.llm]

    def endpoint(self) -> Endpoint | None:
        """The chat endpoint answers are generated on (None in ``extractive`` mode); the
        ``local`` mode starts its model server here if it is not running."""
        get = getattr(self.answerer, "endpoint", None)
        return get() if callable(get) else None

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

    def reindex(self, *, on_progress: ProgressHook | None = None) -> IngestReport:
        """Re-embed every article of the index with this assistant's embedder (after a
        change of ``NEWS_ASSISTANT_EMBEDDER``), from the article bodies the index stores."""
        from ingest.lexical import cache_dir_for
        from ingest.pipeline import ingest_articles
        from ingest.reindex import reindex

        url = self.settings.chroma_url or None
        lexical_dir = cache_dir_for(url) if url else Path(self.settings.index) / "lexical"
        work_dir = lexical_dir.with_name(lexical_dir.name + "-reindex") if url else \
            Path(self.settings.index)
        if self._store is not None and self._store.lexical is not None:
            self._store.lexical.close()
        self._store = None
        self._retriever = None  # it held the old store
        client = open_client(path=self.settings.index, chroma_url=url)
        return reindex(client, work_dir=work_dir, lexical_dir=lexical_dir, ingest=lambda items:
                       ingest_articles(items, self.store, self.embedder, on_progress=on_progress))

    @property
    def feeds(self) -> Any:
        """The feeds this index follows (``list``/``add``/``remove``; see ingest.feedlist): a
        JSON file in a local index, a collection on a Chroma server."""
        from ingest.feedlist import open_feed_list

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
            raise InvalidRequest("the query is empty")
        retrieval = self.retriever.retrieve_collapsed(
            query, k=k, filters=Filters.from_mapping(filters),
            max_per_article=self.settings.max_per_article, as_of=as_of)
        return retrieval.passages

    def statements(
        self,
        speaker: str | None = None,
        about: str | None = None,
        filters: Mapping[str, Any] | Filters | None = None,
        as_of: date | datetime | str | None = None,
        k: int = 20,
    ) -> list[Statement]:
        """Who said what: ``speaker``'s attributed statements (on ``about``), newest first,
        copies in other outlets folded (see assistant.statements)."""
        from assistant.statements import StatementFinder

        finder = StatementFinder(self.store, self.embedder)
        return finder.find(speaker, about, filters=filters, as_of=as_of, k=k)

    def as_retriever(
        self, *, k: int = 8, filters: Mapping[str, Any] | None = None,
        as_of: date | str | None = None,
    ) -> NewsRetriever:
        """A LangChain retriever over ``search``, to compose into your own chains; documents
        carry ``also_reported_by`` in their metadata."""
        from assistant.langchain_tools import NewsRetriever

        return NewsRetriever(search=self.search, k=k, filters=dict(filters) if filters else None,
                             as_of=as_of)

    def as_runnable(self) -> AnswerRunnable:
        """This pipeline as a LangChain ``Runnable`` (``invoke``/``stream``/``batch``) from a
        question, or ``{"question", "filters", "as_of"}``, to an ``Answer``; ``stream`` gives
        the tokens and then the ``Answer``. Compose it: ``RunnableLambda(f) | bot.as_runnable()``.
        """
        from assistant.langchain_tools import AnswerRunnable

        return AnswerRunnable(self.stream)

    def vectorstore(self) -> Chroma:
        """The passages as a ``langchain_chroma.Chroma`` vector store."""
        from assistant.langchain_tools import news_vectorstore

        return news_vectorstore(self.store.client, self.embedder)

    def get_article(self, article_id: str) -> StoredArticle | None:
        return self.store.get_articles([article_id]).get(article_id)

    def articles(self) -> list[dict[str, Any]]:
        """Every indexed article, newest first: ``id``, ``title``, ``source``, ``url``,
        ``published_at``, ``passages`` (0 for an exact copy of another), ``origin`` (file or
        URL it came from) and ``duplicate_of``."""
        rows = [
            {
                "id": str(m.get("id", "")),
                "title": str(m.get("title", "")),
                "source": str(m.get("source", "")),
                "url": str(m.get("url", "")),
                "published_at": str(m.get("published_at", "")),
                "passages": int(m.get("n_chunks", 0) or 0),
                "origin": str(m.get("origin", "")),
                "duplicate_of": str(m.get("duplicate_of", "") or ""),
            }
            for m in self.store.all_article_metadata()
        ]
        rows.sort(key=lambda r: (str(r["published_at"])[:10], str(r["title"])), reverse=True)
        return rows

    def delete(self, article_ids: Iterable[str]) -> list[str]:
        """Remove articles and everything derived from them: passages, lexical entries (and the
        vectors kept with them), statements, and the followed feeds' record of having read
        them (so a feed that still lists one brings it back on its next refresh). Returns the
        ids that were in the index; unknown ids are ignored."""
        wanted = list(dict.fromkeys(str(i) for i in article_ids))
        found = self.store.get_articles(wanted)
        for article_id in found:  # the store deletes statements and sentence vectors too
            self.store.delete_article(article_id)
        if found:
            self._forget_in_feeds(found.values())
        return [i for i in wanted if i in found]

    def _forget_in_feeds(self, articles: Iterable[StoredArticle]) -> None:
        from dataclasses import replace
        from hashlib import sha1

        keys = {k for a in articles for k in (a.url, a.id) if k}
        feeds = self.feeds
        for feed in feeds.list():
            seen = {k: v for k, v in feed.state.seen.items()
                    if k not in keys and sha1(k.encode("utf-8")).hexdigest()[:16] not in keys}
            if len(seen) != len(feed.state.seen):
                feeds.save(replace(feed, state=replace(feed.state, seen=seen)))

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
        """Text tokens as they come, then one final event holding the ``Answer``: the steps
        of ``assistant.pipeline`` (rewrite follow-up -> analyse question -> retrieve -> decide
        abstention -> answer -> check citations)."""
        if not question.strip():
            raise InvalidRequest("the question is empty")
        started = time.perf_counter()
        wanted = Filters.from_mapping(filters)
        condense = getattr(self.answerer, "condense", None)
        query = steps.rewrite_question(question, history=history or [],
                                       previous_queries=previous_queries or [],
                                       condense=condense)
        analysis = steps.analyse(question)
        condensed = time.perf_counter()
        found = steps.retrieve(self.retriever, query, settings=self.settings, filters=wanted,
                               as_of=as_of)
        retrieved = time.perf_counter()
        sentences = steps.score_for_question(question, query, found, embedder=self.embedder,
                                             embed_query=self.retriever.embed_query,
                                             analysis=analysis, as_of=steps.as_of_date(as_of),
                                             history=history or [])
        answerer = choose_answerer(self.settings, analysis, self.answerers)
        decides = getattr(answerer, "handles", None)  # an answerer that abstains by itself
        followup = bool(history) and getattr(analysis, "kind", "") == "why"
        explains = followup and steps.explains_previous(sentences, found.passages, history or [])
        abstains = not (decides and decides(question)) and steps.decide_abstention(
            found.retrieval, sentences, self.settings, analysis, found.passages,
            followup=followup, explains=explains)
        if abstains and not followup:
            # a best sentence that says what was asked overrides the gate, and is quoted first
            stated = steps.stated_sentence(question, analysis, sentences, found.passages,
                                           found.retrieval)
            if stated is not None:
                abstains, sentences = False, steps.first(sentences, stated)
        if abstains:
            notice = self._abstention_notice(analysis, question, found, as_of)
            events = steps.abstain(question, query, found.passages, self.answer_mode, notice)
        else:
            events = answerer.answer(AnswerRequest(
                question=question, search_query=query, passages=found.passages,
                history=list(history or []), analysis=analysis, as_of=steps.as_of_date(as_of),
                filters=wanted, sentences=sentences))
        answer = None
        for event in events:
            if event.answer is None:
                yield event
            else:
                answer = event.answer
        if answer is None:
            raise RuntimeError("the answerer ended without an answer")
        answer = steps.check_answer_citations(answer, self._bodies)
        timings = {**answer.timings_ms,
                   "condense": (condensed - started) * 1000,
                   "retrieval": (retrieved - condensed) * 1000,
                   "total": (time.perf_counter() - started) * 1000}
        kind = getattr(analysis, "kind", "") or answer.question_kind
        yield StreamEvent("answer", answer=replace(answer, timings_ms=timings,
                                                   question_kind=kind))

    def _abstention_notice(self, analysis: Any, question: str, found: Any, as_of: Any) -> str:
        """What was looked for, in which span, and what the index covers."""
        from datetime import timedelta

        from assistant.abstention import abstention_notice

        try:
            stats = self.stats()
        except Exception:  # the notice must never turn an abstention into an error
            stats = {}
        span = None
        scope = found.retrieval.scope
        if scope is not None:
            span = (scope.since.isoformat(), scope.until.isoformat())
        elif as_of:
            day = steps.as_of_date(as_of)
            if day is not None:
                start = day - timedelta(days=self.retrieval_config.window_days)
                span = (start.isoformat(), day.isoformat())
        return abstention_notice(analysis, question, found.passages, stats, span)

    def _bodies(self, article_ids: list[str]) -> dict[str, str]:
        return {a: s.body for a, s in self.store.get_articles(article_ids).items()}

    @property
    def answer_mode(self) -> str:
        """What answers: ``extractive``, or ``local:MODEL`` / ``openai:MODEL``."""
        return answer_mode(self.answerer)

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
        summary = self.store.article_summary()
        return {
            "articles": summary["articles"],
            "passages": summary["passages"],
            "sources": summary["sources"],
            "first_date": summary["first_date"],
            "last_date": summary["last_date"],
            "answer_mode": self.answer_mode,
            "answer_description": answer_description(self.answerer),
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
