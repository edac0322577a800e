"""Bounded extraction: every reader but plain text runs in a separate worker process with a memory
cap, and is killed when it takes too long, so a hostile file (a zip bomb, a PDF whose pages share
a huge content stream, a megabyte-long line of HTML) costs a bounded amount of time and memory and
never the server's own memory or its shutdown.

The worker is a plain `python -m qa.ingest.sandbox` subprocess speaking length-prefixed JSON over
its stdin/stdout (nothing is pickled). It is started on first use, kept for the next files, and
replaced after a kill. Workers are pooled so two uploads extract at once.
"""
from __future__ import annotations

import json
import os
import queue
import resource
import struct
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass

from qa.ingest.readers import Extracted, Limits, SkipFile, reader_for

_HEADER = struct.Struct(">Q")
POOL_SIZE = 2  # the machines this runs on have two cores
RECYCLE_BYTES = 300 << 20  # a worker that grew past this on a big file is replaced, not kept idle at that size


@dataclass(frozen=True)
class SandboxLimits:
    """What one extraction may cost; the readers check `limits`, the sandbox time and memory."""

    limits: Limits
    seconds: float
    memory_bytes: int


def bounds_from(settings) -> SandboxLimits:
    """The bounds a Settings object sets (QA_MAX_DOCUMENT_CHARS, QA_EXTRACT_SECONDS, ...)."""
    inflated = settings.ingest.max_inflated_mb << 20
    return SandboxLimits(Limits(settings.ingest.max_document_chars, settings.ingest.max_pdf_pages, inflated, inflated),
                         settings.ingest.extract_seconds, settings.ingest.extract_memory_mb << 20)


def extract(suffix: str, data: bytes, bounds: SandboxLimits) -> Extracted:
    """The file's text through its reader, within the bounds; SkipFile naming the limit if not."""
    reader = reader_for(suffix)
    if reader is None:
        raise SkipFile(f"unsupported file type {suffix!r}")
    if suffix.lower() == ".txt":  # decoding is linear and bounded by the file size limit
        return _checked(reader(data, bounds.limits), bounds.limits)
    return _checked(_pool(bounds.memory_bytes).run(suffix, data, bounds), bounds.limits)


def _checked(extracted: Extracted, limits: Limits) -> Extracted:
    if len(extracted.text) > limits.max_chars:
        raise SkipFile(f"over the extracted text limit ({len(extracted.text):,} characters; limit "
                       f"{limits.max_chars:,}, QA_MAX_DOCUMENT_CHARS)")
    return extracted


class _Worker:
    def __init__(self, memory_bytes: int):
        environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "qa.ingest.sandbox", str(memory_bytes)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        env=environment)

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, suffix: str, data: bytes, bounds: SandboxLimits) -> Extracted:
        request = json.dumps({"suffix": suffix, "limits": asdict(bounds.limits)}).encode()
        reply: list = []
        reading = threading.Thread(target=lambda: reply.append(self._exchange(request, data)), daemon=True)
        reading.start()
        reading.join(bounds.seconds)
        if reading.is_alive():
            self.kill()
            reading.join(5)
            raise SkipFile(f"extraction took longer than {bounds.seconds:g} s (QA_EXTRACT_SECONDS); refused")
        answer = reply[0] if reply else None
        if answer is None:  # the worker died: over its memory cap, or a crash inside a parser
            self.kill()
            raise SkipFile(f"extraction needed more than {bounds.memory_bytes >> 20:,} MB "
                           f"(QA_EXTRACT_MEMORY_MB) or crashed; refused")
        if answer.get("rss", 0) > RECYCLE_BYTES:
            self.kill()  # its heap stays at the big file's size: a fresh worker costs ~1 s on the next file
        if "skip" in answer:
            raise SkipFile(answer["skip"])
        return Extracted(answer["text"], answer["origin"], answer["meta"], tuple(answer["pages"]))

    def _exchange(self, request: bytes, data: bytes) -> dict | None:
        try:
            _send(self.process.stdin, request)
            _send(self.process.stdin, data)
            return json.loads(_receive(self.process.stdout))
        except (OSError, ValueError, EOFError):  # the worker died (memory cap) or was killed
            return None

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait()


class _Pool:
    """Idle workers; a call takes one (starting one if none is idle and the pool is not full)."""

    def __init__(self, memory_bytes: int):
        self.memory_bytes = memory_bytes
        self.idle: queue.Queue[_Worker] = queue.Queue()
        self.slots = threading.Semaphore(POOL_SIZE)

    def run(self, suffix: str, data: bytes, bounds: SandboxLimits) -> Extracted:
        with self.slots:
            worker = self._take()
            try:
                return worker.run(suffix, data, bounds)
            finally:
                if worker.alive():
                    self.idle.put(worker)

    def _take(self) -> _Worker:
        while True:
            try:
                worker = self.idle.get_nowait()
            except queue.Empty:
                return _Worker(self.memory_bytes)
            if worker.alive():
                return worker


_POOLS: dict[int, _Pool] = {}
_POOLS_LOCK = threading.Lock()


def _pool(memory_bytes: int) -> _Pool:
    with _POOLS_LOCK:
        return _POOLS.setdefault(memory_bytes, _Pool(memory_bytes))


def _send(stream, payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _receive(stream) -> bytes:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    size = _HEADER.unpack(header)[0]
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError
    return payload


def _serve(memory_bytes: int) -> None:
    """The worker's loop: a request, the file's bytes, one JSON answer; until stdin closes."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            request = json.loads(_receive(source))
            data = _receive(source)
        except EOFError:
            return
        try:
            read = reader_for(request["suffix"])
            if read is None:
                raise SkipFile(f"no reader for {request['suffix']!r} files")
            extracted = read(data, Limits(**request["limits"]))
            answer: dict = {"text": extracted.text, "origin": extracted.origin, "meta": extracted.meta,
                      "pages": list(extracted.pages)}
        except SkipFile as skip:
            answer = {"skip": str(skip)}
        except MemoryError:
            answer = {"skip": f"extraction needed more than {memory_bytes >> 20:,} MB (QA_EXTRACT_MEMORY_MB); refused"}
        except RecursionError:
            answer = {"skip": "nested too deeply to read; refused"}
        except Exception as exc:  # a reader's unexpected failure is this file's problem only
            answer = {"skip": f"unreadable ({type(exc).__name__})"}
        del data
        answer["rss"] = _rss_bytes()
        _send(sink, json.dumps(answer).encode())


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
