"""The wording of what an answer says besides its extracts, in one place: why it abstains, what
its notes and warnings say, and how the chat and the OpenAI replies label it. The engine and
the answerers build messages from these; the faces render them and never reword them."""
from __future__ import annotations

ABSTENTION_HEAD = "The corpus does not say."  # how every abstention for want of an answer starts
CLOSEST_BELOW = "listed below"  # where the closest passages are, in an ask result
ABSTENTION = (f"{ABSTENTION_HEAD} No passage answers this question closely enough; "
              f"the closest passages are {CLOSEST_BELOW}.")
NOTHING_ASKED = ("That does not look like a question about the articles (no question word, and none of its "
                 "words is in the corpus): ask about a person, a place or an event they report.")
CLOSEST_IN_CHAT = "under Retrieved passages"  # ... and in the chat, which shows them in their own panel
UNDERSTOOD = "Understood as: "  # a rewritten follow-up's first line
SOURCES = "\n\nSources:\n"  # where a plain-text reply's source list starts


def missing_kind(wanted: str) -> str:
    """An abstention for want of the asked-for kind ("date", "number", "person"): what was looked for."""
    return (f"No {wanted} for this in the corpus: the passages about it never state one. "
            f"The closest passages are {CLOSEST_BELOW}.")


def only_filtered(described: str) -> str:
    """Appended to an abstention under filters: the answer may be in what they leave out."""
    return f" Only documents matching the filters were searched ({described})."


def outside_window(start: str, end: str, words: str, dates: list[str]) -> str:
    """No cited report is dated in the window the question's time words point to."""
    when = f"from reports of {', '.join(dates)}" if dates else "from undated reports"
    return f"Nothing dated {start} to {end} (“{words}”) answers this; answered {when}."


def citation_dropped(n: int, doc_id: str) -> str:
    return f"citation [{n}] dropped: its quote is not in {doc_id}"


def llm_failed(reason: str) -> str:
    return f"{reason}; answered extractively"


LLM_UNSUPPORTED = "no sentence of the LLM's answer was supported by an extract; answered extractively"


def llm_sentence_dropped(sentence: str) -> str:
    return f"dropped an unsupported sentence: {sentence!r}"


def in_chat(abstention: str) -> str:
    """An abstention as the chat shows it, its passages in their own panel."""
    return abstention.replace(CLOSEST_BELOW, CLOSEST_IN_CHAT)
