"""Where an answer's time goes: CPU and wall milliseconds per pipeline stage, collected only
inside `measuring()` (bench/stages.py); everywhere else `stage()` costs one context lookup.

CPU time is the process's (time.process_time), so it counts the ONNX and thread-pool threads a
stage starts, and is meaningful only when one question runs at a time. A stage's time excludes
the stages nested inside it (the rerank inside a search is the rerank's, not the search's).
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class StageClock:
    cpu_ms: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    wall_ms: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    _nested: list[list[float]] = field(default_factory=list)  # per open stage: [child cpu, child wall]


_clock: ContextVar[StageClock | None] = ContextVar("qa_stage_clock", default=None)


@contextmanager
def measuring() -> Iterator[StageClock]:
    """Collects the stages run inside the block (in this thread or context) into one clock."""
    clock = StageClock()
    token = _clock.set(clock)
    try:
        yield clock
    finally:
        _clock.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    clock = _clock.get()
    if clock is None:
        yield
        return
    cpu, wall = time.process_time(), time.perf_counter()
    clock._nested.append([0.0, 0.0])
    try:
        yield
    finally:
        child_cpu, child_wall = clock._nested.pop()
        spent_cpu, spent_wall = (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000
        clock.cpu_ms[name] += spent_cpu - child_cpu
        clock.wall_ms[name] += spent_wall - child_wall
        if clock._nested:
            clock._nested[-1][0] += spent_cpu
            clock._nested[-1][1] += spent_wall
