"""As of a date: time words resolved against `as_of`, recent reports first, one story told once,
accounts of a story in time order; `as_of` and the folded stories in every face."""
from __future__ import annotations

import asyncio
import html
import json
from datetime import date
from pathlib import Path

import pytest

from qa.engine import Engine
from qa.errors import InputError
from qa.settings import Settings
from qa.text.timewords import read_time

AS_OF = date(2026, 1, 7)  # a Wednesday

# every phrase the issue names, with the window it must resolve to as of AS_OF
PHRASES = [
    ("What happened this week?", "2026-01-01", "2026-01-07"),
    ("What happened last week?", "2025-12-25", "2025-12-31"),
    ("What did the minister say yesterday?", "2026-01-06", "2026-01-06"),
    ("What did the minister say today?", "2026-01-07", "2026-01-07"),
    ("What happened this month?", "2026-01-01", "2026-01-07"),
    ("Who won the election in March?", "2025-03-01", "2025-03-31"),
    ("Who was elected in 2021?", "2021-01-01", "2021-12-31"),
    ("What did the president say on February 5?", "2025-02-05", "2025-02-05"),
    ("How many people have died since Monday?", "2026-01-05", "2026-01-07"),
    ("What has the council decided recently?", "2025-12-08", "2026-01-07"),
    ("Who is the latest minister to resign?", "2025-12-08", "2026-01-07"),
    ("Who is the current mayor?", "2025-12-08", "2026-01-07"),
    ("Where is the ship now?", "2025-12-08", "2026-01-07"),
    ("Which team won last weekend?", "2026-01-03", "2026-01-04"),
    ("What happened over the past two weeks?", "2025-12-25", "2026-01-07"),
]


@pytest.mark.parametrize("question,start,end", PHRASES)
def test_each_time_phrase_resolves_to_its_window(question, start, end):
    window = read_time(question, AS_OF).window
    assert window is not None and (window.start.isoformat(), window.end.isoformat()) == (start, end)
    assert window.words.lower() in question.lower()


@pytest.mark.parametrize("question", [
    "Who is the president of France?", "Which 24-year-old striker scored twice?",
    "The strike lasted 10 years: why?", "Who froze for 30 seconds at the podium?", "Which 90s band reunited?",
    "Theresa May met whom in Brussels?"])
def test_ages_durations_names_and_untimed_questions_have_no_window(question):
    assert read_time(question, AS_OF).window is None


def test_past_windows_get_no_recency_and_future_ones_weigh_nothing():
    from qa.retrieval.timeprior import TimePrior

    assert not read_time("Who was elected in 2021?", AS_OF).present
    assert read_time("Who is the president of France?", AS_OF).present
    future = TimePrior.from_settings(read_time("Who will lead the party next year?", AS_OF), Settings().retrieval)
    assert future.reading.window is not None and future.window is None  # shown, but reports are dated now


# -- a small dated corpus: two dated reports of one topic, a wire story carried twice --------------

WIRE = ("A winter storm closed every ferry route on Tuesday. The coast guard said the storm would pass by "
        "Thursday and crews stood ready along the whole coast. Ferry operators said passengers would be rebooked "
        "without charge. Schools on the islands stayed open, and the grocer on the quay said deliveries of milk "
        "and bread had come in on Monday before the wind rose. Fishermen hauled their boats above the tide line "
        "and tied down the nets, while the harbour office posted hourly notices of the wind speed at the pier. "
        "The weather service expected gusts of up to 120 kilometres an hour overnight, with heavy rain on the "
        "western cliffs and snow on the higher ground inland.")

ARTICLES = {
    "old-report": ("Harbour council report", "Harbour Times", "2025-06-02",
                   "The harbour council chose Mara Lind as harbour master. Lind promised new cranes for the port."),
    "new-report": ("Harbour council report", "Harbour Times", "2026-01-05",
                   "The harbour council chose Piet Oster as harbour master. Oster promised to dredge the channel."),
    "wire-a": ("Storm closes ferries", "Coast Wire", "2026-01-02", WIRE + " The routes reopen later in the week."),
    "wire-b": ("Storm closes ferries", "Island Post", "2026-01-03", WIRE + " The routes reopen on Friday."),
}


def _write(folder: Path, articles: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, (title, outlet, day, text) in articles.items():
        (folder / f"{doc_id}.txt").write_text(f"Title: {title}\nOutlet: {outlet}\nDate: {day}\n\n{text}\n")
    return folder


@pytest.fixture
def dated(hash_env, tmp_path) -> tuple[Engine, Path]:
    corpus = _write(tmp_path / "dated", ARTICLES)
    engine = Engine(Settings())
    report = engine.ingest([corpus])
    assert report.duplicates == [("wire-b", "wire-a")]  # the second copy, found at ingest
    return engine, corpus


def test_a_window_prefers_reports_dated_in_it_and_says_when_none_is(dated):
    engine, _ = dated
    this_week = engine.ask("Who did the harbour council choose as harbour master this week?", as_of="2026-01-07")
    assert this_week.time == {"from": "2026-01-01", "to": "2026-01-07", "from_words": "this week"}
    assert this_week.citations[0].doc_id == "new-report" and this_week.as_of == "2026-01-07"
    back_then = engine.ask("Who did the harbour council choose as harbour master this week?", as_of="2025-06-04")
    assert back_then.citations[0].doc_id == "old-report"
    # a window nothing in the corpus is dated in: answered from outside it, with its dates said
    empty = engine.ask("Who did the harbour council choose as harbour master in 2019?", as_of="2026-01-07")
    assert not empty.abstained and any("Nothing dated 2019-01-01 to 2019-12-31" in w and "2026-01-05" in w
                                       for w in empty.warnings)


def test_recency_without_time_words_follows_as_of(dated):
    """A present-tense question about how things stand (issue 44: recency from the question)."""
    engine, _ = dated
    question = "Who is the harbour master the harbour council chose?"
    assert engine.ask(question, as_of="2026-01-06").citations[0].doc_id == "new-report"
    assert engine.ask(question, as_of="2025-06-03").citations[0].doc_id == "old-report"


def test_a_past_tense_question_gets_no_recency_from_the_folder(hash_env, tmp_path):
    """The folder holds this month's news, so "now" is today; "Who did the council choose?" is
    about an event, not about now: its answer is that of recency off. "Who is ...?" is about now:
    the recent report first (issue 44: recency from the question, not from the folder)."""
    from datetime import timedelta

    recent = (date.today() - timedelta(days=3)).isoformat()
    old, new = ARTICLES["old-report"], ARTICLES["new-report"]
    folder = _write(tmp_path / "recent", {"old-report": (old[0], old[1], "2021-02-26", old[3]),
                                          "new-report": (new[0], new[1], recent, new[3])})
    engine = Engine(Settings())
    engine.ingest([folder])
    plain = Engine(engine.settings.updated(recency_weight=0.0))
    past = "Who did the harbour council choose as harbour master?"
    assert engine.ask(past).to_json() == plain.ask(past).to_json()
    assert engine.ask("Who is the harbour master the harbour council chose?").citations[0].doc_id == "new-report"


def test_an_archive_asked_without_a_date_gets_no_recency(dated):
    """Nothing says when "now" is (no as_of, and the newest report is months old): older reports
    keep their scores, as with recency off; given a date, they fade with age before it."""
    engine, _ = dated
    if (date.today() - date(2026, 1, 5)).days <= 30:
        pytest.skip("the corpus is recent today: as_of defaults to today and recency applies")
    query = "harbour council harbour master"
    undated = {h.doc_id: h.score for h in engine.find(query, 4).hits}
    plain = Engine(engine.settings.updated(recency_weight=0.0))
    assert undated == {h.doc_id: h.score for h in plain.find(query, 4).hits}
    dated_scores = {h.doc_id: h.score for h in engine.find(query, 4, as_of="2026-01-05").hits}
    assert dated_scores["old-report"] < undated["old-report"]


def test_default_as_of_is_the_newest_document_of_an_old_corpus(dated):
    engine, _ = dated
    assert engine.as_of().isoformat() == ("2026-01-05" if (date.today() - date(2026, 1, 5)).days > 30
                                          else date.today().isoformat())
    with pytest.raises(Exception, match="YYYY-MM-DD"):
        engine.ask("Who is harbour master?", as_of="next tuesday")


def test_one_story_is_one_hit_and_folded_citations_verify(dated):
    engine, _ = dated
    results = engine.find("winter storm ferry routes coast guard", k=5, as_of="2026-01-07")
    storm = [h for h in results.hits if h.doc_id in ("wire-a", "wire-b")]
    copy_id = "wire-b" if storm and storm[0].doc_id == "wire-a" else "wire-a"
    assert len(storm) == 1 and [r.doc_id for r in storm[0].also_reported_by] == [copy_id]
    answer = engine.ask("What did the coast guard say about the storm?", as_of="2026-01-07")
    folded = [c for c in answer.citations if c.also_reported_by]
    assert folded and len({c.doc_id for c in answer.citations} & {"wire-a", "wire-b"}) == 1
    for citation in folded:  # each copy named holds the quote: it verifies against that copy too
        for other in citation.also_reported_by:
            swapped = {**citation.to_json(), "doc_id": other.doc_id}
            swapped["start"] = engine.library.document(other.doc_id).text.index(citation.quote)
            swapped["end"] = swapped["start"] + len(citation.quote)
            assert engine.verifier.verify({"citations": [swapped]})[0]


def test_copies_that_differ_stand_side_by_side_in_date_order(dated):
    engine, _ = dated
    answer = engine.ask("When will the ferry routes reopen?", as_of="2026-01-07")
    cited = [c.doc_id for c in answer.citations]
    # the two copies disagree on when: both accounts stay, the older first, each dated
    assert {"wire-a", "wire-b"} <= set(cited) and cited.index("wire-a") < cited.index("wire-b")
    text = answer.answer
    assert text.index("On 2 Jan 2026, Coast Wire reported") < text.index("On 3 Jan 2026, Island Post reported")
    # a sentence both copies hold is cited once, naming the other copy
    shared = [c for c in answer.citations if c.quote in ARTICLES["wire-a"][3] and c.quote in ARTICLES["wire-b"][3]]
    assert all(c.also_reported_by for c in shared)


def test_an_upload_that_copies_a_stored_document_says_so(dated):
    engine, _ = dated
    copy = ARTICLES["wire-a"]
    text = f"Title: {copy[0]}\nOutlet: Other Paper\nDate: 2026-01-06\n\n{copy[3]}\n"
    report = engine.library.upload([("reprint.txt", text.encode())])
    assert len(report.duplicates) == 1 and report.duplicates[0][0] == "reprint"
    assert report.to_json()["duplicates"][0]["copy_of"] in ("wire-a", "wire-b")  # the same story either way
    notes = engine.library.upload([("notes.txt", b"Title: Notes\n\nThe quay needs a new coat of paint.")])
    assert notes.duplicates == []


# -- as_of in every face ---------------------------------------------------------------------------

def test_as_of_round_trips_in_the_cli(dated, cli, tmp_path):
    search = cli("search", "storm ferry", "--json", "--as-of", "2026-01-04")
    assert search.code == 0 and search.json()["as_of"] == "2026-01-04"
    ask = cli("ask", "Who is harbour master this week?", "--json", "--as-of", "2026-01-06")
    assert ask.code == 0 and ask.json()["as_of"] == "2026-01-06" and ask.json()["time"]["from_words"] == "this week"
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({"question": "Who is harbour master?", "as_of": "2025-06-03"}) + "\n"
                     + json.dumps({"question": "Who is harbour master?"}) + "\n")
    lines = cli("ask", "--batch", batch, "--as-of", "2026-01-06").json_lines()
    assert [line["as_of"] for line in lines] == ["2025-06-03", "2026-01-06"]
    bad = cli("ask", "Who is harbour master?", "--as-of", "yesterday")
    assert bad.code != 0 and "YYYY-MM-DD" in bad.err and len(bad.err.strip().splitlines()) == 1


def test_as_of_round_trips_in_rest_mcp_and_openai(dated):
    from fastapi.testclient import TestClient

    from qa.faces.mcp import build_mcp
    from qa.faces.server import build_app

    engine, _ = dated
    with TestClient(build_app(engine.settings, engine)) as client:
        assert client.get("/api/search", params={"q": "storm", "as_of": "2026-01-04"}).json()["as_of"] == "2026-01-04"
        posted = client.post("/api/search", json={"q": "storm", "as_of": "2026-01-05"}).json()
        assert posted["as_of"] == "2026-01-05" and all("also_reported_by" in r for r in posted["results"])
        asked = client.post("/api/ask", json={"question": "Who is harbour master this week?",
                                              "as_of": "2026-01-06"}).json()
        assert asked["as_of"] == "2026-01-06" and asked["time"] == {"from": "2025-12-31", "to": "2026-01-06",
                                                                     "from_words": "this week"}
        assert client.post("/api/ask", json={"question": "Who?", "as_of": "06/01/2026"}).status_code == 422
        chat = client.post("/v1/chat/completions", json={"model": "corpus-qa", "as_of": "2026-01-06", "messages": [
            {"role": "user", "content": "Who is harbour master this week?"}]}).json()
        assert chat["corpus_qa"]["as_of"] == "2026-01-06" and "as_of" not in chat["ignored_options"]
        assert "read as 2025-12-31 to 2026-01-06" in chat["choices"][0]["message"]["content"]
    server = build_mcp(engine)
    tool = asyncio.run(server.call_tool("ask", {"question": "Who is harbour master?", "as_of": "2025-06-03"}))
    assert json.loads(tool.content[0].text)["as_of"] == "2025-06-03"
    tool = asyncio.run(server.call_tool("search", {"query": "storm", "as_of": "2026-01-04"}))
    assert json.loads(tool.content[0].text)["as_of"] == "2026-01-04"


def test_the_window_never_widens_the_users_own_date_filter(dated):
    from qa.types import Filters

    engine, _ = dated
    later = Filters(date_from="2030-01-01")
    assert engine.find("storm ferries this week", filters=later, as_of="2026-01-07").hits == []
    kept = engine.find("harbour master this week", filters=Filters(date_to="2025-12-31"), as_of="2026-01-07").hits
    assert {h.doc_id for h in kept} == {"old-report"}


CALENDAR_ENDS = ("9999-12-31", "0001-01-01")


def _date_line(name: str, value: str) -> str:
    return f"{name} must be a date as YYYY-MM-DD from 0100-01-01 to 9899-12-31, not {value!r}"


@pytest.mark.parametrize("day", CALENDAR_ENDS)
def test_a_date_at_the_calendars_end_is_the_same_one_line_422_in_every_face(dated, cli, day):
    from fastapi.testclient import TestClient
    from mcp.server.mcpserver.exceptions import ToolError

    from qa.faces.mcp import build_mcp
    from qa.faces.server import build_app
    from qa.faces.ui import Handlers

    engine, _ = dated
    line = _date_line("as_of", day)
    with TestClient(build_app(engine.settings, engine)) as client:
        replies = [client.get("/api/search", params={"q": "storm", "as_of": day}),
                   client.post("/api/search", json={"q": "storm", "as_of": day}),
                   client.post("/api/ask", json={"question": "Who is harbour master?", "as_of": day}),
                   client.post("/api/ask", json={"question": "Who is harbour master?", "as_of": day, "stream": True})]
        assert [(r.status_code, r.json()["detail"]) for r in replies] == [(422, line)] * 4
        for stream in (False, True):
            chat = client.post("/v1/chat/completions", json={"model": "corpus-qa", "as_of": day, "stream": stream,
                                                             "messages": [{"role": "user", "content": "Who?"}]})
            assert (chat.status_code, chat.json()["error"]["message"]) == (422, line)
        bounded = client.post("/api/search", json={"q": "storm", "filters": {"date_to": day}})
        assert (bounded.status_code, bounded.json()["detail"]) == (422, _date_line("date_to", day))
    with pytest.raises(ToolError) as tool:  # the client reads it as an error result with this text
        asyncio.run(build_mcp(engine).call_tool("search", {"query": "storm", "as_of": day}))
    assert str(tool.value) == f"Error executing tool search: {line}"
    *_, last = Handlers(engine).respond("Who is harbour master?", [], [], as_of=day)
    assert html.unescape(last[0][-1]["content"]) == f"⚠ {line}"
    result = cli("search", "storm", "--as-of", day)
    assert result.code != 0 and result.err.strip() == f"error: {line}"


def test_time_words_at_the_calendars_ends_are_read_not_a_crash(dated):
    engine, _ = dated
    for question in ("What happened 2020-9999?", "What happened in the past 5000 years?", "Storms 0000-2020?"):
        assert engine.find(question, as_of="2026-01-07").as_of == "2026-01-07"
    for day in ("0100-01-01", "9899-12-31"):  # the range's own ends work
        assert engine.ask("Who is harbour master this week?", as_of=day).as_of == day


def test_a_huge_bad_date_is_echoed_in_at_most_200_characters(dated):
    engine, _ = dated
    with pytest.raises(InputError) as refused:
        engine.find("storm", as_of="2" * 1_500_000)
    assert len(str(refused.value)) < 300 and str(refused.value).endswith("…")


def test_an_undated_copy_never_gains_over_the_dated_one_under_recency(hash_env, tmp_path):
    """One article twice, dated 2021 and undated, among this month's news: asked about how things
    stand (recency on), the dated copy is cited; the undated one is weighed as the oldest, never
    as new (issue 44: undated documents used to keep their whole score under recency)."""
    story = ARTICLES["old-report"]
    folder = _write(tmp_path / "mixed", {
        "dated-copy": (story[0], story[1], "2021-02-26", story[3]),
        **{k: v for k, v in ARTICLES.items() if k.startswith("wire") or k == "new-report"}})
    (folder / "undated-copy.txt").write_text(f"Title: {story[0]}\n\n{story[3]}\n")
    engine = Engine(Settings())
    engine.ingest([folder])
    question = "Who is Mara Lind?"
    answer = engine.ask(question, as_of="2026-01-07")
    assert not answer.abstained and answer.citations[0].doc_id == "dated-copy"
    # searched for: under recency the undated copy never gains on the dated one (recency off: the same texts)
    query = "Mara Lind harbour master cranes"
    timed = {h.doc_id: h.score for h in engine.find(query, 5, as_of="2026-01-07").hits}
    plain = {h.doc_id: h.score for h in Engine(engine.settings.updated(recency_weight=0.0)).find(
        query, 5, as_of="2026-01-07").hits}
    assert timed["undated-copy"] / timed["dated-copy"] <= plain["undated-copy"] / plain["dated-copy"]


@pytest.mark.parametrize("question,present", [
    ("Why didn't Putin meet Qalibaf?", False), ("Who did he meet instead?", False),
    ("Who won the election?", False), ("Who is the mayor of Paris?", True),
    ("How many people have died in the floods?", True), ("Where is the ship?", True),
    ("What will the council decide?", True)])
def test_the_tense_says_whether_a_question_is_about_the_present(question, present):
    assert read_time(question, AS_OF).present is present


def test_relative_time_words_do_not_move_an_archive_whose_now_is_a_guess(dated):
    """No as_of and nothing from the last 30 days: "this week" is read against the newest report's
    date, a guess, so it weighs nothing and the answer says which date would place it; a date with
    its year ("in June 2025") still weighs (issue 44)."""
    engine, _ = dated
    if (date.today() - date(2026, 1, 5)).days <= 30:
        pytest.skip("the corpus is recent today: now is known")
    query = "Who did the harbour council choose as harbour master this week?"
    plain = Engine(engine.settings.updated(time_window_weight=1.0, recency_weight=0.0))
    assert [(h.doc_id, h.score) for h in engine.find(query, 4).hits] == \
        [(h.doc_id, h.score) for h in plain.find(query, 4).hits]
    answer = engine.ask(query)
    assert answer.as_of == "2026-01-05" and answer.time["from_words"] == "this week"
    assert any("“this week” was not placed in time" in w and "2026-01-05" in w for w in answer.warnings)
    placed = engine.ask("Who did the harbour council choose as harbour master in June 2025?")
    assert placed.citations[0].doc_id == "old-report" and not any("not placed" in w for w in placed.warnings)


MONDAY = date(2026, 1, 5)


@pytest.mark.parametrize("question,start,end", [
    ("What happened on Monday?", "2026-01-05", "2026-01-05"),  # asked on a Monday: today
    ("What happened last Monday?", "2025-12-29", "2025-12-29"),
    ("What happened on Sunday?", "2026-01-04", "2026-01-04"),
    ("What did the minister say on Wednesday?", "2025-12-31", "2025-12-31"),
    ("How many people have died since Monday?", "2025-12-29", "2026-01-05"),
])
def test_weekdays_read_the_way_people_mean_them(question, start, end):
    window = read_time(question, MONDAY).window
    assert window is not None and (window.start.isoformat(), window.end.isoformat()) == (start, end)


def test_the_as_of_line_says_which_monday_was_read(dated):
    engine, _ = dated
    answer = engine.ask("What did the harbour council decide on Monday?", as_of="2026-01-05")
    assert answer.time == {"from": "2026-01-05", "to": "2026-01-05", "from_words": "Monday"}
    from qa.faces.render import time_line

    assert time_line(answer.as_of, answer.time) == "As of 2026-01-05 · read as 2026-01-05 (“Monday”)"
