"""The Gradio chat: answers with [n] markers, citations checkable in place, sources, quote checking."""
from __future__ import annotations

import html

import gradio as gr

from qa.engine import Engine
from qa.errors import QAError
from qa.types import Turn
from qa.faces.web import (_md_escape, answer_markdown, citations_html, document_html, location_html,
                          passages_html)

EXAMPLES = ["Why didn't Putin meet Qalibaf?", "Who received the letter instead?",
            "What did Qalibaf tweet after the visit?", "Who is Mojtaba Tavangar?"]
ANY_ARTICLE = "(any article)"
SCROLL_TO_MARK = "() => { document.querySelector('#source-viewer mark')?.scrollIntoView({block: 'center'}); }"
CSS = """
#source-viewer .article-text { white-space: pre-wrap; max-height: 420px; overflow-y: auto; }
#source-viewer mark, #quote-result mark { background: #ffe066; }
.citation { margin-bottom: .8em; } .citation .quote { font-style: italic; }
.meta { color: #666; font-size: .9em; } .passage { margin-bottom: .7em; }
#quote-result .article-text { white-space: pre-wrap; max-height: 420px; overflow-y: auto; }
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


def _turns(history: list[dict], asked: list[str]) -> list[Turn]:
    """History for condensing: the user's questions as asked (not their escaped display)."""
    turns, questions = [], iter(asked)
    for message in history or []:
        if message.get("role") == "user":
            turns.append(Turn("user", next(questions, _text(message.get("content")))))
        elif message.get("role") == "assistant":
            turns.append(Turn("assistant", html.unescape(_text(message.get("content")))))
    return turns


def _message(answer) -> str:
    """The chat message: the question as understood (when a follow-up was rewritten), the answer,
    and any warning (an LLM that failed, sentences dropped by grounding)."""
    parts = []
    if answer.condensed_question and answer.condensed_question != answer.question:
        parts.append(f"*Understood as: {_md_escape(answer.condensed_question)}*")
    parts.append(answer_markdown(answer))
    parts += [f"*⚠ {_md_escape(w)}*" for w in answer.warnings]
    return "\n\n".join(parts)


def build_ui(engine: Engine) -> gr.Blocks:
    def corpus_line() -> str:
        try:
            s = engine.stats()
            return f"Corpus: **{s['documents']}** documents · **{s['chunks']}** chunks · model `{s['model']}`"
        except QAError as exc:
            return f"Corpus unavailable: {exc}"

    def respond(message: str, history: list, asked: list):
        """A generator: with an LLM answerer its words appear as they arrive, then the grounded answer."""
        history = list(history or [])
        shown = html.escape(message or "")
        keep = (gr.update(),) * 4
        if engine.settings.answerer == "llm":
            written = ""
            for kind, value in engine.ask_streamed(message, _turns(history, asked)):
                if kind == "token":
                    written += value
                    yield (history + [{"role": "user", "content": shown},
                                      {"role": "assistant", "content": html.escape(written) + " …"}], "",
                           *keep, asked, gr.update())
                else:
                    answer = value  # an Answer, or the QAError to show
        else:
            try:
                answer = engine.ask(message, _turns(history, asked))
            except QAError as exc:
                answer = exc
        if isinstance(answer, QAError):
            history += [{"role": "user", "content": shown},
                        {"role": "assistant", "content": f"⚠ {html.escape(str(answer))}"}]
            yield history, message, *keep, asked, gr.update()
            return
        history += [{"role": "user", "content": shown}, {"role": "assistant", "content": _message(answer)}]
        choices = [f"[{c.n}] {c.title}" for c in answer.citations]
        cites = [c.to_json() for c in answer.citations]
        yield (history, "", citations_html(answer.citations),
               gr.update(choices=choices, value=None), "", passages_html(answer.passages),
               asked + [message], cites)

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

    def article_choices() -> list[str]:
        try:
            return [ANY_ARTICLE] + [f"{d} — {t}" for d, t in ((x.doc_id, x.title) for x in engine.store.documents())]
        except QAError:
            return [ANY_ARTICLE]

    def clear():
        return [], "", citations_html([]), gr.update(choices=[], value=None), "", "", [], []

    with gr.Blocks(title="corpus QA", analytics_enabled=False) as demo:
        gr.Markdown("# corpus QA\nAnswers from the articles, every claim with a cited extract you can check.")
        gr.Markdown(corpus_line, elem_id="corpus-line")
        asked = gr.State([])
        cites = gr.State([])
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Conversation", elem_id="chat", height=460,
                                         sanitize_html=True, feedback_options=None)
                    with gr.Row():
                        question = gr.Textbox(placeholder="Ask about the articles…", show_label=False,
                                              elem_id="question", scale=5, max_length=2000)
                        send = gr.Button("Ask", variant="primary", elem_id="send", scale=1)
                    clear_button = gr.Button("Clear", elem_id="clear")
                    gr.Examples(EXAMPLES, inputs=question, label="Examples")
                with gr.Column(scale=2):
                    gr.Markdown("### Citations")
                    citations = gr.HTML(citations_html([]), elem_id="citations")
                    opener = gr.Radio([], label="Open a citation in its article", elem_id="open-citation")
                    viewer = gr.HTML("", elem_id="source-viewer")
                    gr.Markdown("### Retrieved passages")
                    sources = gr.HTML("", elem_id="sources")
        with gr.Tab("Check a quote"):
            gr.Markdown("Paste a quote to see whether and where it appears in the corpus.")
            quote_box = gr.Textbox(label="Quote", lines=3, elem_id="quote-input", max_length=2000)
            article = gr.Dropdown(choices=article_choices(), value=ANY_ARTICLE, label="Article",
                                  elem_id="quote-article")
            check = gr.Button("Check", variant="primary", elem_id="quote-check")
            result = gr.HTML("", elem_id="quote-result")

        outputs = [chatbot, question, citations, opener, viewer, sources, asked, cites]
        for trigger in (send.click, question.submit):
            trigger(respond, [question, chatbot, asked], outputs, api_name="chat" if trigger == send.click else False)
        opener.change(open_citation, [opener, cites], viewer, api_visibility="private").then(
            None, js=SCROLL_TO_MARK)
        clear_button.click(clear, None, outputs, api_visibility="private")
        check.click(check_quote, [quote_box, article], result, api_name="check_quote")
        demo.load(lambda: gr.update(choices=article_choices()), None, article, api_visibility="private")

        def search(query: str, k: int = 5) -> dict:
            """Retrieval only: the passages that best match the query."""
            return {"query": query, "results": [h.to_json() for h in engine.search(query, int(k))]}

        def ask(question: str, history: list[dict] | None = None) -> dict:
            """An answer with cited extracts; history is [{"role": ..., "content": ...}]."""
            turns = [Turn(m.get("role", "user"), _text(m.get("content"))) for m in history or []]
            return engine.ask(question, turns).to_json()

        gr.api(search, api_name="search")
        gr.api(ask, api_name="ask")
    return demo
