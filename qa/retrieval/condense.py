"""Follow-up questions made self-contained with the names of the earlier turns."""
from __future__ import annotations

import re

from qa.types import Turn

_PRONOUNS = {"he", "him", "his", "she", "her", "hers", "they", "them", "their", "it", "its",
             "there", "that", "this", "those", "these"}
_PERSONAL = {"he": "{}", "him": "{}", "she": "{}", "his": "{}'s", "hers": "{}'s"}  # "her": see _replace_personal
_FOLLOW_UP_START = re.compile(r"^\s*(and|also|what about|how about|why not|then)\b", re.I)
_NAME = re.compile(r"\b([A-Z][\w’'\-]*(?:\s+(?:[A-Z][\w’'\-]*|of|de|al|bin|e)\b)*)")
_NOT_NAMES = {"who", "what", "why", "when", "where", "which", "how", "is", "was", "did", "does",
              "do", "the", "a", "an", "in", "i", "and", "tell", "can", "could", "would", "should",
              "are", "were", "has", "have", "after", "before", "according"}


def names(text: str) -> list[str]:
    """Capitalized names in order of appearance (question words and possessives stripped)."""
    found: list[str] = []
    for match in _NAME.finditer(text):
        words = match.group(1).split()
        while words and words[0].lower() in _NOT_NAMES:
            words = words[1:]
        name = re.sub(r"[’']s$", "", " ".join(words)).strip()
        if name and name not in found:
            found.append(name)
    return found


def is_follow_up(question: str) -> bool:
    words = re.findall(r"[\w’']+", question.lower())
    return bool(_FOLLOW_UP_START.match(question)) or any(w in _PRONOUNS for w in words) or len(words) <= 3


def condense(question: str, history: list[Turn]) -> str:
    """The question as it would be asked without the conversation.

    A pronoun is replaced when one referent is clear: the name a "who is X" question was about,
    the one new full name in the answer to a "who ..." question (the person it answered with), or
    the only name in play. Otherwise the names in play are added as context, the earlier
    answer's new names first (a follow-up is as often about the answer as about the question)."""
    earlier = [t.content for t in reversed(history) if t.role == "user" and t.content.strip()]
    if not earlier or not is_follow_up(question):
        return question
    answer = next((t.text for t in reversed(history) if t.role == "assistant"), "")
    referent = _referent(earlier[0], answer)
    if referent:
        resolved = _replace_personal(question, referent)
        if resolved != question:
            return resolved
    context = _names_in_play(earlier, answer)
    if not context:
        return f"{question} ({earlier[0]})"
    if len(context) == 1:
        resolved = _replace_personal(question, context[0])
        if resolved != question:
            return resolved
    return f"{question} ({', '.join(context[:6])})"


def _answer_names(previous_question: str, answer: str) -> list[str]:
    """Full names the answer brought in (its first extract; not ones the question already had)."""
    first = answer.split("[1]")[0] if "[1]" in answer else answer
    first = re.sub(r"^According to [^:]*: ", "", first)
    asked = {w.lower() for n in names(previous_question) for w in n.split()}
    return [n for n in names(first) if " " in n and not any(w.lower() in asked for w in n.split())]


def _referent(previous_question: str, answer: str) -> str | None:
    asked = names(previous_question)
    if re.match(r"\s*(who|what) (is|was|are|were)\b", previous_question, re.I) and len(asked) == 1:
        return asked[0]  # "Who is X?" then "Where did he ...": X
    if re.match(r"\s*(who|whom)\b", previous_question, re.I):
        new = _answer_names(previous_question, answer)
        return new[0] if len(new) == 1 else None  # "Who received it?" answered with one person
    return None


def _names_in_play(earlier: list[str], answer: str) -> list[str]:
    from_question = next((names(text) for text in earlier if names(text)), [])
    found = _answer_names(earlier[0], answer) + from_question
    return list(dict.fromkeys(found))


def _replace_personal(question: str, name: str) -> str:
    def swap(match: re.Match) -> str:
        word = match.group(1).lower()
        if word == "her":  # "her role" is possessive; "ask her" / "her?" is not
            return f"{name}'s " if match.group(2) else name
        return _PERSONAL[word].format(name) + (match.group(2) or "")

    return re.sub(r"\b(he|him|she|his|hers|her)\b(\s+(?=\w))?", swap, question, flags=re.I)
