"""The Gradio chat: answers with [n] markers, citations checkable in place, sources, quote checking."""
from __future__ import annotations

import html

import gradio as gr

from qa.engine import Engine
from qa.errors import QAError
from qa.faces.suggest import suggested_questions
from qa.faces.web import (_md_escape, answer_markdown, citations_html, document_html, documents_table_html,
                          location_html, passages_html)
from qa.types import Filters, Turn, turns_from_json

ANY_ARTICLE = "(any article)"
UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"]
LISTED_DOCUMENTS = 500  # the browser lists this many; the API pages through any number


def _scroll_to_mark(container: str) -> str:
    return f"() => {{ document.querySelector('{container} mark')?.scrollIntoView({{block: 'center'}}); }}"


CSS = """
#source-viewer .article-text, #quote-result .article-text, #doc-viewer .article-text {
  white-space: pre-wrap; max-height: 420px; overflow-y: auto; overflow-wrap: anywhere; }
#source-viewer mark, #quote-result mark, #doc-viewer mark { background: #ffe066; }
.citation { margin-bottom: .8em; } .citation .quote { font-style: italic; }
.meta { color: #666; font-size: .9em; } .passage { margin-bottom: .7em; }
.quote-diff del { background: #ffd7d5; } .quote-diff ins { background: #d5f5dd; text-decoration: none; }
table.documents { width: 100%; border-collapse: collapse; font-size: .92em; }
table.documents td, table.documents th { padding: .25em .4em; border-bottom: 1px solid #eee; text-align: left; }
@media (max-width: 720px) {
  #chat { height: 60vh !important; }
  table.documents .source { display: none; }
}
"""


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
        parts.append(f"*Understood as: {_md_escape(answer.condensed_question)}*")
    parts.append(answer_markdown(answer, links=True))
    parts += [f"*⚠ {_md_escape(w)}*" for w in answer.warnings]
    return "\n\n".join(parts)


def build_ui(engine: Engine, stateless: bool = False) -> gr.Blocks:
    """The chat. `stateless` (several server workers): every event is one plain request that any
    worker can answer, and the conversation's state travels with the page instead of living in
    one worker's memory; LLM answers then arrive whole instead of word by word."""
    queued = {"queue": False} if stateless else {}
    def corpus_line() -> str:
        try:
            s = engine.stats()
            return f"Corpus: **{s['documents']}** documents · **{s['chunks']}** chunks · model `{s['model']}`"
        except QAError as exc:
            return f"Corpus unavailable: {exc}"

    def respond(message: str, history: list, conversation: list, outlets: list | None = None, since: str = "",
                until: str = ""):
        """A generator: an answerer that writes prose shows its words as they arrive, then the
        grounded answer; one that cites extracts shows the answer when it is ready."""
        history = list(history or [])
        shown = html.escape(message or "")
        keep = (gr.update(),) * 4
        filters = Filters(tuple(outlets or ()), (since or "").strip() or None, (until or "").strip() or None)
        written = ""
        for kind, value in engine.ask_streamed(message, _turns(conversation), filters=filters):
            if kind == "token":
                written += value
                yield (history + [{"role": "user", "content": shown},
                                  {"role": "assistant", "content": html.escape(written) + " …"}], "",
                       *keep, conversation, gr.update())
            else:
                answer = value  # an Answer, or the QAError to show
        if isinstance(answer, QAError):
            history += [{"role": "user", "content": shown},
                        {"role": "assistant", "content": f"⚠ {html.escape(str(answer))}"}]
            yield history, message, *keep, conversation, gr.update()
            return
        history += [{"role": "user", "content": shown}, {"role": "assistant", "content": _message(answer)}]
        choices = [f"[{c.n}] {c.title}" for c in answer.citations]
        cites = [c.to_json() for c in answer.citations]
        yield (history, "", citations_html(answer.citations),
               gr.update(choices=choices, value=None), "", passages_html(answer.passages),
               conversation + [{"role": "user", "content": message},
                               {"role": "assistant", "content": answer.answer}], cites)

    def respond_whole(*args):
        """respond() run to its end: one request, one response."""
        last = None
        for last in respond(*args):
            pass
        return last

    def open_citation(choice: str | None, cites: list[dict]) -> str:
        if not choice:
            return ""
        n = int(choice.split("]", 1)[0].lstrip("["))
        cite = next((c for c in cites if c["n"] == n), None)
        if cite is None:
            return ""
        doc = engine.document(cite["doc_id"])
        return document_html(doc, cite["start"], cite["end"], label=f"citation [{n}]")

    def check_quote(quote: str, article: str | None) -> str:
        doc_id = None if not article or article == ANY_ARTICLE else article.split(" — ", 1)[0]
        try:
            found = engine.locate_quote(quote or "", doc_id)
        except QAError as exc:
            return f"<p class='verdict error'>⚠ {html.escape(str(exc))}</p>"
        return location_html(quote, found, engine.document(found.doc_id) if found else None)

    def listed():
        try:
            return engine.documents(LISTED_DOCUMENTS)
        except QAError:
            return 0, []

    def article_choices() -> list[str]:
        return [ANY_ARTICLE] + [f"{d.doc_id} — {d.title}" for d in listed()[1]]

    def corpus_views():
        """Everything that shows the corpus, refreshed after an upload or a delete."""
        total, docs = listed()
        try:
            suggestions = suggested_questions(engine.store)
        except QAError:
            suggestions = []
        choices = [f"{d.doc_id} — {d.title}" for d in docs]
        outlets = sorted({d.outlet for d in docs if d.outlet})
        return (corpus_line(), documents_table_html(total, docs), gr.update(choices=choices, value=None),
                gr.update(choices=[ANY_ARTICLE] + choices), gr.update(choices=suggestions, value=None),
                gr.update(choices=outlets))

    def add_files(files: list | None):
        if not files:
            return "Choose one or more files first."
        from pathlib import Path

        try:
            sent = [(Path(f).name, Path(f).read_bytes()) for f in files]
            report = engine.upload(sent)
        except QAError as exc:
            return f"⚠ Nothing was added: {_md_escape(str(exc))}"
        finally:  # Gradio's copies of the files: the uploads folder keeps what was added
            for f in files:
                Path(f).unlink(missing_ok=True)
        return (f"Added {report.added}, updated {report.updated} "
                f"({', '.join(_md_escape(Path(f).name) for f in files)}); the corpus now has "
                f"{report.documents} documents. Ask away.")

    def open_document(choice: str | None) -> str:
        if not choice:
            return ""
        try:
            return document_html(engine.document(choice.split(" — ", 1)[0]), None, None)
        except QAError as exc:
            return f"<p class='verdict error'>⚠ {html.escape(str(exc))}</p>"

    def delete_document(choice: str | None) -> tuple[str, str]:
        if not choice:
            return "Choose a document first.", ""
        doc_id = choice.split(" — ", 1)[0]
        try:
            report = engine.delete(doc_id)
        except QAError as exc:
            return f"⚠ {_md_escape(str(exc))}", ""
        return f"Deleted {_md_escape(doc_id)}; {report.documents} documents left.", ""

    def clear():
        return [], "", citations_html([]), gr.update(choices=[], value=None), "", "", [], []

    # delete_cache: Gradio's copies of uploads a handler never saw (a closed tab) go within the hour
    with gr.Blocks(title="corpus QA", analytics_enabled=False, delete_cache=(600, 3600)) as demo:
        gr.Markdown("# corpus QA\nAnswers from the articles, every claim with a cited extract you can check.")
        status_line = gr.Markdown(corpus_line, elem_id="corpus-line")
        # the conversation as data (questions as asked, answers' plain text): what follow-ups are condensed from
        asked = gr.JSON([], visible=False) if stateless else gr.State([])
        cites = gr.JSON([], visible=False) if stateless else gr.State([])
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=3, min_width=300):
                    chatbot = gr.Chatbot(label="Conversation", elem_id="chat", height=460,
                                         sanitize_html=True, feedback_options=None)
                    with gr.Row():
                        question = gr.Textbox(placeholder="Ask about the articles…", show_label=False,
                                              elem_id="question", scale=5, max_length=2000)
                        send = gr.Button("Ask", variant="primary", elem_id="send", scale=1, min_width=80)
                    suggestions = gr.Radio([], label="Try asking (from this corpus)", elem_id="suggestions")
                    with gr.Accordion("Filters", open=False, elem_id="filters"):
                        outlets = gr.Dropdown([], value=[], multiselect=True, label="Outlets", elem_id="filter-outlets")
                        with gr.Row():
                            since = gr.Textbox("", label="From (YYYY-MM-DD)", elem_id="filter-since", max_length=10)
                            until = gr.Textbox("", label="To (YYYY-MM-DD)", elem_id="filter-until", max_length=10)
                    clear_button = gr.Button("Clear", elem_id="clear")
                with gr.Column(scale=2, min_width=300):
                    gr.Markdown("### Citations")
                    citations = gr.HTML(citations_html([]), elem_id="citations")
                    opener = gr.Radio([], label="Open a citation in its article", elem_id="open-citation")
                    viewer = gr.HTML("", elem_id="source-viewer")
                    gr.Markdown("### Retrieved passages")
                    sources = gr.HTML("", elem_id="sources")
        with gr.Tab("Documents"):
            gr.Markdown("Add articles (TXT, Markdown, HTML news pages, PDF, Word) or remove them. "
                        "Added files can be asked about at once.")
            with gr.Row():
                uploads = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, label="Files",
                                  elem_id="upload", min_width=280)
                with gr.Column(min_width=280):
                    add = gr.Button("Add to corpus", variant="primary", elem_id="upload-button")
                    upload_status = gr.Markdown("", elem_id="upload-status")
            doc_list = gr.HTML("", elem_id="doc-list")
            doc_pick = gr.Dropdown([], label="Document", elem_id="doc-pick")
            with gr.Row():
                open_button = gr.Button("Open", elem_id="doc-open")
                delete_button = gr.Button("Delete", variant="stop", elem_id="doc-delete")
            doc_viewer = gr.HTML("", elem_id="doc-viewer")
        with gr.Tab("Check a quote"):
            gr.Markdown("Paste a quote to see whether and where it appears in the corpus, and how it differs.")
            quote_box = gr.Textbox(label="Quote", lines=3, elem_id="quote-input", max_length=2000)
            article = gr.Dropdown(choices=article_choices(), value=ANY_ARTICLE, label="Article",
                                  elem_id="quote-article")
            check = gr.Button("Check", variant="primary", elem_id="quote-check")
            result = gr.HTML("", elem_id="quote-result")

        outputs = [chatbot, question, citations, opener, viewer, sources, asked, cites]
        for trigger in (send.click, question.submit):
            trigger(respond_whole if stateless else respond, [question, chatbot, asked, outlets, since, until], outputs,
                    **queued,
                    api_name="chat" if trigger == send.click else False)
        suggestions.change(lambda q: q or gr.update(), suggestions, question, api_visibility="private", **queued)
        opener.change(open_citation, [opener, cites], viewer, api_visibility="private", **queued).then(
            None, js=_scroll_to_mark("#source-viewer"))
        clear_button.click(clear, None, outputs, api_visibility="private", **queued)
        check.click(check_quote, [quote_box, article], result, api_name="check_quote", **queued).then(
            None, js=_scroll_to_mark("#quote-result"))
        views = [status_line, doc_list, doc_pick, article, suggestions, outlets]
        add.click(add_files, uploads, upload_status, api_visibility="private", **queued).then(
            corpus_views, None, views, api_visibility="private", **queued).then(lambda: None, None, uploads, **queued)
        open_button.click(open_document, doc_pick, doc_viewer, api_visibility="private", **queued)
        delete_button.click(delete_document, doc_pick, [upload_status, doc_viewer], api_visibility="private",
                            **queued).then(corpus_views, None, views, api_visibility="private", **queued)
        demo.load(corpus_views, None, views, api_visibility="private", **queued)

        def search(query: str, k: int = 5) -> dict:
            """Retrieval only: the passages that best match the query."""
            return {"query": query, "results": [h.to_json() for h in engine.search(query, int(k))]}


        def ask(question: str, history: list[dict] | None = None) -> dict:
            """An answer with cited extracts; history is [{"role": ..., "content": ...}]."""
            turns = [Turn(m.get("role", "user"), _text(m.get("content")),
                          m.get("result") if isinstance(m.get("result"), dict) else None) for m in history or []]
            return engine.ask(question, turns).to_json()

        gr.api(search, api_name="search")
        gr.api(ask, api_name="ask")
    return demo
