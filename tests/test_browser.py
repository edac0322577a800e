"""A person in a browser: ask, see [n] markers, open a citation, see the quote highlighted."""
import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"


@pytest.fixture(scope="module")
def page(live_server):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(live_server + "/")
        page.wait_for_selector("#question textarea", timeout=60_000)  # never "networkidle" offline
        yield page
        browser.close()


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
    assert "germo-phobe" in page.inner_text("#quote-result mark")
