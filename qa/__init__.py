"""corpus QA: question answering over a corpus of articles with checkable cited extracts."""

__version__ = "0.1.0"
