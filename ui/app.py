"""The Gradio app: a thin shell over ``NewsAssistant`` (chat, sources, filters, conversations,
library, adding news).

``build_app(bot)`` returns the ``gr.Blocks``; ``launch(app)`` starts it; ``serve(bot, ...)``
does both for ``news-assistant serve``. All retrieval and answering happens in ``assistant``;
this module only turns its events and results into components (see ``ui.render``), and keeps
each browser's conversations in a ``ConversationStore`` beside the index.

Named API endpoints (for ``gradio_client``; each client session is one browser):
``/ask`` (question, outlets, since, until -> answer JSON), ``/history``, ``/reset``,
``/conversations``, ``/open_conversation``, ``/rename_conversation``,
``/delete_conversation``, ``/feedback``, ``/articles``, ``/delete_articles``, ``/add_news``
and ``/stats``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

# Before gradio is imported: no usage analytics, no version check, no hub telemetry.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr

from assistant.errors import InvalidRequest
from assistant.results import Answer
from assistant.retrieval import Filters
from ui import library, render
from ui.conversations import ConversationStore, new_id, store_path
from ui.suggest import suggest_followups
from ui.uploads import ALLOWED_SUFFIXES, DEFAULT_MAX_MB, add_news, check_file

if TYPE_CHECKING:
    from assistant.api import NewsAssistant

log = logging.getLogger(__name__)
STYLE = Path(__file__).with_name("style.css")
SCRIPT = Path(__file__).with_name("cards.js")
DEMO_QUESTION = "What did Xi say about Ukraine?"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
OWNER_ID = re.compile(r"^[0-9a-f]{32}$")
DATE_FORMAT = "YYYY-MM-DD"
UPLOAD_BACKSTOP = 5  # Gradio refuses uploads over this many times the --max-mb limit


class FilterError(ValueError):
    """A filter the user typed that cannot be used; the message says how to fix it."""


@dataclass
class Session:
    """One browser tab: whose conversations (``owner``, kept in the browser's localStorage),
    which one is open, its ``Chat`` and the Stop flag of the answer being written."""

    owner: str
    chat: Any
    conversation: str | None = None
    partial: list[bool] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    # one answer at a time per tab: a question sent while one is written waits for it
    busy: threading.Lock = field(default_factory=threading.Lock)
    rated: int | None = None  # the turn rated last, which a note is attached to

    def __deepcopy__(self, memo: dict[int, Any]) -> Session:  # Gradio copies state values
        return self


def parse_filters(outlets: list[str] | None, since: str | None, until: str | None
                  ) -> dict[str, Any]:
    """The filters dict of the API. Dates must be ``YYYY-MM-DD``; raises ``FilterError``
    with the format in its message."""
    found: dict[str, Any] = {"source": [o for o in outlets or [] if o]}
    for name, value in (("since", since), ("until", until)):
        value = (value or "").strip()
        if value:
            try:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.+Z-]*)?", value):
                    raise ValueError(value)
                date.fromisoformat(value[:10])
            except ValueError:
                raise FilterError(f"{name.capitalize()}: write the date as {DATE_FORMAT} "
                                  f"(e.g. 2024-05-17), not {value!r}") from None
            value = value[:10]
        found[name] = value
    if found["since"] and found["until"] and found["since"] > found["until"]:
        raise FilterError(f"Since ({found['since']}) is after Until ({found['until']}): no "
                          "article can match; change one of them")
    try:  # the API's own checks, shown as the user's error
        Filters.from_mapping(found)
    except InvalidRequest as error:
        raise FilterError(str(error)) from None
    return found


class Handlers:
    """Event handlers bound to one ``NewsAssistant`` and its conversation store."""

    def __init__(self, bot: Any, store: ConversationStore, *,
                 max_mb: float = DEFAULT_MAX_MB) -> None:
        self.bot = bot
        self.store = store
        self.max_mb = max_mb
        self._span: tuple[int, str, str] | None = None  # articles, first and last date

    # ---- helpers -----------------------------------------------------------------------
    def session(self, session: Session | None, owner: str | None = None) -> Session:
        if session is not None:
            return session
        owner = owner if owner and OWNER_ID.match(owner) else new_id()
        return Session(owner=owner, chat=self.bot.chat())

    @staticmethod
    def filters(outlets: list[str] | None, since: str | None, until: str | None
                ) -> dict[str, Any]:
        """``parse_filters`` for API endpoints: a bad filter is the caller's error."""
        try:
            return parse_filters(outlets, since, until)
        except FilterError as error:
            raise gr.Error(str(error)) from None

    def _bodies(self, turns: list[Answer]) -> render.ArticleBody:
        ids = {c.article_id for a in turns for c in a.citations}
        found = self.bot.store.get_articles(ids) if ids else {}
        return lambda article_id: found[article_id].body if article_id in found else None

    def _sources(self, s: Session) -> str:
        turns = list(s.chat.turns)
        return render.sources_panel(turns, self._bodies(turns), partial=s.partial)

    def _messages(self, s: Session, pending: tuple[str, str] | None = None) -> list[Any]:
        turns = list(s.chat.turns)
        options: list[str] = []
        if pending is None and turns and not (s.partial and s.partial[-1]):
            options = suggest_followups(turns[-1])
        return render.chat_messages(turns, pending, partial=s.partial, options=options)

    def _choices(self, s: Session) -> Any:
        items = [(c.title, c.id) for c in self.store.list(s.owner)]
        return gr.update(choices=items, value=s.conversation)

    def _load(self, s: Session, conversation: str | None) -> None:
        turns = self.store.turns(s.owner, conversation) if conversation else []
        s.chat = self.bot.chat()
        s.chat.turns.extend(t.answer for t in turns)
        s.partial = [t.partial for t in turns]
        s.conversation = conversation if turns or (
            conversation and self.store.owns(s.owner, conversation)) else None

    # ---- page load and conversations ---------------------------------------------------
    def start(self, browser_id: str | None) -> tuple[Any, ...]:
        """A page (re)load: this browser's id (made on its first visit), its conversations,
        and the latest one reopened."""
        s = self.session(None, browser_id)
        latest = self.store.list(s.owner)
        self._load(s, latest[0].id if latest else None)
        return (s.owner, s, self._choices(s), self._messages(s), self._sources(s),
                self._title(s))

    def _title(self, s: Session) -> str:
        for c in self.store.list(s.owner):
            if c.id == s.conversation:
                return c.title
        return ""

    def open(self, conversation: str | None, session: Session | None) -> tuple[Any, ...]:
        s = self.session(session)
        if conversation != s.conversation:
            self._load(s, conversation)
        return s, self._messages(s), self._sources(s), self._title(s)

    def new(self, session: Session | None) -> tuple[Any, ...]:
        s = self.session(session)
        self._load(s, None)
        return s, [], render.EMPTY_SOURCES, self._choices(s), ""

    def rename(self, title: str, session: Session | None) -> tuple[Any, ...]:
        s = self.session(session)
        if not s.conversation:
            gr.Warning("Ask a question first: a conversation is saved with its first answer.")
        elif not self.store.rename(s.owner, s.conversation, title or ""):
            gr.Warning("Give the conversation a title.")
        return s, self._choices(s)

    def delete_current(self, session: Session | None) -> tuple[Any, ...]:
        s = self.session(session)
        if s.conversation:
            self.store.delete(s.owner, s.conversation)
        return self.new(s)

    # ---- chat --------------------------------------------------------------------------
    def _busy(self, busy: bool) -> tuple[Any, Any, Any]:
        """(Ask, Stop, Regenerate) while an answer is written, and after."""
        return (gr.update(interactive=not busy), gr.update(visible=busy),
                gr.update(interactive=not busy))

    def respond(
        self, question: str, outlets: list[str] | None, since: str | None, until: str | None,
        session: Session | None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer into the chatbot, then show its sources. Yields (question box,
        chatbot, sources, session, conversation list, Ask, Stop, Regenerate). A bad filter
        or an empty question is a toast: the chat and the question box stay as they are."""
        skip = (gr.skip(),) * 8
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield skip
            return
        try:
            filters = parse_filters(outlets, since, until)
        except FilterError as error:
            gr.Warning(str(error))
            yield skip
            return
        yield from self._answer(question, filters, self.session(session))

    def _answer(self, question: str, filters: dict[str, Any], s: Session, *,
                regenerate: bool = False) -> Iterator[tuple[Any, ...]]:
        """Answer ``question`` (or, with ``regenerate``, the latest one again, replacing its
        answer) in ``s``'s conversation, streaming; one answer at a time per tab."""
        if not s.busy.acquire(timeout=300):
            gr.Warning("The previous answer is still being written; ask again in a moment.")
            yield (gr.skip(),) * 8
            return
        try:
            if regenerate:
                if not s.chat.turns:
                    yield (gr.skip(),) * 8
                    return
                question = s.chat.turns.pop().question
                s.partial = s.partial[: len(s.chat.turns)]
                if s.conversation:
                    self.store.drop_last_turn(s.owner, s.conversation)
            yield from self._answer_now(question, filters, s)
            # Gradio's completion message re-sends the generator's last values. Were they the
            # finished chat, a "New conversation" clicked between the two would be undone, so
            # the last values leave the chat and sources alone. (The rest repeat the final
            # values: Gradio streams changes as diffs, and a key dropped from an update would
            # be unset, not kept.)
            yield (gr.skip(), gr.skip(), gr.skip(), s, self._choices(s), *self._busy(False))
        finally:
            s.busy.release()

    def _answer_now(self, question: str, filters: dict[str, Any], s: Session
                    ) -> Iterator[tuple[Any, ...]]:
        s.stop.clear()
        if s.conversation is None:
            s.conversation = self.store.create(s.owner, question)
        conversations = self._choices(s)
        partial = ""
        yield ("", self._messages(s, (question, partial)), gr.skip(), s, conversations,
               *self._busy(True))
        answer, stopped = None, False
        try:
            for event in s.chat.stream(question, filters=filters):
                if event.answer is not None:
                    answer = event.answer
                    continue
                partial += event.token
                if s.stop.is_set():
                    stopped = True
                    break
                yield (gr.skip(), self._messages(s, (question, partial)), gr.skip(), s,
                       gr.skip(), *self._busy(True))
        except InvalidRequest as error:  # the user's to fix: say what is wrong
            failed = f"Sorry, {error}"
            yield (gr.skip(), self._messages(s, (question, failed)), gr.skip(), s, gr.skip(),
                   *self._busy(False))
            return
        except Exception as error:  # the message may carry endpoint details: log it
            log.exception("answering %r failed", question)
            failed = f"Sorry, answering failed ({type(error).__name__}); see the server log."
            yield (gr.skip(), self._messages(s, (question, failed)), gr.skip(), s, gr.skip(),
                   *self._busy(False))
            return
        if stopped or answer is None:
            answer = Answer(question=question, text=partial.strip(), search_query=question,
                            mode=getattr(self.bot, "answer_mode", ""))
            s.chat.turns.append(answer)
            stopped = True
        elif answer.abstained and not answer.notice:  # say what was searched
            answer = replace(answer, notice=self.searched(filters))
            s.chat.turns[-1] = answer
        s.partial.append(stopped)
        self.store.add_turn(s.owner, s.conversation, answer, partial=stopped)
        yield (gr.skip(), self._messages(s), self._sources(s), s, self._choices(s),
               *self._busy(False))

    def stop(self, session: Session | None) -> None:
        """Stop the answer being written; what is written so far is kept, marked."""
        if session is not None:
            session.stop.set()

    def regenerate(
        self, outlets: list[str] | None, since: str | None, until: str | None,
        session: Session | None,
    ) -> Iterator[tuple[Any, ...]]:
        """Answer the latest question again (with the filters now set)."""
        s = self.session(session)
        if not s.chat.turns:
            gr.Warning("Nothing to regenerate yet.")
            yield (gr.skip(),) * 8
            return
        try:
            filters = parse_filters(outlets, since, until)
        except FilterError as error:
            gr.Warning(str(error))
            yield (gr.skip(),) * 8
            return
        yield from self._answer("", filters, s, regenerate=True)

    def ask_suggestion(
        self, outlets: list[str] | None, since: str | None, until: str | None,
        session: Session | None, evt: gr.SelectData,
    ) -> Iterator[tuple[Any, ...]]:
        """A suggested follow-up clicked: ask it."""
        yield from self.respond(str(evt.value or ""), outlets, since, until, session)

    # ---- feedback ----------------------------------------------------------------------
    def like(self, session: Session | None, evt: gr.LikeData) -> Session:
        """Thumbs up/down on an answer in the chatbot (message index 2n-1 is turn n)."""
        s = self.session(session)
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        turn = int(index) // 2 + 1
        rating = None if evt.liked is None or evt.liked == "" else (1 if evt.liked is True
                                                                     else -1)
        if s.conversation:
            self.store.set_feedback(s.owner, s.conversation, turn, rating)
        s.rated = turn
        return s

    def note(self, text: str, session: Session | None) -> tuple[str, Session]:
        """Attach a note to the answer rated last (else the latest answer)."""
        s = self.session(session)
        turn = s.rated or len(s.chat.turns)
        if not s.conversation or not turn:
            gr.Warning("Ask a question first.")
            return gr.skip(), s
        rating = next((t.rating for t in self.store.turns(s.owner, s.conversation)
                       if t.n == turn), None)
        self.store.set_feedback(s.owner, s.conversation, turn, rating, text or "")
        gr.Info(f"Note saved with answer {turn}.")
        return "", s

    # ---- API-only --------------------------------------------------------------------------
    def ask_json(
        self, question: str, outlets: list[str] | None, since: str | None, until: str | None,
        session: Session | None,
    ) -> tuple[dict[str, Any], Session]:
        """Answer ``question`` in this session's conversation; the answer as JSON."""
        if not (question or "").strip():
            raise gr.Error("the question is empty")
        filters = self.filters(outlets, since, until)
        s = self.session(session)
        for _ in self._answer(question.strip(), filters, s):
            pass
        return s.chat.turns[-1].to_dict(), s

    @staticmethod
    def history(session: Session | None) -> list[dict[str, Any]]:
        """This session's conversation so far: questions, answers and cited article ids."""
        turns = session.chat.turns if session is not None else []
        return [{"question": a.question, "answer": a.text,
                 "citations": [c.article_id for c in a.citations]} for a in turns]

    def reset(self, session: Session | None) -> tuple[list[Any], str, Session]:
        """New conversation: empty chat, empty sources (the old one stays in the list)."""
        s = self.session(session)
        self._load(s, None)
        return [], render.EMPTY_SOURCES, s

    def conversations_json(self, session: Session | None) -> tuple[list[dict[str, Any]],
                                                                    Session]:
        s = self.session(session)
        return ([{"id": c.id, "title": c.title, "updated": c.updated, "turns": c.turns,
                  "current": c.id == s.conversation} for c in self.store.list(s.owner)], s)

    def open_json(self, conversation: str, session: Session | None) -> tuple[Any, Session]:
        s = self.session(session)
        if not self.store.owns(s.owner, conversation or ""):
            raise gr.Error("no such conversation")
        self._load(s, conversation)
        return [dict(t.answer.to_dict(), partial=t.partial, rating=t.rating, note=t.note)
                for t in self.store.turns(s.owner, conversation)], s

    def rename_json(self, conversation: str, title: str, session: Session | None
                    ) -> tuple[bool, Session]:
        s = self.session(session)
        return self.store.rename(s.owner, conversation or "", title or ""), s

    def delete_json(self, conversation: str, session: Session | None) -> tuple[bool, Session]:
        s = self.session(session)
        done = self.store.delete(s.owner, conversation or "")
        if done and conversation == s.conversation:
            self._load(s, None)
        return done, s

    def feedback_json(self, turn: float, rating: str, note: str, session: Session | None
                      ) -> tuple[bool, Session]:
        """Rate turn ``turn`` of the open conversation: ``up``, ``down`` or ``""``."""
        s = self.session(session)
        value = {"up": 1, "down": -1}.get((rating or "").strip().lower())
        if not s.conversation:
            raise gr.Error("no conversation is open: ask a question first")
        return self.store.set_feedback(s.owner, s.conversation, int(turn), value,
                                       note or ""), s

    # ---- library -----------------------------------------------------------------------
    def _feed_titles(self, feeds: list[Any]) -> dict[str, str]:
        titles: dict[str, str] = {}
        for f in feeds:
            for key in f.state.seen:
                titles[key] = f.title or f.url
        return titles

    def library(self, query: str) -> tuple[Any, str, str]:
        """(article table, per-outlet counts, followed feeds)."""
        articles = self.bot.articles()
        try:
            feeds = list(self.bot.feeds.list())
        except Exception:  # a broken feed list must not hide the articles
            log.exception("reading the followed feeds failed")
            feeds = []
        rows = library.article_rows(articles, query or "",
                                    feed_titles=self._feed_titles(feeds))
        return (gr.update(value=rows or [["", "", "", "", "", ""]]),
                library.outlet_counts_html(articles), library.feeds_html(feeds))

    @staticmethod
    def pick(table: Any, evt: gr.SelectData) -> str:
        """A row clicked in the table: its article id goes to the delete box."""
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        try:
            values = table.values.tolist() if hasattr(table, "values") else table["data"]
            return str(values[int(row)][-1])
        except (IndexError, KeyError, TypeError, ValueError):
            return ""

    def delete_articles(self, ids_text: str, query: str) -> tuple[Any, ...]:
        ids = [i for i in re.split(r"[\s,]+", ids_text or "") if i]
        if not ids:
            gr.Warning("Click an article in the table (or type its ID) first.")
            return (gr.skip(),) * 7
        deleted = self.bot.delete(ids)
        missing = [i for i in ids if i not in deleted]
        message = (f"Deleted {len(deleted)} article(s)." if deleted else "Nothing deleted.") + (
            f" Not in the index: {', '.join(missing)}" if missing else "")
        gr.Info(message)
        return ("", *self.library(query), *self.stats())

    def articles_json(self, query: str) -> list[dict[str, Any]]:
        return [a for a in self.bot.articles() if not query or library.matches(a, query)]

    def delete_articles_json(self, ids: list[str] | str) -> list[str]:
        if isinstance(ids, str):
            ids = [i for i in re.split(r"[\s,]+", ids) if i]
        return list(self.bot.delete(ids))

    # ---- index -------------------------------------------------------------------------
    def stats(self) -> tuple[str, Any]:
        """(status line, outlet choices)."""
        stats = self.bot.stats()
        self._span = (int(stats.get("articles", 0)), str(stats.get("first_date", "")),
                      str(stats.get("last_date", "")))
        return render.stats_line(stats), gr.update(choices=list(stats["sources"]))

    def searched(self, filters: dict[str, Any]) -> str:
        """What an abstention looked at: the index's articles and dates, and the filters."""
        if self._span is None:
            self.stats()
        articles, first, last = self._span or (0, "", "")
        span = f" from {first} to {last}" if first and last else ""
        used = [f"outlets {', '.join(filters['source'])}" if filters.get("source") else "",
                f"since {filters['since']}" if filters.get("since") else "",
                f"until {filters['until']}" if filters.get("until") else ""]
        limits = "; ".join(u for u in used if u)
        return (f"Searched {articles} articles{span}" + (f", limited to {limits}" if limits
                                                          else "") + ".")

    def add(
        self, files: list[str] | None, url_text: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's documented idiom)
    ) -> tuple[Any, ...]:
        """Ingest uploads and URLs; (summary, cleared files, status, outlets, report)."""
        if not files and not (url_text or "").strip():
            gr.Warning("Choose files or paste URLs first.")
            return (gr.skip(),) * 5
        progress(0, desc="Adding news…")
        result = add_news(
            self.bot, files or [], url_text or "", max_mb=self.max_mb,
            on_progress=lambda done, total: progress((done, total), desc="Indexing articles",
                                                     unit="articles"),
        )
        return (render.ingest_html(result.counts, result.failed, result.titles), None,
                *self.stats(), result.to_dict())

    def check_uploads(self, files: list[str] | None) -> str:
        """Files just chosen: a file that will be refused says so at once, in the summary."""
        refused = [(Path(f).name, reason) for f in files or []
                   if (reason := check_file(Path(f), int(self.max_mb * 1e6)))]
        if not refused:
            return ""
        return render.ingest_html({}, refused).replace(
            "0 added · 0 updated · 0 unchanged · ", "Not added: ")

    @staticmethod
    def chips(outlets: list[str] | None, since: str | None, until: str | None
              ) -> tuple[Any, Any, Any]:
        """The active-filter chips above the question box (a date not yet valid shows none)."""
        values = {"source": outlets or [], "since": "", "until": ""}
        for name, value in (("since", since), ("until", until)):
            try:
                values[name] = parse_filters([], value, "")["since"] if value else ""
            except FilterError:
                values[name] = ""
        updates = [gr.update(value=label or " ", visible=bool(label))
                   for label in render.filter_chips(values)]
        return updates[0], updates[1], updates[2]


def _sidebar(h: Handlers) -> SimpleNamespace:
    ui = SimpleNamespace()
    with gr.Sidebar(label="Conversations", open=True, elem_id="na-sidebar", width=280):
        ui.new = gr.Button("New conversation", size="sm", elem_id="na-new", variant="primary")
        ui.list = gr.Radio(label="Conversations", choices=[], elem_id="na-conversations",
                           elem_classes=["na-conversations"])
        with gr.Accordion("Rename or delete this conversation", open=False,
                          elem_id="na-manage"):
            ui.title = gr.Textbox(label="Title", elem_id="na-title", max_lines=1)
            with gr.Row():
                ui.rename = gr.Button("Rename", size="sm", elem_id="na-rename")
                ui.delete = gr.Button("Delete", size="sm", variant="stop", elem_id="na-delete")
    return ui


def _chat_tab(h: Handlers) -> SimpleNamespace:
    """Conversation, answer controls, filter chips, question box, filters, sources."""
    ui = SimpleNamespace()
    with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False, elem_id="na-chat-row"):
        with gr.Column(scale=3, min_width=340, elem_id="na-main"):
            ui.chatbot = gr.Chatbot(
                label="Conversation", elem_id="na-chat", height=400, buttons=[],
                latex_delimiters=[], feedback_options=("Like", "Dislike"), allow_tags=False,
                placeholder=f"Ask about the news, e.g. *{DEMO_QUESTION}*", show_label=False,
            )
            with gr.Row(elem_id="na-controls"):
                ui.stop = gr.Button("■ Stop", size="sm", visible=False, elem_id="na-stop",
                                    variant="stop")
                ui.regenerate = gr.Button("↻ Regenerate", size="sm", elem_id="na-regenerate")
                ui.note = gr.Textbox(show_label=False, placeholder="Note on your rating "
                                     "(optional)", scale=3, max_lines=1, elem_id="na-note",
                                     container=False)
                ui.save_note = gr.Button("Save note", size="sm", elem_id="na-save-note")
            with gr.Row(elem_id="na-chips"):
                ui.chip_outlets = gr.Button(" ", size="sm", visible=False,
                                            elem_id="na-chip-outlets", elem_classes=["na-chip"])
                ui.chip_since = gr.Button(" ", size="sm", visible=False,
                                          elem_id="na-chip-since", elem_classes=["na-chip"])
                ui.chip_until = gr.Button(" ", size="sm", visible=False,
                                          elem_id="na-chip-until", elem_classes=["na-chip"])
            with gr.Row(elem_id="na-ask-row"):
                ui.question = gr.Textbox(label="Question", show_label=False, scale=5,
                                         autofocus=True, placeholder=DEMO_QUESTION,
                                         elem_id="na-question", max_lines=4)
                ui.ask = gr.Button("Ask", variant="primary", scale=1, elem_id="na-ask",
                                   min_width=80)
            with gr.Accordion("Filters (apply to the next question)", open=True,
                              elem_id="na-filters"), gr.Row():
                ui.outlets = gr.Dropdown(label="Outlets", multiselect=True, choices=[],
                                         value=[], allow_custom_value=True, scale=2,
                                         info="none = all outlets", elem_id="na-outlets")
                ui.since = gr.Textbox("", label="Since", placeholder=DATE_FORMAT, max_lines=1,
                                      elem_id="na-since", info="e.g. 2024-05-01")
                ui.until = gr.Textbox("", label="Until", placeholder=DATE_FORMAT, max_lines=1,
                                      elem_id="na-until", info="e.g. 2024-05-31")
        with gr.Column(scale=2, min_width=300, elem_id="na-side"), gr.Accordion(
                "Sources", open=True, elem_id="na-sources-panel"):
            ui.sources = gr.HTML(render.EMPTY_SOURCES, elem_id="na-sources", js_on_load=None)
    return ui


def _add_news_tab(max_mb: float) -> SimpleNamespace:
    ui = SimpleNamespace()
    with gr.Tab("Add news", id="add"):
        gr.Markdown("Upload articles (" + " ".join(f"`{s}`" for s in ALLOWED_SUFFIXES)
                    + f", up to {max_mb:g} MB each) or paste links, one per line.")
        ui.files = gr.File(label="Files", file_count="multiple", type="filepath",
                           elem_id="na-files")
        ui.urls = gr.Textbox(label="URLs (one per line)", lines=3, placeholder="https://…",
                             elem_id="na-urls")
        ui.add = gr.Button("Add to index", variant="primary", elem_id="na-add")
        ui.summary = gr.HTML(label="Summary", elem_id="na-add-summary", js_on_load=None)
    return ui


def _library_tab() -> SimpleNamespace:
    ui = SimpleNamespace()
    with gr.Tab("Library", id="library"):
        with gr.Row():
            ui.query = gr.Textbox(label="Search titles", placeholder="e.g. eclipse", scale=3,
                                  elem_id="na-lib-query", max_lines=1)
            ui.refresh = gr.Button("Refresh", size="sm", scale=0, elem_id="na-lib-refresh")
        ui.table = gr.Dataframe(headers=library.COLUMNS, datatype="str", interactive=False,
                                elem_id="na-lib-table", wrap=True, max_height=420,
                                column_widths=["38%", "15%", "10%", "7%", "16%", "14%"],
                                show_search="none")
        with gr.Row():
            ui.selected = gr.Textbox(label="Article ID(s) to delete (click a row)", scale=3,
                                     elem_id="na-lib-selected", max_lines=1)
            ui.delete = gr.Button("Delete article", variant="stop", scale=1,
                                  elem_id="na-lib-delete")
        with gr.Row():
            with gr.Column():
                gr.Markdown("### Outlets")
                ui.outlets = gr.HTML(elem_id="na-lib-outlets", js_on_load=None)
            with gr.Column():
                gr.Markdown("### Followed feeds")
                ui.feeds = gr.HTML(elem_id="na-lib-feeds", js_on_load=None)
    return ui


def build_app(bot: Any, *, max_mb: float = DEFAULT_MAX_MB, concurrency: int = 4,
              store: ConversationStore | None = None) -> gr.Blocks:
    """The whole app for ``bot`` (a ``NewsAssistant``). ``concurrency`` answers run at once;
    conversations go to ``store`` (default: ``conversations.sqlite`` beside the index)."""
    settings = bot.settings
    store = store or ConversationStore(store_path(settings.index, settings.chroma_url or None))
    h = Handlers(bot, store, max_mb=max_mb)
    # uploads are in the index once added: Gradio may drop its copies after an hour
    with gr.Blocks(title="News assistant", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as app:
        browser = gr.BrowserState(None, storage_key="news-assistant-browser",
                                  secret=store.secret())
        state = gr.State(None)  # this tab's ``Session``
        side = _sidebar(h)
        gr.Markdown("## News assistant · answers from your news, every sentence cited",
                    elem_id="na-header")
        status = gr.Markdown(label="Status", elem_id="na-status")
        with gr.Tabs():
            chat = _chat_tab(h)
            add = _add_news_tab(max_mb)
            lib = _library_tab()
        # API-only endpoints hang on hidden buttons so that they can share the session.
        hidden = SimpleNamespace(**{n: gr.JSON(visible=False) for n in (
            "answer", "history", "report", "conversations", "turns", "done", "articles")})
        api = SimpleNamespace(**{n: gr.Button(visible=False) for n in (
            "ask", "history", "conversations", "open", "rename", "delete", "feedback",
            "articles", "delete_articles")})
        api_text = SimpleNamespace(**{n: gr.Textbox(visible=False) for n in (
            "conversation", "title", "rating", "note", "query")})
        api_turn = gr.Number(visible=False, precision=0)
        api_ids = gr.JSON(visible=False)

        filters = [chat.outlets, chat.since, chat.until]
        answering = [chat.question, chat.chatbot, chat.sources, state, side.list, chat.ask,
                     chat.stop, chat.regenerate]
        stats = [status, chat.outlets]
        library_out = [lib.table, lib.outlets, lib.feeds]
        ask_event = gr.on([chat.question.submit, chat.ask.click], h.respond,
                          inputs=[chat.question, *filters, state], outputs=answering,
                          api_name="chat", api_visibility="undocumented",
                          concurrency_limit=concurrency, concurrency_id="answer",
                          show_progress="hidden", trigger_mode="always_last")
        chat.stop.click(h.stop, inputs=[state], outputs=None, queue=False,
                        api_name="stop", api_visibility="private")
        regen_event = gr.on([chat.regenerate.click, chat.chatbot.retry], h.regenerate,
                            inputs=[*filters, state], outputs=answering, api_name="regenerate",
                            api_visibility="private", concurrency_id="answer",
                            show_progress="hidden")
        chat.chatbot.option_select(h.ask_suggestion, inputs=[*filters, state],
                                   outputs=answering, api_visibility="private",
                                   concurrency_id="answer", show_progress="hidden")
        del ask_event, regen_event
        chat.chatbot.like(h.like, inputs=[state], outputs=[state], api_visibility="private",
                          show_progress="hidden")
        chat.save_note.click(h.note, inputs=[chat.note, state], outputs=[chat.note, state],
                             api_visibility="private")
        chat.note.submit(h.note, inputs=[chat.note, state], outputs=[chat.note, state],
                         api_visibility="private")
        chips = [chat.chip_outlets, chat.chip_since, chat.chip_until]
        gr.on([chat.outlets.change, chat.since.change, chat.until.change], h.chips,
              inputs=filters, outputs=chips, api_visibility="private", show_progress="hidden",
              queue=False)
        chat.chip_outlets.click(lambda: [], outputs=[chat.outlets], api_visibility="private",
                                queue=False)
        chat.chip_since.click(lambda: "", outputs=[chat.since], api_visibility="private",
                              queue=False)
        chat.chip_until.click(lambda: "", outputs=[chat.until], api_visibility="private",
                              queue=False)

        conversations = [state, chat.chatbot, chat.sources, side.title]
        side.list.input(h.open, inputs=[side.list, state], outputs=conversations,
                        api_visibility="private", show_progress="hidden")
        side.new.click(h.new, inputs=[state], outputs=[*conversations[:3], side.list,
                                                       side.title],
                       api_visibility="private", show_progress="hidden")
        side.rename.click(h.rename, inputs=[side.title, state], outputs=[state, side.list],
                          api_visibility="private")
        side.delete.click(h.delete_current, inputs=[state],
                          outputs=[*conversations[:3], side.list, side.title],
                          api_visibility="private")
        # the chatbot's own trash icon starts a new conversation too
        chat.chatbot.clear(h.new, inputs=[state], outputs=[*conversations[:3], side.list,
                                                           side.title],
                           api_visibility="private")

        api.ask.click(h.ask_json, inputs=[chat.question, *filters, state],
                      outputs=[hidden.answer, state], api_name="ask", concurrency_id="answer")
        api.history.click(h.history, inputs=[state], outputs=[hidden.history],
                          api_name="history")
        gr.Button(visible=False).click(h.reset, inputs=[state],
                                       outputs=[chat.chatbot, chat.sources, state],
                                       api_name="reset")
        api.conversations.click(h.conversations_json, inputs=[state],
                                outputs=[hidden.conversations, state], api_name="conversations")
        api.open.click(h.open_json, inputs=[api_text.conversation, state],
                       outputs=[hidden.turns, state], api_name="open_conversation")
        api.rename.click(h.rename_json, inputs=[api_text.conversation, api_text.title, state],
                         outputs=[hidden.done, state], api_name="rename_conversation")
        api.delete.click(h.delete_json, inputs=[api_text.conversation, state],
                         outputs=[hidden.done, state], api_name="delete_conversation")
        api.feedback.click(h.feedback_json,
                           inputs=[api_turn, api_text.rating, api_text.note, state],
                           outputs=[hidden.done, state], api_name="feedback")
        api.articles.click(h.articles_json, inputs=[api_text.query],
                           outputs=[hidden.articles], api_name="articles")
        api.delete_articles.click(h.delete_articles_json, inputs=[api_ids],
                                  outputs=[hidden.done], api_name="delete_articles",
                                  concurrency_id="ingest")

        add.add.click(h.add, inputs=[add.files, add.urls],
                      outputs=[add.summary, add.files, *stats, hidden.report],
                      api_name="add_news", concurrency_limit=1, concurrency_id="ingest")
        add.files.upload(h.check_uploads, inputs=[add.files], outputs=[add.summary],
                         api_visibility="private", show_progress="hidden")
        lib.query.change(h.library, inputs=[lib.query], outputs=library_out,
                         api_visibility="private", show_progress="hidden")
        lib.refresh.click(h.library, inputs=[lib.query], outputs=library_out,
                          api_visibility="private")
        lib.table.select(h.pick, inputs=[lib.table], outputs=[lib.selected],
                         api_visibility="private", show_progress="hidden")
        lib.delete.click(h.delete_articles, inputs=[lib.selected, lib.query],
                         outputs=[lib.selected, *library_out, *stats],
                         api_visibility="private", concurrency_id="ingest")
        app.load(h.start, inputs=[browser],
                 outputs=[browser, state, side.list, chat.chatbot, chat.sources, side.title],
                 api_visibility="private", show_progress="hidden")
        app.load(h.stats, outputs=stats, api_name="stats")
        app.load(h.library, inputs=[lib.query], outputs=library_out,
                 api_visibility="private", show_progress="hidden")
    app.max_mb = max_mb  # type: ignore[attr-defined]  # read by launch()
    return app


def launch(
    app: gr.Blocks, *, host: str = "127.0.0.1", port: int = 7860,
    auth: tuple[str, str] | None = None, block: bool = True, quiet: bool = False,
) -> str:
    """Start ``app`` on ``host:port`` (loopback by default); returns its local URL."""
    max_mb = getattr(app, "max_mb", DEFAULT_MAX_MB)
    # Gradio's own limit is a backstop well above ours: a file over ``max_mb`` is refused by
    # ``check_file`` with a message in the summary (Gradio's refusal leaves an "Error" pill)
    app.queue(default_concurrency_limit=4)
    _, url, _ = app.launch(
        server_name=host, server_port=port, auth=auth, prevent_thread_lock=not block,
        share=False, quiet=quiet, show_error=False, max_file_size=f"{max_mb * UPLOAD_BACKSTOP:g}mb",
        footer_links=["api"], run_history=False, ssr_mode=False, pwa=False, mcp_server=False,
        enable_monitoring=False, css_paths=[STYLE], theme=gr.themes.Default(),
        head=f"<script>{SCRIPT.read_text(encoding='utf-8')}</script>",
        auth_message="news-assistant: log in with the --auth user and password.",
    )
    return url


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``USER:PASSWORD`` -> (user, password); the password may itself contain ':'."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth must look like USER:PASSWORD")
    return user, password


def serve(
    bot: NewsAssistant, *, host: str = "127.0.0.1", port: int = 7860,
    auth: tuple[str, str] | None = None, demo: bool = False, max_mb: float = DEFAULT_MAX_MB,
    block: bool = True,
) -> str:
    """Run the app for ``bot`` (the ``news-assistant serve`` command, see ``ui.cli``):
    optionally index the demo corpus first. Returns the local URL (when not ``block``ing)."""
    if demo:
        print("indexing the demo corpus …", flush=True)
        print(f"demo corpus: {bot.ingest_demo().summary()}", flush=True)
    stats = bot.stats()  # opens the index now, before sessions race to do it
    if not stats["articles"]:
        print("the index is empty: add news in the app's 'Add news' tab, or restart with --demo")
    if host not in LOOPBACK and auth is None:
        print(f"warning: serving on {host} without a login; anyone who can reach it can "
              "read and add news (use --auth USER:PASSWORD)")
    print(f"news-assistant on http://{host}:{port} "
          f"({stats['articles']} articles, answers: {render.describe_mode(stats)})",
          flush=True)
    return launch(build_app(bot, max_mb=max_mb), host=host, port=port, auth=auth, block=block,
                  quiet=True)
