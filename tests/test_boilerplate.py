"""Site furniture ("Exit mobile version", share and subscribe lines, cookie notices) stays in a
document's text, so offsets still point into the file as read, but is never indexed or cited."""
from __future__ import annotations

import pytest

from qa.ingest.chunking import Chunker
from qa.text.boilerplate import is_furniture

ARTICLE = ("Skip to content\nHarbour News\n\nShare this article\n\nThe Tindra ferry carries 340 passengers "
           "between Oskarvik and Selholmen every day. The service began in 1998.\n\nRead more\n\n"
           "We use cookies to improve your experience.\n\nThe mayor said the timetable will not change.\n\n"
           "Exit mobile version\n")


@pytest.mark.parametrize("line", ["Exit mobile version", "Skip to content", "Share this article", "Share on Facebook",
                                  "Subscribe to our newsletter", "We use cookies to improve your experience.",
                                  "Accept all cookies", "Advertisement", "Read more", "© 2024 Harbour News",
                                  "Related stories:", "Click here to read the full story."])
def test_site_furniture_is_recognised(line):
    assert is_furniture(line)


@pytest.mark.parametrize("line", ["The mayor said he would subscribe to the plan.", "Search teams found the hikers.",
                                  "The firm uses cookies to track users across hundreds of websites, regulators said.",
                                  "Read more: Ferry fares rise by 5 percent in May", "Share prices fell 3 percent."])
def test_news_that_mentions_such_words_is_not_furniture(line):
    assert not is_furniture(line)


def test_no_chunk_holds_a_furniture_line_and_offsets_still_point_into_the_text():
    chunks = Chunker(chunk_tokens=40, overlap_tokens=8).chunk("doc", ARTICLE)
    assert chunks and all(ARTICLE[c.start:c.end] == c.text for c in chunks)
    joined = " ".join(c.text for c in chunks)
    for furniture in ("Skip to content", "Share this article", "Read more", "We use cookies", "Exit mobile version"):
        assert furniture not in joined
    assert "340 passengers" in joined and "timetable will not change" in joined


def test_the_shipped_seeds_furniture_is_not_searchable(hash_env):
    from conftest import SEEDS
    from qa.engine import Engine
    from qa.settings import load_settings

    engine = Engine(load_settings())
    engine.ingest([SEEDS])
    assert all("Exit mobile version" not in h.text for h in engine.search("Exit mobile version", 20))
    assert "Exit mobile version" in engine.library.document("001_fef7cdd3c9f4f1a3").text  # the text itself is unchanged
