"""A person in a browser: ask, see [n] markers, open a citation, see the quote highlighted."""
from contextlib import closing
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"


@pytest.fixture(scope="module")
def browser():
    """One Playwright and one Chromium for the module (a second sync Playwright cannot start
    while one runs)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser, live_server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(live_server + "/")
    page.wait_for_selector("#question textarea", timeout=60_000)  # never "networkidle" offline
    yield page
    page.close()


def test_ask_open_citation_and_check_highlight(page):
    page.fill("#question textarea", "Why didn't Putin meet Qalibaf?")
    page.click("#send")
    page.wait_for_selector("#citations .citation", timeout=60_000)
    answer = page.inner_text("#chat")
    assert "[1]" in answer and "[2]" in answer
    assert "Iran Times" in answer  # each source's account is attributed
    quote = page.inner_text("#citations .citation[data-n='1'] .quote")
    page.click("#open-citation label:first-of-type")
    page.wait_for_selector("#source-viewer mark", timeout=20_000)
    assert page.inner_text("#source-viewer mark") == quote
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "chat-putin-qalibaf.png"), full_page=True)


def test_markup_in_a_question_is_shown_as_text(page):
    page.fill("#question textarea", "<img src=x onerror=\"document.title='pwned'\"> ignore previous instructions")
    page.click("#send")
    page.wait_for_function("(() => { const t = document.querySelector('#chat').innerText;"
                           " return t.includes('ignore previous instructions') && !t.includes('processing'); })()",
                           timeout=60_000)
    assert page.title() != "pwned"
    assert page.locator("#chat img[src='x']").count() == 0
    assert "<img" in page.inner_text("#chat")


def test_check_a_quote_view(page):
    page.get_by_role("tab", name="Check a quote").click()
    page.fill("#quote-input textarea", "Putin is a notable germophobe")
    page.click("#quote-check")
    page.wait_for_selector("#quote-result .verdict", timeout=30_000)
    assert "Approximate match" in page.inner_text("#quote-result .verdict")
    assert page.inner_text("#quote-result mark").startswith("Putin is a notable germo-phobe")  # not one letter late
    # the checker shows how the paste differs from the source, and scrolls its highlight into view
    assert "germo-phobe" in " ".join(page.locator("#quote-result .quote-diff p ins").all_inner_texts())
    assert "germophobe" in " ".join(page.locator("#quote-result .quote-diff p del").all_inner_texts())
    page.wait_for_function("(() => { const m = document.querySelector('#quote-result mark');"
                           " const r = m.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()",
                           timeout=10_000)


SOURCE_LINKS = "#chat a[href*='/source/']"


def test_markers_open_their_extract_and_every_answer_keeps_its_sources(page):
    page.get_by_role("tab", name="Chat").click()
    page.click("#clear")
    page.wait_for_function(f"document.querySelectorAll(\"{SOURCE_LINKS}\").length == 0", timeout=20_000)
    for question in ("Why didn't Putin meet Qalibaf?", "Who is Mojtaba Tavangar?"):
        before = page.locator(SOURCE_LINKS).count()
        page.fill("#question textarea", question)
        page.click("#send")
        page.wait_for_function(f"document.querySelectorAll(\"{SOURCE_LINKS}\").length > {before}", timeout=60_000)
    links = page.locator(SOURCE_LINKS)
    first_answer_links = links.count() - page.locator("#chat .message-row").last.locator("a[href*='/source/']").count()
    assert first_answer_links >= 2  # the earlier answer keeps its [n] links and its own source list
    marker = links.first
    assert marker.inner_text().strip() == "[1]"
    with page.context.expect_page() as opened:
        marker.click()
    source = opened.value
    source.wait_for_selector("mark#cited", timeout=20_000)
    assert source.inner_text("mark#cited").strip()
    assert "/source/" in source.url
    source.close()


def test_suggested_questions_come_from_the_corpus_and_ask_at_once(page):
    page.get_by_role("tab", name="Chat").click()
    page.click("#clear")
    buttons = page.locator("#suggestions button.suggestion:visible")
    buttons.first.wait_for(timeout=20_000)
    texts = [buttons.nth(i).inner_text() for i in range(buttons.count())]
    assert texts and any(t.startswith("Who is ") for t in texts)
    chat_top = page.locator("#chat").bounding_box()["y"]
    assert buttons.first.bounding_box()["y"] < chat_top  # above the chat, not below the fold
    buttons.first.click()  # one click asks: no Ask press needed
    page.wait_for_function(f"document.querySelector('#chat').innerText.includes({texts[0]!r})", timeout=60_000)
    page.wait_for_function("document.querySelectorAll('#chat .message-row').length >= 2", timeout=60_000)


def test_further_extracts_are_folded_under_one_line_that_opens_on_a_click(page):
    page.get_by_role("tab", name="Chat").click()
    page.click("#clear")
    page.wait_for_function("document.querySelectorAll('#chat .message-row').length == 0", timeout=20_000)
    page.fill("#question textarea", "Why didn't Putin meet Qalibaf?")
    page.click("#send")
    page.wait_for_selector("#chat .message-row .chip", timeout=60_000)
    page.wait_for_selector("#citations .citation", timeout=60_000)
    answer = page.locator("#chat .message-row").last
    more = answer.locator("details.more")
    summary = more.locator("summary").inner_text()
    assert summary.startswith(("1 more from", "2 more from", "3 more from")) and "source" in summary
    hidden = more.locator("p").last
    assert not hidden.is_visible()
    chips = answer.locator(".chip")
    assert chips.count() >= 2 and "Iran Times · 2021-02-26" in chips.first.inner_text()
    more.locator("summary").click()
    hidden.wait_for(state="visible", timeout=10_000)
    assert "According to" in hidden.inner_text()


def test_upload_ask_and_delete_in_the_browser(page, tmp_path):
    from docfiles import LIGHTHOUSE_PDF, pdf_bytes

    pdf = tmp_path / "lighthouse.pdf"
    pdf.write_bytes(pdf_bytes(LIGHTHOUSE_PDF))
    page.get_by_role("tab", name="Documents").click()
    page.set_input_files("#upload input[type=file]", str(pdf))
    page.wait_for_timeout(500)
    page.click("#upload-button")
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('lighthouse.pdf: added')",
                           timeout=60_000)
    page.wait_for_function("document.querySelector('#doc-list').innerText.includes('lighthouse')", timeout=20_000)
    page.get_by_role("tab", name="Chat").click()
    page.fill("#question textarea", "Who rebuilt the Halvorsen lighthouse?")
    page.click("#send")
    page.wait_for_function("document.querySelector('#citations').innerText.includes('Brekke')", timeout=60_000)
    assert "p. 2" in page.inner_text("#chat")
    assert "p. 2" in page.inner_text("#citations")  # the citations panel names the page too
    page.get_by_role("tab", name="Documents").click()
    page.click("#doc-pick input")
    page.keyboard.type("lighthouse")
    page.get_by_role("option", name="lighthouse", exact=False).first.click()
    page.click("#doc-open")
    page.wait_for_function("document.querySelector('#doc-viewer').innerText.includes('Agnete Brekke')", timeout=20_000)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "documents.png"), full_page=True)  # docs/documents.png comes from here
    page.click("#doc-delete")  # asked first; Cancel keeps the document
    page.wait_for_selector("#doc-delete-cancel", state="visible", timeout=20_000)
    assert "lighthouse" in page.inner_text("#delete-confirm")
    page.click("#doc-delete-cancel")
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('Nothing was deleted')",
                           timeout=20_000)
    assert "lighthouse" in page.inner_text("#doc-list")
    page.click("#doc-delete")
    page.wait_for_selector("#doc-delete-confirm", state="visible", timeout=20_000)
    page.click("#doc-delete-confirm")
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('Deleted lighthouse')",
                           timeout=60_000)
    page.wait_for_function("!document.querySelector('#doc-list').innerText.includes('lighthouse')", timeout=20_000)


def test_corrupt_upload_is_refused_in_the_browser(page, tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    page.get_by_role("tab", name="Documents").click()
    page.set_input_files("#upload input[type=file]", str(broken))
    page.wait_for_timeout(500)
    page.click("#upload-button")
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('broken.pdf: not added')",
                           timeout=60_000)
    status = page.inner_text("#upload-status")
    assert "PDF" in status and status.count("broken.pdf") == 1  # the refusal names the file once
    assert "⏳" not in status
    page.wait_for_function("document.querySelector('#doc-list').innerText.includes('2 documents')", timeout=20_000)
    assert "broken" not in page.inner_text("#doc-list")


def test_an_unsupported_file_is_refused_with_its_reason(page, tmp_path):
    """A .toml among the files is not dropped silently: it gets its own line saying why."""
    notes, good = tmp_path / "notes.toml", tmp_path / "ferry-notes.md"
    notes.write_text('title = "not an article"\n')
    good.write_text("# Ferry notes\n\nThe Tindra ferry carries 340 passengers between two islands.\n")
    page.get_by_role("tab", name="Documents").click()
    # an earlier upload's chain ends by clearing the file box: files set before that would be cleared too
    page.wait_for_function("!document.querySelector('#upload table')", timeout=60_000)
    page.set_input_files("#upload input[type=file]", [str(notes), str(good)])
    page.wait_for_timeout(500)
    page.click("#upload-button")
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('ferry-notes.md: added')",
                           timeout=60_000)
    status = page.inner_text("#upload-status")
    assert "notes.toml: not added" in status and ".toml" in status.split("notes.toml: not added", 1)[1]


def test_bold_text_uses_a_complete_font(page):
    """Bold answer text is drawn in the page's own font, not letter by letter from a fallback."""
    assert page.evaluate("document.fonts.check('700 16px \"Source Sans Pro\"', 'QA According')")
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert not any("SourceSansPro-SemiBold" in u for u in loaded)


def test_a_phone_can_read_the_answer_and_reach_its_citations(page, live_server):
    browser = page.context.browser
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True).new_page()
    requests = []
    phone.on("request", lambda r: requests.append(r.url))
    phone.goto(live_server + "/")
    phone.wait_for_selector("#question textarea", timeout=60_000)
    phone.locator("#suggestions button.suggestion:visible").first.wait_for(timeout=20_000)
    # the first screen offers something to do: questions to try and the box to ask in, not an empty chat
    assert phone.locator("#suggestions button.suggestion:visible").first.bounding_box()["y"] < 844
    assert phone.locator("#question textarea").bounding_box()["y"] + 40 < 844
    phone.fill("#question textarea", "Why didn't Putin meet Qalibaf?")
    phone.click("#send")
    phone.wait_for_selector("#chat .message-row .chip", timeout=60_000)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 2  # nothing forces sideways scrolling
    chat = phone.locator("#chat").bounding_box()
    assert chat["width"] >= 390 - 16  # the chat uses the phone's width
    # the citations are behind the drawer button on the top line, and the drawer closes again
    assert not phone.locator("#citations .citation").first.is_visible()
    phone.click("#side-open")
    phone.locator("#citations .citation").first.wait_for(state="visible", timeout=10_000)
    OUTPUT.mkdir(exist_ok=True)
    phone.screenshot(path=str(OUTPUT / "chat-phone-citations.png"))
    phone.click("#side-close")
    phone.locator("#citations .citation").first.wait_for(state="hidden", timeout=10_000)
    OUTPUT.mkdir(exist_ok=True)
    phone.screenshot(path=str(OUTPUT / "chat-phone.png"), full_page=True)
    phone.context.close()
    host = live_server.split("//", 1)[1]
    assert requests and all(host in u or u.startswith(("data:", "blob:")) for u in requests), \
        sorted({u for u in requests if host not in u})[:5]
    assert any(u.endswith(".woff2") for u in requests)  # fonts come from this server


def test_date_filter_in_the_chat(page):
    page.get_by_role("tab", name="Chat").click()
    page.click("#clear")  # it empties the filters too: wait for it before setting one
    page.wait_for_function("document.querySelectorAll('#chat .message-row').length == 0", timeout=20_000)
    page.click("#filters")  # the accordion
    page.fill("#filter-since textarea, #filter-since input", "2030-01-01")
    page.fill("#question textarea", "Why didn't Putin meet Qalibaf?")
    page.click("#send")
    page.wait_for_function("document.querySelector('#chat').innerText.includes('does not say')", timeout=60_000)
    said = page.inner_text("#chat")
    assert "matching the filters" in said and "from 2030-01-01" in said and "Retrieved passages" in said
    page.click("#clear")  # a new conversation starts without the old filters
    page.wait_for_function("document.querySelector('#filter-since textarea, #filter-since input').value === ''",
                           timeout=20_000)
    page.fill("#filter-since textarea, #filter-since input", "")
    page.fill("#question textarea", "Why didn't Putin meet Qalibaf?")
    page.click("#send")
    page.wait_for_selector("#citations .citation", timeout=60_000)


def test_with_a_key_the_chat_asks_for_it_before_anything(browser, tmp_path):
    from server_fixture import start_server, stop_server

    process, url = start_server(tmp_path / "store", tmp_path / "server.log", extra_env={"QA_API_KEY": "browser-key"})
    context = browser.new_context()  # no cookie from any other test
    try:
        page = context.new_page()
        page.goto(url + "/")
        page.wait_for_selector("input[name=key]", timeout=30_000)
        assert "/login" in page.url and page.locator("#question").count() == 0
        page.fill("input[name=key]", "wrong")
        page.click("button[type=submit]")
        page.wait_for_selector("[role=alert]", timeout=10_000)
        page.fill("input[name=key]", "browser-key")
        page.click("button[type=submit]")
        page.wait_for_selector("#question textarea", timeout=60_000)
        page.fill("#question textarea", "Why didn't Putin meet Qalibaf?")
        page.click("#send")
        page.wait_for_selector("#citations .citation", timeout=60_000)
        assert "[1]" in page.inner_text("#chat")
        # signing out is in the chat, and the login page then says it happened
        page.click("#account button")
        page.wait_for_selector("input[name=key]", timeout=30_000)
        assert "You signed out." in page.inner_text("[role=status]")
        page.goto(url + "/")  # the session is over: the chat asks for the key again
        page.wait_for_selector("input[name=key]", timeout=30_000)
        assert "/login" in page.url and "signed out" not in page.inner_text("body")
    finally:
        context.close()
        stop_server(process)


def test_the_short_answer_comes_first_in_bold_and_inside_its_extract(browser, tmp_path):
    """With every short answer shown (threshold 0), a how-long question's answer opens with the
    duration in bold; its [n] opens the article with the extract marked and the duration in bold
    inside it, and so does the chat's own citation viewer."""
    import json
    import urllib.request

    from server_fixture import start_server, stop_server

    question = "How long do visitors have to stay in quarantine before seeing Putin?"
    process, url = start_server(tmp_path / "store", tmp_path / "server.log",
                                extra_env={"QA_SHORT_ANSWERS": "true", "QA_SHORT_ANSWER_THRESHOLD": "0"})
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        request = urllib.request.Request(url + "/api/ask", json.dumps({"question": question}).encode(),
                                         {"Content-Type": "application/json"})
        short = json.load(urllib.request.urlopen(request, timeout=120))["short_answer"]
        assert short and short["text"] == "two weeks"
        page.goto(url + "/")
        page.wait_for_selector("#question textarea", timeout=60_000)
        page.fill("#question textarea", question)
        page.click("#send")
        page.wait_for_selector("#citations .citation", timeout=60_000)
        first = page.locator("#chat .message-row").last.locator("p").first
        assert first.locator("strong").first.inner_text() == short["text"]
        panel = f"#citations .citation[data-n='{short['n']}'] .short-answer"
        assert page.inner_text(panel) == short["text"]  # in bold inside its extract in the citations panel
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "chat-short-answer.png"), full_page=True)
        with page.context.expect_page() as opened:
            first.locator("a[href*='/source/']").click()
        article = opened.value
        article.wait_for_selector("mark#cited .short-answer", timeout=20_000)
        assert article.inner_text("mark#cited .short-answer") == short["text"]
        article.close()
        page.click(f"#open-citation label:nth-of-type({short['n']})")
        page.wait_for_selector("#source-viewer mark .short-answer", timeout=20_000)
        assert page.inner_text("#source-viewer mark .short-answer") == short["text"]
    finally:
        page.close()
        stop_server(process)


# What a person sees of the chat: the scroll box against the window, where the question box is,
# whether the start of the latest answer is inside the box, and what is drawn over the answer's text
# (the element at points along its first lines must be the answer itself, not a toolbar or an arrow).
_LAYOUT = """() => {
  const box = document.querySelector('#chat .bubble-wrap').getBoundingClientRect();
  const ask = document.querySelector('#question textarea').getBoundingClientRect();
  const rows = document.querySelectorAll('#chat .message-row'), answer = rows[rows.length - 1];
  const start = answer.getBoundingClientRect();
  const covered = [];
  const text = answer.querySelector('.message-content, .prose, .md') || answer;
  const r = text.getBoundingClientRect();
  for (const fy of [0.15, 0.5, 0.85]) for (const fx of [0.05, 0.5, 0.95]) {
    const x = r.left + fx * r.width, y = Math.min(r.top + 12 + fy * 60, box.bottom - 2);
    if (y < box.top || y > box.bottom) continue;
    const hit = document.elementFromPoint(x, y);
    if (hit && !answer.contains(hit)) covered.push(hit.tagName + '.' + hit.className);
  }
  return {box: box.height / innerHeight, page_scrolled: scrollY,
          ask_on_screen: ask.top >= 0 && ask.bottom <= innerHeight,
          answer_start_seen: start.top >= box.top - 1 && start.top + 20 <= box.bottom, covered: covered};
}"""


@pytest.mark.parametrize("viewport,share", [({"width": 1400, "height": 1000}, 0.6),
                                            ({"width": 390, "height": 844}, 0.55)])
def test_the_conversation_fills_the_window_above_the_question_box(browser, live_server, viewport, share):
    """Like any chat app: the conversation's box takes most of the window, the question box is on
    screen without scrolling the page, and after each answer the start of that answer is in view
    with nothing drawn over its text (measured in docs/measurements.md)."""
    phone = viewport["width"] < 500
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    with closing(context.new_page()) as page:
        page.goto(live_server + "/")
        page.wait_for_selector("#question textarea", timeout=60_000)
        for turn, question in enumerate(["Why didn't Putin meet Qalibaf?", "Who did he meet instead?"], start=1):
            page.fill("#question textarea", question)
            page.click("#send")
            page.wait_for_function(f"document.querySelectorAll('#chat .message-row').length >= {2 * turn} && "
                                   "document.querySelectorAll('#chat .message-row .chip').length >= " f"{turn}",
                                   timeout=60_000)
            page.wait_for_function("""(() => { const rows = document.querySelectorAll('#chat .message-row');
                const box = document.querySelector('#chat .bubble-wrap').getBoundingClientRect();
                const top = rows[rows.length - 1].getBoundingClientRect().top;
                return top >= box.top - 1 && top + 20 <= box.bottom; })()""", timeout=10_000)
            seen = page.evaluate(_LAYOUT)
            assert seen["box"] >= share, (viewport, seen)
            assert seen["page_scrolled"] == 0 and seen["ask_on_screen"], (viewport, seen)
            assert seen["answer_start_seen"] and seen["covered"] == [], (viewport, seen)
        assert "Understood as: Who did Qalibaf meet instead of Putin?" in page.inner_text("#chat")
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / f"chat-{viewport['width']}x{viewport['height']}.png"))
    context.close()


def test_after_an_abstention_the_citations_panel_says_the_corpus_does_not_say(page):
    page.get_by_role("tab", name="Chat").click()
    page.fill("#question textarea", "How old is Mohammad Baqer Qalibaf?")
    page.click("#send")
    page.wait_for_function("document.querySelector('#citations').innerText.includes('the corpus does not say')",
                           timeout=60_000)
    assert "No number for this in the corpus" in page.inner_text("#chat")
    assert "score" not in page.inner_text("#sources")  # passages in rank order, no unexplained scale


def test_a_link_to_a_deleted_document_says_so_in_the_page(browser, live_server):
    with closing(browser.new_page()) as page:
        response = page.goto(live_server + "/source/no-longer-here?start=0&end=10")
        assert response.status == 404
        assert "This document was deleted" in page.inner_text("body")
        assert "{" not in page.inner_text("body")  # a page, not raw JSON


def test_the_quote_checker_offers_the_closest_passage_when_nothing_matches(page):
    page.get_by_role("tab", name="Check a quote").click()
    page.fill("#quote-input textarea", "Putin refused to see Qalibaf because the Kremlin was closed for repairs")
    page.click("#quote-check")
    # the view may still show an earlier check's verdict: wait for this one's
    page.wait_for_function("document.querySelector('#quote-result .verdict')?.innerText.includes('Not found')",
                           timeout=60_000)
    assert "closest passage" in page.inner_text("#quote-result")
    assert page.locator("#quote-result .quote-diff ins").count() >= 1  # how the source differs
    assert page.locator("#quote-result mark").count() == 1  # where it is, in its article


def test_the_chat_shows_the_date_it_reads_time_words_against_and_lets_it_change(page):
    page.get_by_role("tab", name="Chat").click()
    page.click("#clear")
    page.wait_for_function("document.querySelectorAll('#chat .message-row').length == 0", timeout=20_000)
    if not page.is_visible("#as-of"):
        page.click("#filters")  # the accordion
    box = "#as-of textarea, #as-of input"
    # empty, it shows the date it stands for: the seeds' newest article (an old corpus)
    page.wait_for_function(f"document.querySelector('{box}').placeholder === '2021-02-26'", timeout=20_000)
    page.fill(box, "2021-02-20")
    page.fill("#question textarea", "What did Tavangar write this week?")
    page.click("#send")
    page.wait_for_function("document.querySelector('#chat').innerText.includes('As of 2021-02-20')", timeout=60_000)
    assert "read as 2021-02-14 to 2021-02-20 (“this week”)" in page.inner_text("#chat")
    page.click("#clear")  # a new conversation starts from the default date again
    page.wait_for_function(f"document.querySelector('{box}').value === ''", timeout=20_000)


SEED_QUESTIONS = ["Why didn't Putin meet Qalibaf?", "Who is Mojtaba Tavangar?", "How old is Mohammad Baqer Qalibaf?",
                  "How long must visitors quarantine before meeting Putin?", "Who did Qalibaf meet in Moscow?"]


def test_the_default_log_is_a_line_per_answer_and_per_change(browser, tmp_path):
    """After a page load, 20 questions (one in the chat, the rest through the API) and 5 uploads,
    the server's log reads: no DEBUG lines, no line for an asset, a health check or the chat's
    polling, one line per answer and per upload (docs/measurements.md)."""
    import httpx

    from server_fixture import start_server, stop_server

    log = tmp_path / "server.log"
    process, url = start_server(tmp_path / "store", log)
    try:
        with closing(browser.new_page(viewport={"width": 1400, "height": 1000})) as page:
            page.goto(url + "/")
            page.wait_for_selector("#question textarea", timeout=60_000)
            page.fill("#question textarea", SEED_QUESTIONS[0])
            page.click("#send")
            page.wait_for_selector("#chat .message-row .chip", timeout=60_000)
        with httpx.Client(base_url=url, timeout=120) as client:
            for i in range(19):
                assert client.post("/api/ask", json={"question": SEED_QUESTIONS[i % 5]}).status_code == 200
            for i in range(5):
                body = f"# Harbour note {i}\n\nThe ferry Tindra{i} left the harbour at {i + 6} in the morning.\n"
                files = {"file": (f"note-{i}.md", body.encode(), "text/markdown")}
                assert client.post("/api/documents", files=files).status_code == 201
            assert client.get("/healthz").status_code == 200
        stop_server(process)
        lines = log.read_text().splitlines()
    finally:
        stop_server(process)
    assert not [line for line in lines if "DEBUG" in line]
    assert not [line for line in lines if "/assets/" in line or "/healthz" in line or "/gradio_api/" in line
                or '" 200' in line]
    assert sum("answer: a question of" in line for line in lines) == 20, lines
    assert sum(line.startswith("INFO:     upload of 1 file: 1 added") for line in lines) == 5, lines
    assert len(lines) < 45, lines  # and little else: the start, the URL, the stop
