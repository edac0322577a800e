"""Two lanes for the engine's work, so that a cheap request never waits behind an expensive one.

Answers (ask, chat completions, MCP ask, streamed or not) run at most one per core at a time:
more of them at once only fight for the same cores. Up to ANSWER_QUEUE more wait for a turn
without holding a thread; beyond that an answer is refused at once with 503 and Retry-After.
Searches (search, verify, the document list) run in a lane of their own, so they never queue
behind answers; only a flood far beyond what any client sends (SEARCH_QUEUE waiting) is refused.

A lane waits on the event loop (anyio's CapacityLimiter), not in a thread: waiting answers cost
no threads, and the threads searches run in are never taken by answers."""
from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import cast

import anyio

from qa.errors import ServerBusyError

ANSWER_WORKERS = max(1, os.cpu_count() or 1)
ANSWER_QUEUE = 32
SEARCH_WORKERS = 8
SEARCH_QUEUE = 256


class Lane:
    def __init__(self, name: str, workers: int, queue: int):
        self.name, self.workers, self.queue = name, workers, queue
        self._limiters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # one per event loop

    def _limiter(self) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        return self._limiters.get(loop) or self._limiters.setdefault(loop, anyio.CapacityLimiter(self.workers))

    def admit(self) -> None:
        """ServerBusyError when as many requests wait in this lane as it lets wait."""
        if self._limiter().statistics().tasks_waiting >= self.queue:
            raise ServerBusyError(f"server busy ({self.name}); retry shortly")

    async def run(self, function, *args):
        """function(*args) in a worker thread of this lane, once a turn is free."""
        self.admit()
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter())

    async def stream(self, events: Iterator[str]) -> AsyncIterator[str]:
        """A streamed answer's events, in a turn of this lane like any other answer: it waits for
        a turn without a thread and holds it until its last event (admit() it before its response
        starts). Each event is taken from `events` in a thread, so the loop never blocks on it."""
        async with self._limiter():
            try:
                while (event := await anyio.to_thread.run_sync(next, events, _END)) is not _END:
                    yield cast(str, event)
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()


_END = object()  # what next() gives back when a stream's events are over


ANSWERS = Lane("answers", ANSWER_WORKERS, ANSWER_QUEUE)
SEARCHES = Lane("searches", SEARCH_WORKERS, SEARCH_QUEUE)
