"""Site furniture that pages carry around an article ("Exit mobile version", "Skip to content",
share and subscribe lines, cookie notices): short lines that are about the website, not the news.
They stay in a document's text (citations point into the text as it was read) but are never
chunked, embedded, indexed or cited. Only a whole short line is furniture: a sentence that
merely mentions cookies or subscribers is news."""
from __future__ import annotations

import re

MAX_WORDS = 12  # furniture is a label, not a sentence
_FURNITURE = re.compile(
    r"""^\W*(?:
        exit\ mobile\ version | skip\ to\ (?:main\ )?content | (?:jump|go)\ to\ (?:navigation|content|main\ content)
      | toggle\ (?:navigation|menu) | (?:open|close)\ (?:menu|navigation|search) | menu | search | navigation
      | share\ (?:this|on|via|the\ article|this\ article|this\ story)\b.* | share | tweet | email | print
      | (?:subscribe|sign\ up)\b.*(?:newsletter|subscribe|updates|inbox|free)?.* | subscribe
      | (?:we|this\ (?:site|website))\ uses?\ cookies\b.* | accept\ (?:all\ )?cookies
      | cookie\ (?:policy|settings|preferences)
      | (?:advertisement|advertising|sponsored(?:\ content)?)
      | (?:read|see)\ (?:more|also|next)(?:\ (?:here|below|coverage|stories))?
      | related\ (?:articles|stories|posts|coverage|content)\b.* | (?:most\ )?(?:popular|trending)(?:\ now|\ stories)?
      | follow\ us\ on\b.* | click\ here\ to\ (?:read|see|learn|subscribe|sign|download|watch)\b.*
      | (?:all\ rights\ reserved|copyright\ ©?|©)\b.*
      | (?:back\ to\ top|scroll\ to\ top) | leave\ a\ (?:comment|reply) | (?:\d+\ )?comments?
      | (?:previous|next)\ (?:article|post|story)\b.*
    )\W*$""", re.I | re.X)


def is_furniture(line: str) -> bool:
    """A line of the website around the article, not of the article."""
    stripped = line.strip()
    if not stripped or len(stripped.split()) > MAX_WORDS:
        return False
    return stripped.startswith("©") or bool(_FURNITURE.match(stripped))
