"""The Gradio chat: answers with [n] markers, citations checkable in place, sources, quote checking."""
from __future__ import annotations

import hashlib
import html
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr

from qa import __version__
from qa.codec import turns_from_json
from qa.engine import Engine
from qa.errors import QAError
from qa.faces.render import time_line
from qa.faces.suggest import suggested_questions
from qa.faces.web import (
    _md_escape,
    chat_markdown,
    citations_html,
    document_html,
    documents_table_html,
    location_html,
    passages_html,
    short_answer_in,
)
from qa.ingest.corpus import SkipFile, read_bytes
from qa.messages import UNDERSTOOD, for_client
from qa.requests import AskRequest, SearchRequest, as_of_day
from qa.retrieval.stories import fold_hits
from qa.types import Filters, Turn

ANY_ARTICLE = "(any article)"
UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"]
LISTED_DOCUMENTS = 500  # the browser lists this many; the API pages through any number
SUGGESTIONS = 4  # questions about this corpus offered above the chat
# After an answer: its question (and the "Understood as" line) at the top of the conversation's own
# scroll box, or the answer's first line when the question is long; only that box scrolls, never the page.
SCROLL_TO_QUESTION = """() => {
  const box = document.querySelector('#chat .bubble-wrap');
  const rows = document.querySelectorAll('#chat .message-row');
  if (!box || rows.length < 2) return;
  const top = el => el.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
  const question = rows[rows.length - 2], answer = rows[rows.length - 1], gap = 8;
  let y = top(question) - gap;
  if (top(answer) - y > box.clientHeight / 2) y = top(answer) - gap;
  box.scrollTop = Math.max(0, y);
}"""
# The phone's drawer: citations and passages slide over the chat, and back.
OPEN_SIDE = "() => { document.querySelector('#side')?.classList.add('open'); }"
CLOSE_SIDE = "() => { document.querySelector('#side')?.classList.remove('open'); }"

def _scroll_to_mark(container: str) -> str:
    return f"() => {{ document.querySelector('{container} mark')?.scrollIntoView({{block: 'center'}}); }}"


CSS = """
#source-viewer .article-text, #quote-result .article-text, #doc-viewer .article-text {
  white-space: pre-wrap; max-height: 420px; overflow-y: auto; overflow-wrap: anywhere; }
#source-viewer mark, #quote-result mark, #doc-viewer mark { background: #ffe066; }
/* one line on top: the name, the corpus, signing out; the rest of the window is the chat */
#masthead { flex-wrap: nowrap; align-items: center; gap: .8em; }
#masthead > * { min-width: 0 !important; } #masthead p { margin: 0; }
#masthead .prose, #masthead .block { padding: 0 !important; }
#title { flex: 0 0 auto !important; width: auto !important; } #title h1 { font-size: 1.25em; margin: 0; }
#corpus-line { flex: 1 1 0 !important; font-size: .9em; color: #666; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
#account { flex: 0 0 auto; text-align: right; } #account button { font-size: .9em; padding: .2em .7em; }
#side-open, #side-close { display: none; }
/* the conversation fills the window above the question box; it scrolls, the page does not */
#chat { height: calc(100dvh - 245px) !important; min-height: 240px; }
#chat .scroll-down-button-container, #chat .top-panel { display: none; }
footer { display: none !important; }
#side { max-height: calc(100dvh - 150px); overflow-y: auto; flex-wrap: nowrap; }
#side > * { flex-shrink: 0; }
#suggestions { gap: .4em; flex-wrap: nowrap; overflow-x: auto; }
#suggestions button.suggestion { flex: 0 0 auto; min-width: 0; font-weight: 400; }
#ask-row { flex-wrap: nowrap; align-items: stretch; }
.short-answer { background: #ffc800; font-weight: 700; }
#chat details.more > summary { cursor: pointer; color: var(--body-text-color-subdued); }
#chat .chip, #citations .chip { display: inline-block; margin: .15em .3em .15em 0; padding: 0 .5em;
  border: 1px solid var(--border-color-primary); border-radius: 1em; font-size: .85em; white-space: nowrap; }
#chat .chips { line-height: 1.9; }
.citation { margin-bottom: .8em; } .citation .quote { font-style: italic; }
.meta { color: #666; font-size: .9em; } .passage { margin-bottom: .7em; }
.quote-diff del { background: #ffd7d5; } .quote-diff ins { background: #d5f5dd; text-decoration: none; }
table.documents { width: 100%; border-collapse: collapse; font-size: .92em; }
table.documents td, table.documents th { padding: .25em .4em; border-bottom: 1px solid #eee; text-align: left; }
@media (max-width: 720px) {
  #ask-row button { padding-left: .7em !important; padding-right: .7em !important; }
  #tagline { display: none; }
  #chat { height: calc(100dvh - 250px) !important; }
  #chat .bubble.bot-row, #chat .bubble.user-row { max-width: 100%; }
  #chat .message-row { margin-left: 0; margin-right: 0; }
  #side-open { display: inline-flex; flex: 0 0 auto; }
  /* citations and passages: a drawer over the chat, opened from the top line */
  #side { display: none; position: fixed; inset: 0; z-index: 1000; max-height: none; margin: 0;
          padding: .6em; background: var(--background-fill-primary); }
  #side.open { display: flex; }
  #side-close { display: inline-flex; align-self: flex-start; }
  table.documents .source { display: none; }
}
"""


# Outside the app's own box, which Gradio scopes CSS to: on a phone the page's side margins go.
HEAD = """<style>@media (max-width: 720px) {
  .gradio-container .main.app { padding-left: 6px !important; padding-right: 6px !important; } }</style>"""


def theme() -> gr.themes.Base:
    """Gradio's default look with its bundled Source Sans Pro at 400 and 700: the 600 (semibold)
    file Gradio ships is a 5 KB subset without most capitals, so bold text in answers ("**A**ccording")
    fell back to another font letter by letter."""
    return gr.themes.Default(font=[gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)),
                                   "ui-sans-serif", "system-ui", "sans-serif"])


def _text(content) -> str:
    """A chat message's text, whether Gradio hands it over as a string or as content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_text(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    return ""


def _turns(conversation: list[dict]) -> list[Turn]:
    """The conversation as data, the way REST clients send it: each question as asked and each
    answer's plain text (markers and all), never the chat's rendered markup."""
    return turns_from_json(conversation or [])


def _message(answer) -> str:
    """The chat message: the question as understood (when a follow-up was rewritten), the answer,
    and any warning (an LLM that failed, sentences dropped by grounding)."""
    parts = []
    if answer.condensed_question and answer.condensed_question != answer.question:
        parts.append(f"*{UNDERSTOOD}{_md_escape(answer.condensed_question)}*")
    parts.append(chat_markdown(answer))
    if answer.as_of:  # after the answer: what a reader looks at first is the answer
        parts.append(f"<small class='as-of'>{html.escape(time_line(answer.as_of, answer.time))}</small>")
    parts += [f"*⚠ {_md_escape(w)}*" for w in answer.warnings]
    return "\n\n".join(parts)


def _cites_state(answer) -> list[dict]:
    """The citations the viewer opens; the one holding the short answer carries its offsets, so
    the article view shows it in bold inside the extract."""
    short = answer.short_answer
    return [{**c.to_json(), "answer": [short.start, short.end] if short_answer_in(c, short) else None}
            for c in answer.citations]


def _turn_result(answer) -> dict:
    """What a later follow-up is understood from, as data: the question as understood, the short
    answer and the citations (the passages read are left out: the chat's state stays small)."""
    return {k: v for k, v in answer.to_json().items() if k != "passages"}


class Handlers:
    """What the chat's events do. Each gets ids and values, never labels to take apart: choices
    are (label, value) pairs, so a citation is picked by its number and a document by its id."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def corpus_line(self) -> str:
        try:
            s = self.engine.stats()
            return f"Corpus: **{s['documents']}** documents · **{s['chunks']}** chunks · model `{s['model']}`"
        except QAError as exc:
            return f"Corpus unavailable: {for_client(str(exc))}"

    def respond(self, message: str, history: list, conversation: list, outlets: list | None = None,
                since: str = "", until: str = "", as_of: str = ""):
        """A generator: an answerer that writes prose shows its words as they arrive, then the
        grounded answer; one that cites extracts shows the answer when it is ready."""
        history, shown, keep = list(history or []), html.escape(message or ""), (gr.update(),) * 4
        written = ""
        try:  # the boxes' values checked as the request is made: a bad date is the answer's line
            request = AskRequest(message, tuple(_turns(conversation)), None, Filters.of(outlets, since, until),
                                 as_of_day((as_of or "").strip() or None))
            events = self.engine.ask_streamed(request)
        except QAError as exc:
            events = iter([("error", exc)])
        for kind, value in events:
            if kind == "token":
                written += value
                yield (history + [{"role": "user", "content": shown},
                                  {"role": "assistant", "content": html.escape(written) + " …"}], "",
                       *keep, conversation, gr.update())
            else:
                answer = value  # an Answer, or the QAError to show
        if isinstance(answer, QAError):
            history += [{"role": "user", "content": shown},
                        {"role": "assistant", "content": f"⚠ {html.escape(for_client(str(answer)))}"}]
            yield history, message, *keep, conversation, gr.update()
            return
        history += [{"role": "user", "content": shown}, {"role": "assistant", "content": _message(answer)}]
        choices = [(f"[{c.n}] {c.title}", c.n) for c in answer.citations]
        yield (history, "", citations_html(answer.citations, answer.short_answer, answer.abstained),
               gr.update(choices=choices, value=None), "",
               passages_html(self.one_per_story(answer.passages)),
               conversation + [{"role": "user", "content": message},
                               {"role": "assistant", "content": answer.answer, "result": _turn_result(answer)}],
               _cites_state(answer))

    def one_per_story(self, passages) -> list:
        """The passages panel as search shows it: one passage per story, the other outlets that
        carry it named ("also in …"), instead of each copy again."""
        if not passages or not self.engine.settings.ingest.fold_duplicates:
            return list(passages)
        try:
            return fold_hits(list(passages), self.engine.store, len(passages))
        except QAError:
            return list(passages)

    def respond_whole(self, *args):
        """respond() run to its end: one request, one response (several server workers)."""
        last = None
        for update in self.respond(*args):
            last = update
        return last

    def open_citation(self, n: int | None, cites: list[dict]) -> str:
        cite = next((c for c in cites or [] if c["n"] == n), None)
        if cite is None:
            return ""
        doc = self.engine.library.document(cite["doc_id"])
        return document_html(doc, cite["start"], cite["end"], label=f"citation [{n}]",
                             answer=tuple(cite["answer"]) if cite.get("answer") else None)

    def check_quote(self, quote: str, doc_id: str | None) -> str:
        try:
            found = self.engine.verifier.locate_quote(quote or "", doc_id or None)
            closest = None if found else self.engine.verifier.closest_passage(quote, doc_id or None)
        except QAError as exc:
            return f"<p class='verdict error'>⚠ {html.escape(for_client(str(exc)))}</p>"
        return location_html(quote, found, self.engine.library.document(found.doc_id) if found else None, closest)

    def _listed(self):
        try:
            return self.engine.library.documents(LISTED_DOCUMENTS)
        except QAError:
            return 0, []

    def article_choices(self) -> list[tuple[str, str]]:
        return [(ANY_ARTICLE, "")] + [(f"{d.doc_id} — {d.title}", d.doc_id) for d in self._listed()[1]]

    def corpus_views(self):
        """Everything that shows the corpus, refreshed after an upload or a delete."""
        total, docs = self._listed()
        try:
            suggestions = suggested_questions(self.engine.store)
        except QAError:
            suggestions = []
        choices = [(f"{d.doc_id} — {d.title}", d.doc_id) for d in docs]
        outlets = sorted({d.outlet for d in docs if d.outlet})
        buttons = [gr.update(value=q, visible=True) for q in suggestions[:SUGGESTIONS]]
        buttons += [gr.update(value="", visible=False)] * (SUGGESTIONS - len(buttons))
        return (self.corpus_line(), documents_table_html(total, docs), gr.update(choices=choices, value=None),
                gr.update(choices=[(ANY_ARTICLE, "")] + choices), gr.update(choices=outlets),
                gr.update(placeholder=self._default_as_of()), *buttons)

    def _default_as_of(self) -> str:
        """What an empty "As of" box means: shown in it, so the user sees the date answers are read at."""
        try:
            return self.engine.as_of().isoformat()
        except QAError:
            return "YYYY-MM-DD"

    def add_files(self, files: list | None):
        """A generator: each file added on its own, a line per file as it is done (added, updated,
        already there, or refused with the reason), then the corpus's new size."""
        if not files:
            yield "Choose one or more files first."
            return
        lines: list[str] = []
        for i, f in enumerate(files, start=1):
            name = _md_escape(Path(f).name)
            yield "\n".join(lines + [f"- adding {name} ({i} of {len(files)})…"])
            lines.append(f"- {self._add_one(Path(f))}")
        try:
            total = f"The corpus now has {self.engine.stats()['documents']} documents."
        except QAError:
            total = ""
        yield "\n".join(lines + ["", total])

    def add_files_whole(self, files: list | None) -> str:
        """add_files run to its end: one request, one response (several server workers)."""
        return list(self.add_files(files))[-1]

    def _add_one(self, path: Path) -> str:
        name = _md_escape(path.name)
        try:  # Gradio's copy, opened once and never through a link
            data = read_bytes(path, self.engine.settings.server.max_upload_bytes)
            report = self.engine.library.upload([(path.name, data)])
        except SkipFile as skip:
            return f"⚠ {name}: not added: {_md_escape(str(skip))}"
        except QAError as exc:  # the reason alone: the line names the file already
            reason = for_client(str(exc)).removeprefix(f"{path.name}: ")
            return f"⚠ {name}: not added: {_md_escape(reason)}"
        finally:  # Gradio's copy of the file: the uploads folder keeps what was added
            path.unlink(missing_ok=True)
        done = "added" if report.added else "updated" if report.updated else "already in the corpus, unchanged"
        copies = "".join(f"; a copy of {_md_escape(of)} (one story: answers cite them as one)"
                         for _, of in report.duplicates)
        return f"✓ {name}: {done}{copies}"

    def open_document(self, doc_id: str | None) -> str:
        if not doc_id:
            return ""
        try:
            return document_html(self.engine.library.document(doc_id), None, None)
        except QAError as exc:
            return f"<p class='verdict error'>⚠ {html.escape(for_client(str(exc)))}</p>"

    def delete_document(self, doc_id: str | None) -> tuple[str, str]:
        if not doc_id:
            return "Choose a document first.", ""
        try:
            report = self.engine.library.delete(doc_id)
        except QAError as exc:
            return f"⚠ {_md_escape(for_client(str(exc)))}", ""
        return f"Deleted {_md_escape(doc_id)}; {report.documents} documents left.", ""

    def search(self, query: str, k: int | None = None, as_of: str | None = None, outlet: list[str] | None = None,
               date_from: str | None = None, date_to: str | None = None, doc_ids: list[str] | None = None) -> dict:
        """Retrieval only: the passages that best match the query, one per story (k: QA_SEARCH_K)."""
        request = SearchRequest(query, int(k) if k else None, Filters.of(outlet, date_from, date_to, doc_ids),
                                as_of_day(as_of or None))
        return self.engine.retrieve(request).to_json()

    def ask(self, question: str, history: list[dict] | None = None, as_of: str | None = None, k: int | None = None,
            outlet: list[str] | None = None, date_from: str | None = None, date_to: str | None = None,
            doc_ids: list[str] | None = None) -> dict:
        """An answer with cited extracts; history is [{"role": ..., "content": ..., "result": ...}]."""
        turns = turns_from_json([{**m, "content": _text(m.get("content"))} if isinstance(m, dict) else m
                                 for m in history or []])
        request = AskRequest(question, tuple(turns), int(k) if k else None,
                             Filters.of(outlet, date_from, date_to, doc_ids), as_of_day(as_of or None))
        return self.engine.answer(request).to_json()


def ask_delete(doc_id: str | None):
    """The confirmation row for a chosen document (nothing is deleted yet)."""
    if not doc_id:
        return "Choose a document first.", gr.update(visible=False), ""
    return "", gr.update(visible=True), (f"Delete **{_md_escape(doc_id)}**? It leaves the index: "
                                         "answers can no longer cite it.")


def clear():
    """A new conversation: nothing of the old one stays, filters included."""
    return [], "", citations_html([]), gr.update(choices=[], value=None), "", "", [], [], [], "", "", ""


def _chat_tab(ui: SimpleNamespace) -> None:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            with gr.Row(elem_id="suggestions"):  # above the chat: seen first, on a phone too; one click asks
                ui.suggestion_buttons = [gr.Button("", visible=False, size="sm", elem_classes="suggestion")
                                         for _ in range(SUGGESTIONS)]
            # autoscroll off: after each answer its box shows the question (SCROLL_TO_QUESTION), not its end;
            # the height is the CSS's: the window's, less the line on top and the question box below
            ui.chatbot = gr.Chatbot(label="Conversation", show_label=False, elem_id="chat", height=None,
                                    sanitize_html=True, feedback_options=None, autoscroll=False, buttons=["copy"])
            with gr.Row(elem_id="ask-row"):
                ui.question = gr.Textbox(placeholder="Ask about the articles…", show_label=False,
                                         elem_id="question", scale=5, max_length=2000, min_width=120)
                ui.send = gr.Button("Ask", variant="primary", elem_id="send", scale=0, min_width=64)
                ui.clear = gr.Button("Clear", elem_id="clear", scale=0, min_width=64)
        with gr.Column(scale=2, min_width=300, elem_id="side"):
            ui.side_close = gr.Button("‹ Back to the chat", size="sm", elem_id="side-close")
            gr.Markdown("### Citations")
            ui.citations = gr.HTML(citations_html([]), elem_id="citations")
            ui.opener = gr.Radio([], label="Open a citation in its article", elem_id="open-citation")
            ui.viewer = gr.HTML("", elem_id="source-viewer")
            gr.Markdown("### Retrieved passages")
            ui.sources = gr.HTML("", elem_id="sources")
            with gr.Accordion("Filters", open=False, elem_id="filters"):
                ui.outlets = gr.Dropdown([], value=[], multiselect=True, label="Outlets", elem_id="filter-outlets")
                with gr.Row():
                    ui.since = gr.Textbox("", label="From (YYYY-MM-DD)", elem_id="filter-since", max_length=10)
                    ui.until = gr.Textbox("", label="To (YYYY-MM-DD)", elem_id="filter-until", max_length=10)
                # "this week", "latest" and recency are read against this date; empty: the default
                ui.as_of = gr.Textbox("", label="As of (YYYY-MM-DD)", elem_id="as-of", max_length=10)


def _documents_tab(ui: SimpleNamespace) -> None:
    gr.Markdown("Add articles (TXT, Markdown, HTML news pages, PDF, Word) or remove them. "
                "Added files can be asked about at once.")
    with gr.Row():
        # no file_types: Gradio would drop any other file without a word; the upload says why it refuses one
        ui.uploads = gr.File(file_count="multiple", label="Files (" + ", ".join(UPLOAD_TYPES) + ")",
                             elem_id="upload", min_width=280)
        with gr.Column(min_width=280):
            ui.add = gr.Button("Add to corpus", variant="primary", elem_id="upload-button")
            ui.upload_status = gr.Markdown("", elem_id="upload-status")
    ui.doc_list = gr.HTML("", elem_id="doc-list")
    ui.doc_pick = gr.Dropdown([], label="Document", elem_id="doc-pick")
    with gr.Row():
        ui.open = gr.Button("Open", elem_id="doc-open")
        ui.delete = gr.Button("Delete…", variant="stop", elem_id="doc-delete")
    with gr.Row(visible=False, elem_id="delete-confirm") as ui.confirm_row:  # a delete is asked twice
        ui.confirm_text = gr.Markdown("")
        ui.confirm_delete = gr.Button("Yes, delete it", variant="stop", elem_id="doc-delete-confirm")
        ui.cancel_delete = gr.Button("Cancel", elem_id="doc-delete-cancel")
    ui.doc_viewer = gr.HTML("", elem_id="doc-viewer")


def _quote_tab(ui: SimpleNamespace, article_choices: list) -> None:
    gr.Markdown("Paste a quote to see whether and where it appears in the corpus, and how it differs.")
    ui.quote = gr.Textbox(label="Quote", lines=3, elem_id="quote-input", max_length=2000)
    ui.article = gr.Dropdown(choices=article_choices, value="", label="Article", elem_id="quote-article")
    ui.check = gr.Button("Check", variant="primary", elem_id="quote-check")
    ui.result = gr.HTML("", elem_id="quote-result")


def _wire(ui: SimpleNamespace, handlers: Handlers, demo: gr.Blocks, stateless: bool) -> None:
    queued: dict[str, Any] = {"queue": False} if stateless else {}
    private: dict[str, Any] = {"api_visibility": "private", **queued}
    outputs = [ui.chatbot, ui.question, ui.citations, ui.opener, ui.viewer, ui.sources, ui.conversation, ui.cites]
    inputs = [ui.question, ui.chatbot, ui.conversation, ui.outlets, ui.since, ui.until, ui.as_of]
    respond = handlers.respond_whole if stateless else handlers.respond
    ui.send.click(respond, inputs, outputs, api_name="chat", **queued).then(None, js=SCROLL_TO_QUESTION, **queued)
    ui.question.submit(respond, inputs, outputs, api_name=False, **queued).then(None, js=SCROLL_TO_QUESTION, **queued)
    for button in ui.suggestion_buttons:  # a suggestion is asked at once, as if typed and sent
        button.click(lambda q: q, button, ui.question, **private).then(
            respond, inputs, outputs, api_name=False, **queued).then(None, js=SCROLL_TO_QUESTION, **queued)
    ui.side_open.click(None, js=OPEN_SIDE, **private)
    ui.side_close.click(None, js=CLOSE_SIDE, **private)
    ui.opener.change(handlers.open_citation, [ui.opener, ui.cites], ui.viewer, **private).then(
        None, js=_scroll_to_mark("#source-viewer"))
    ui.clear.click(clear, None, outputs + [ui.outlets, ui.since, ui.until, ui.as_of], **private)
    ui.check.click(handlers.check_quote, [ui.quote, ui.article], ui.result, api_name="check_quote", **queued).then(
        None, js=_scroll_to_mark("#quote-result"))
    views = [ui.status_line, ui.doc_list, ui.doc_pick, ui.article, ui.outlets, ui.as_of, *ui.suggestion_buttons]
    adding = ui.add.click(lambda files: f"Adding {len(files or [])} file(s)…" if files else gr.update(),
                          ui.uploads, ui.upload_status, queue=False, api_visibility="private")
    add = handlers.add_files_whole if stateless else handlers.add_files
    adding.then(add, ui.uploads, ui.upload_status, **private).then(
        handlers.corpus_views, None, views, **private).then(lambda: None, None, ui.uploads, **queued)
    ui.open.click(handlers.open_document, ui.doc_pick, ui.doc_viewer, **private)
    ui.delete.click(ask_delete, ui.doc_pick, [ui.upload_status, ui.confirm_row, ui.confirm_text], **private)
    ui.cancel_delete.click(lambda: ("Nothing was deleted.", gr.update(visible=False)), None,
                           [ui.upload_status, ui.confirm_row], **private)
    ui.confirm_delete.click(lambda: gr.update(visible=False), None, ui.confirm_row, **private).then(
        handlers.delete_document, ui.doc_pick, [ui.upload_status, ui.doc_viewer], **private).then(
        handlers.corpus_views, None, views, **private)
    demo.load(handlers.corpus_views, None, views, **private)
    gr.api(handlers.search, api_name="search")
    gr.api(handlers.ask, api_name="ask")


SIGN_OUT = ("<form method='post' action='/logout'><button type='submit' class='sign-out'>Sign out</button>"
            "</form>")


def build_ui(engine: Engine, stateless: bool = False) -> gr.Blocks:
    """The chat. `stateless` (several server workers): every event is one plain request that any
    worker can answer, and the conversation's state travels with the page instead of living in
    one worker's memory; LLM answers then arrive whole instead of word by word."""
    handlers, ui = Handlers(engine), SimpleNamespace()
    # delete_cache: Gradio's copies of uploads a handler never saw (a closed tab) go within the hour
    with gr.Blocks(title="corpus QA", analytics_enabled=False, delete_cache=(600, 3600)) as demo:
        with gr.Row(elem_id="masthead"):
            gr.Markdown("# corpus QA", elem_id="title")
            # filled by the page's load event with the rest of the corpus views (a value given as a
            # function would be a queued event of its own: one that a second worker cannot serve)
            ui.status_line = gr.Markdown("", elem_id="corpus-line")
            ui.side_open = gr.Button("Citations", size="sm", elem_id="side-open", scale=0, min_width=90)
            if engine.settings.server.api_key:  # signed in with the key: a way out, ending the session
                gr.HTML(SIGN_OUT, elem_id="account", container=False)
        # the conversation as data (questions as asked, answers' plain text): what follow-ups are condensed from
        ui.conversation = gr.JSON([], visible=False) if stateless else gr.State([])
        ui.cites = gr.JSON([], visible=False) if stateless else gr.State([])
        with gr.Tab("Chat"):
            _chat_tab(ui)
        with gr.Tab("Documents"):
            _documents_tab(ui)
        with gr.Tab("Check a quote"):
            _quote_tab(ui, handlers.article_choices())
        _wire(ui, handlers, demo, stateless)
    if stateless:  # one id for every worker: a page that meets another worker must not think the app changed
        demo.app_id = int.from_bytes(hashlib.sha256(f"corpus-qa {__version__}".encode()).digest()[:8], "big") >> 1
    return demo
