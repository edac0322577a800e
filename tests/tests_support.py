"""Texts shared by tests: sentences of the seed articles."""
from pathlib import Path

from qa.text.sentences import split_sentences

_SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _seed_sentences() -> list[str]:
    out = []
    for path in sorted(_SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out += [text[s.start:s.end] for s in split_sentences(text) if len(text[s.start:s.end].split()) >= 6]
    return out


SEED_TEXTS = _seed_sentences()
