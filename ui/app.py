"""The Gradio app: a thin shell over ``NewsAssistant`` (chat, sources, filters, adding news).

``build_app(bot)`` returns the ``gr.Blocks``; ``launch(app)`` starts it; ``serve(bot, ...)``
does both for the ``news-assistant serve`` command (``ui.cli``). All retrieval and answering
happens in ``assistant``; this module only turns its events and results into components
(see ``ui.render``).

Named API endpoints (for ``gradio_client``): ``/ask`` (question, outlets, since, until ->
answer JSON), ``/history``, ``/reset``, ``/add_news`` and ``/stats``; each client session has
its own conversation.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

# Before gradio is imported: no usage analytics, no version check, no hub telemetry.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr

from assistant.errors import InvalidRequest
from assistant.retrieval import Filters
from ui import render
from ui.uploads import ALLOWED_SUFFIXES, DEFAULT_MAX_MB, add_news

if TYPE_CHECKING:
    from assistant.api import Chat, NewsAssistant

log = logging.getLogger(__name__)
STYLE = Path(__file__).with_name("style.css")
DEMO_QUESTION = "What did Xi say about Ukraine?"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Handlers:
    """Event handlers bound to one ``NewsAssistant``; per-session state is the ``Chat``."""

    def __init__(self, bot: NewsAssistant, *, max_mb: float = DEFAULT_MAX_MB) -> None:
        self.bot = bot
        self.max_mb = max_mb

    # ---- helpers -----------------------------------------------------------------------
    def _chat(self, chat: Chat | None) -> Chat:
        return chat if chat is not None else self.bot.chat()

    @staticmethod
    def filters(outlets: list[str] | None, since: str | None, until: str | None) -> dict[str, Any]:
        """The filters dict of the API; a malformed date is the user's error, shown as such."""
        found: dict[str, Any] = {"source": [o for o in outlets or [] if o]}
        for name, value in (("since", since), ("until", until)):
            value = (value or "").strip()[:10]
            if value:
                try:
                    date.fromisoformat(value)
                except ValueError:
                    raise gr.Error(f"{name.capitalize()} must be a date like 2024-05-17, "
                                   f"not {value!r}") from None
            found[name] = value
        try:  # the API's own checks (e.g. since <= until), shown as the user's error
            Filters.from_mapping(found)
        except InvalidRequest as error:
            raise gr.Error(str(error)) from None
        return found

    def _body(self, article_id: str) -> str | None:
        article = self.bot.get_article(article_id)
        return article.body if article is not None else None

    # ---- chat --------------------------------------------------------------------------
    def respond(
        self, question: str, outlets: list[str] | None, since: str | None, until: str | None,
        chat: Any,
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        """Stream one answer into the chatbot, then show its sources. Yields (question box,
        chatbot, sources panel, chat state)."""
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        filters = self.filters(outlets, since, until)
        chat = self._chat(chat)
        done = list(chat.turns)
        partial = ""
        yield "", render.chat_messages(done, (question, partial)), gr.skip(), chat
        answer = None
        try:
            for event in chat.stream(question, filters=filters):
                if event.answer is not None:
                    answer = event.answer
                else:
                    partial += event.token
                    messages = render.chat_messages(done, (question, partial))
                    yield gr.skip(), messages, gr.skip(), chat
        except InvalidRequest as error:  # the user's to fix: say what is wrong
            failed = f"Sorry, {error}"
            yield gr.skip(), render.chat_messages(done, (question, failed)), gr.skip(), chat
            return
        except Exception as error:  # the message may carry endpoint details: log it, show the type
            log.exception("answering %r failed", question)
            failed = f"Sorry, answering failed ({type(error).__name__}); see the server log."
            yield gr.skip(), render.chat_messages(done, (question, failed)), gr.skip(), chat
            return
        turn = len(chat.turns)
        yield (gr.skip(), render.chat_messages(chat.turns),
               render.sources_html(answer, turn, self._body), chat)

    def reset(self) -> tuple[list[Any], str, None]:
        """New conversation: empty chat, empty sources, fresh state."""
        return [], render.sources_html(None, 0, self._body), None

    # ---- API-only --------------------------------------------------------------------------
    def ask_json(
        self, question: str, outlets: list[str] | None, since: str | None, until: str | None,
        chat: Any,
    ) -> tuple[dict[str, Any], Any]:
        """Answer ``question`` in this session's conversation; the answer as JSON."""
        if not (question or "").strip():
            raise gr.Error("the question is empty")
        chat = self._chat(chat)
        try:
            answer = chat.ask(question.strip(), filters=self.filters(outlets, since, until))
        except InvalidRequest as error:
            raise gr.Error(str(error)) from None
        return answer.to_dict(), chat

    @staticmethod
    def history(chat: Any) -> list[dict[str, Any]]:
        """This session's conversation so far: questions, answers and cited article ids."""
        turns = chat.turns if chat is not None else []
        return [{"question": a.question, "answer": a.text,
                 "citations": [c.article_id for c in a.citations]} for a in turns]

    # ---- index -------------------------------------------------------------------------
    def stats(self) -> tuple[str, str, Any]:
        """(status line, index panel, outlet choices)."""
        stats = self.bot.stats()
        return (render.stats_line(stats), render.stats_markdown(stats),
                gr.update(choices=list(stats["sources"])))

    def add(
        self, files: list[str] | None, url_text: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's documented idiom)
    ) -> tuple[str, Any, str, str, Any, dict[str, Any]]:
        """Ingest uploads and URLs; (summary, cleared files, status, index panel, outlets,
        report as JSON)."""
        if not files and not (url_text or "").strip():
            raise gr.Error("Choose files or paste URLs first.")
        progress(0, desc="Adding news…")
        result = add_news(
            self.bot, files or [], url_text or "", max_mb=self.max_mb,
            on_progress=lambda done, total: progress((done, total), desc="Indexing articles",
                                                     unit="articles"),
        )
        return (render.ingest_html(result.counts, result.failed), None, *self.stats(),
                result.to_dict())


def _chat_tab(h: Handlers) -> SimpleNamespace:
    """Conversation, question box, filters and the sources panel beside them."""
    ui = SimpleNamespace()
    with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=360):
            ui.chatbot = gr.Chatbot(
                label="Conversation", elem_id="na-chat", height=520, buttons=["copy"],
                latex_delimiters=[], feedback_options=None, allow_tags=False,
                placeholder=f"Ask about the news, e.g. *{DEMO_QUESTION}*",
            )
            with gr.Row():
                ui.question = gr.Textbox(label="Question", show_label=False, scale=5,
                                         autofocus=True, placeholder=DEMO_QUESTION,
                                         elem_id="na-question")
                ui.ask = gr.Button("Ask", variant="primary", scale=1, elem_id="na-ask")
            ui.new = gr.Button("New conversation", size="sm", elem_id="na-new")
            with gr.Accordion("Filters (apply to the next question)", open=False,
                              elem_id="na-filters"):
                ui.outlets = gr.Dropdown(label="Outlets", multiselect=True, choices=[],
                                         value=[], allow_custom_value=True,
                                         info="none selected = all outlets",
                                         elem_id="na-outlets")
                with gr.Row():
                    ui.since = gr.DateTime("", label="Since", include_time=False,
                                           type="string", elem_id="na-since")
                    ui.until = gr.DateTime("", label="Until", include_time=False,
                                           type="string", elem_id="na-until")
        with gr.Column(scale=2, min_width=320):
            gr.Markdown("### Sources")
            ui.sources = gr.HTML(render.sources_html(None, 0, h._body), elem_id="na-sources",
                                 js_on_load=None)
    return ui


def _add_news_tab(max_mb: float) -> SimpleNamespace:
    ui = SimpleNamespace()
    with gr.Tab("Add news", id="add"):
        gr.Markdown("Upload articles (" + " ".join(f"`{s}`" for s in ALLOWED_SUFFIXES)
                    + f", up to {max_mb:g} MB each) or paste links, one per line.")
        ui.files = gr.File(label="Files", file_count="multiple", type="filepath",
                           elem_id="na-files")
        ui.urls = gr.Textbox(label="URLs", lines=3, placeholder="https://…", elem_id="na-urls")
        ui.add = gr.Button("Add to index", variant="primary", elem_id="na-add")
        ui.summary = gr.HTML(label="Summary", elem_id="na-add-summary", js_on_load=None)
    return ui


def build_app(
    bot: NewsAssistant, *, max_mb: float = DEFAULT_MAX_MB, concurrency: int = 4
) -> gr.Blocks:
    """The whole app for ``bot`` (a ``NewsAssistant``). ``concurrency`` answers run at once."""
    h = Handlers(bot, max_mb=max_mb)
    # uploads are in the index once added: Gradio may drop its copies after an hour
    with gr.Blocks(title="News assistant", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as app:
        chat_state = gr.State(None)  # this browser session's ``Chat``, made on its first question
        gr.Markdown("# News assistant\nAnswers from your news articles, every sentence cited.")
        status = gr.Markdown(label="Status", elem_id="na-status")
        with gr.Tabs():
            chat = _chat_tab(h)
            add = _add_news_tab(max_mb)
            with gr.Tab("Index", id="index"):
                index = gr.Markdown(label="Index", elem_id="na-stats")
                refresh = gr.Button("Refresh", size="sm")
        # API-only endpoints hang on hidden buttons so that they can share the chat state.
        answer_json = gr.JSON(label="Answer", visible=False)
        history_json = gr.JSON(label="History", visible=False)
        report_json = gr.JSON(label="Report", visible=False)
        api_ask, api_history = gr.Button(visible=False), gr.Button(visible=False)

        asked = [chat.question, chat.outlets, chat.since, chat.until, chat_state]
        cleared = [chat.chatbot, chat.sources, chat_state]
        stats = [status, index, chat.outlets]
        gr.on([chat.question.submit, chat.ask.click], h.respond, inputs=asked,
              outputs=[chat.question, chat.chatbot, chat.sources, chat_state], api_name="chat",
              api_visibility="undocumented", concurrency_limit=concurrency,
              concurrency_id="answer", show_progress="minimal")
        api_ask.click(h.ask_json, inputs=asked, outputs=[answer_json, chat_state],
                      api_name="ask", concurrency_id="answer")
        api_history.click(h.history, inputs=[chat_state], outputs=[history_json],
                          api_name="history")
        chat.new.click(h.reset, outputs=cleared, api_name="reset")
        # the chatbot's own trash icon must forget the conversation too, not only hide it
        chat.chatbot.clear(h.reset, outputs=cleared, api_name="clear", api_visibility="private")
        add.add.click(h.add, inputs=[add.files, add.urls],
                      outputs=[add.summary, add.files, *stats, report_json], api_name="add_news",
                      concurrency_limit=1, concurrency_id="ingest")
        app.load(h.stats, outputs=stats, api_name="stats")
        refresh.click(h.stats, outputs=stats, api_name="refresh_stats", api_visibility="private")
    app.max_mb = max_mb  # type: ignore[attr-defined]  # read by launch()
    return app


def launch(
    app: gr.Blocks, *, host: str = "127.0.0.1", port: int = 7860,
    auth: tuple[str, str] | None = None, block: bool = True, quiet: bool = False,
) -> str:
    """Start ``app`` on ``host:port`` (loopback by default); returns its local URL."""
    max_mb = getattr(app, "max_mb", DEFAULT_MAX_MB)
    app.queue(default_concurrency_limit=4)
    _, url, _ = app.launch(
        server_name=host, server_port=port, auth=auth, prevent_thread_lock=not block,
        share=False, quiet=quiet, show_error=False, max_file_size=f"{max_mb:g}mb",
        footer_links=["api"], run_history=False, ssr_mode=False, pwa=False, mcp_server=False,
        enable_monitoring=False, css_paths=[STYLE], theme=gr.themes.Default(),
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
          f"({stats['articles']} articles, answers: {render.describe_mode(stats['answer_mode'])})",
          flush=True)
    return launch(build_app(bot, max_mb=max_mb), host=host, port=port, auth=auth, block=block,
                  quiet=True)
