"""Follow-up questions made self-contained with the names of the earlier turns."""
from __future__ import annotations

import re

from qa.types import Turn

_PRONOUNS = {"he", "him", "his", "she", "her", "hers", "they", "them", "their", "it", "its",
             "there", "that", "this", "those", "these"}
_PERSONAL = {"he": "{}", "him": "{}", "she": "{}", "his": "{}'s", "hers": "{}'s"}
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
    """The question as it would be asked without the conversation."""
    earlier = [t.content for t in reversed(history) if t.role == "user" and t.content.strip()]
    if not earlier or not is_follow_up(question):
        return question
    context = next((names(text) for text in earlier if names(text)), [])
    if not context:
        return f"{question} ({earlier[0]})"
    if len(context) == 1:
        resolved = _replace_personal(question, context[0])
        if resolved != question:
            return resolved
    return f"{question} ({', '.join(context[:3])})"


def _replace_personal(question: str, name: str) -> str:
    def swap(match: re.Match) -> str:
        return _PERSONAL[match.group(0).lower()].format(name)

    return re.sub(r"\b(he|him|she|his|hers)\b", swap, question, flags=re.I)
