"""The wording of what an answer says besides its extracts, in one place: why it abstains, what
its notes and warnings say, and how the chat and the OpenAI replies label it. The engine and
the answerers build messages from these; the faces render them and never reword them."""
from __future__ import annotations

import re

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


def not_placed(words: str, guessed: str) -> str:
    """Relative time words asked of a corpus whose "now" is only a guess (no as_of given, no document
    of the last 30 days): they did not move ranking."""
    return (f"“{words}” was not placed in time: nothing says when now is (no as-of date, no document of the "
            f"last 30 days), so it did not weigh the ranking; ask as of a date to place it (e.g. {guessed}, "
            f"the newest document's date)")


def nothing_in_window(start: str, end: str, words: str, topic: str | None, nearest: list[str]) -> str:
    """A digest ("What happened this week?") of a window no document is dated in: the nearest dated ones."""
    span = start if start == end else f"{start} to {end}"
    about = f" about “{topic}”" if topic else ""
    text = f"{ABSTENTION_HEAD} Nothing in it{about} is dated {span} (“{words}”)."
    if nearest:
        return text + " The nearest dated documents: " + "; ".join(nearest) + "."
    return text + " None of its documents has a date."


def citation_dropped(n: int, doc_id: str) -> str:
    return f"citation [{n}] dropped: its quote is not in {doc_id}"


def read_with(previous: str) -> str:
    """An unresolved follow-up: what its answer was read with, since nothing in it was replaced."""
    return f"read with the previous question: {previous}"


READ_ALONE = "read from the question alone: no earlier question says what it points back to"


def llm_failed(reason: str) -> str:
    return f"{reason}; answered extractively"


LLM_UNSUPPORTED = "no sentence of the LLM's answer was supported by an extract; answered extractively"


def llm_sentence_dropped(sentence: str) -> str:
    return f"dropped an unsupported sentence: {sentence!r}"


def in_chat(abstention: str) -> str:
    """An abstention as the chat shows it, its passages in their own panel."""
    return abstention.replace(CLOSEST_BELOW, CLOSEST_IN_CHAT)


INTERNAL_ERROR = "internal error; see the server log"  # what a client is told of a failure it did not cause
CROSS_ORIGIN = ("refused: a request from another origin that signs in with the session cookie "
                "(send Authorization: Bearer <key> instead)")


def too_many_tries(seconds: int) -> str:
    """Wrong keys from one client address past the limit (a 429 with Retry-After)."""
    return f"too many wrong API keys from this address; try again in {seconds} s"


ECHO_LIMIT = 200  # characters of a bad value an error message repeats back


def echo(value) -> str:
    """A value a user gave, as an error message repeats it: its repr, at most ECHO_LIMIT characters."""
    shown = repr(value)
    return shown if len(shown) <= ECHO_LIMIT else shown[:ECHO_LIMIT - 1] + "…"


def bad_date(name: str, first: str, last: str, value) -> str:
    """A date a user gave that is not one, or is outside the days the time code can reach."""
    return f"{name} must be a date as YYYY-MM-DD from {first} to {last}, not {echo(value)}"


def control_character(what: str, value: str) -> str:
    """A path, id or name that holds NUL or another control character (refused, never used)."""
    return f"{what} holds a control character (NUL, a line break or the like): {echo(value)}"


# an absolute path of two parts or more, not inside a URL or a relative path
_SERVER_PATH = re.compile(r"(?<![\w.~:/-])(?:/[^\s'\"/]+){2,}/?")


def for_client(message: str) -> str:
    """A message as a client is shown it: every server path shortened to its last part (clients
    know documents by id and file name, never where the server keeps them)."""
    return _SERVER_PATH.sub(_last_part, message)


def _last_part(match: re.Match) -> str:
    path = match.group(0)
    return path.rstrip("/").rsplit("/", 1)[-1] + ("/" if path.endswith("/") else "")
