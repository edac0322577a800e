"""One server: the REST API and the source pages (FastAPI) with the Gradio chat mounted at /."""
from __future__ import annotations

import logging
import os
import time

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse

from qa.engine import Engine
from qa.errors import NotFoundError, QAError
from qa.faces.access import Guard
from qa.faces.api import create_api
from qa.faces.sessions import runtime_dir
from qa.library import Library
from qa.settings import Settings

# The model is CPU-bound and the machine has few cores: four chats run at once and the rest
# wait in Gradio's queue (bounded, so a flood is refused quickly instead of piling up memory).
CHAT_CONCURRENCY = 4
QUEUE_SIZE = 64


# The server's own lines go where uvicorn's go ("INFO:     ..."), one per answer and per change
log = logging.getLogger("uvicorn.error")


class LoggedLibrary(Library):
    """The documents as a server changes them: a log line for each upload and delete."""

    def upload(self, files):
        return _logged_change("upload", lambda: super(LoggedLibrary, self).upload(files),
                              f"{len(files)} file{'s' if len(files) != 1 else ''}")

    def delete(self, doc_id):
        return _logged_change("delete", lambda: super(LoggedLibrary, self).delete(doc_id), "1 document")


class LoggedEngine(Engine):
    """The engine a server runs: a log line for each answer (how long the question was, how long the
    answer took, how many citations it has; never the question's words) and each upload or delete."""

    library_type = LoggedLibrary

    def answer(self, request, on_token=None):
        started, length = time.perf_counter(), len(request.question or "")
        try:
            answer = super().answer(request, on_token)
        except QAError as exc:
            log.info("answer: a question of %d characters refused in %.2f s: %s", length,
                     time.perf_counter() - started, str(exc)[:200])
            raise
        n = len(answer.citations)
        said = "the corpus does not say" if answer.abstained else f"{n} citation{'s' if n != 1 else ''}"
        by = f" ({answer.answerer})" if answer.answerer != "extractive" else ""
        log.info("answer: a question of %d characters, %.2f s, %s%s", length, time.perf_counter() - started, said, by)
        return answer


def _logged_change(what: str, change, of: str):
    try:
        report = change()
    except QAError as exc:
        log.info("%s of %s refused: %s", what, of, str(exc)[:200])
        raise
    log.info("%s of %s: %s", what, of, change_line(report))
    return report


def change_line(report) -> str:
    """"1 added, 0 updated, 0 removed: 3 documents (0.4 s)": what an ingest changed, for the log."""
    return (f"{report.added} added, {report.updated} updated, {report.removed} removed"
            + (f", {len(report.skipped)} skipped" if report.skipped else "")
            + f": {report.documents} documents ({report.seconds:.1f} s)")


def build_app(settings: Settings, engine: Engine | None = None, stateless: bool = False) -> FastAPI:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from an offline server
    # The chat's uploads land in this server's private folder, not the machine-wide /tmp/gradio:
    # a file there was uploaded to this server, and nothing else can put one there.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(runtime_dir() / "uploads"))
    import gradio as gr

    from qa.faces.mcp import mount_mcp
    from qa.faces.ui import CSS, HEAD, build_ui, theme
    from qa.faces.web import missing_source_page, source_page

    engine = engine or LoggedEngine(settings)
    _ = engine.store  # load the index and the model once, before the first request
    from qa.text.nlp import warm

    warm()  # and spaCy's pipeline (3 s), which every question reads
    app = create_api(engine)
    mount_mcp(app, engine, settings.server.host, settings.server.api_key)

    @app.get("/source/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def source(doc_id: str, start: int | None = Query(None, ge=0), end: int | None = Query(None, ge=0),
               answer_start: int | None = Query(None, ge=0), answer_end: int | None = Query(None, ge=0)):
        answer = (answer_start, answer_end) if answer_start is not None and answer_end is not None else None
        try:
            doc = engine.library.document(doc_id)
        except NotFoundError:
            return HTMLResponse(missing_source_page(doc_id), status_code=404)
        return source_page(doc, start, end, answer)

    demo = build_ui(engine, stateless).queue(default_concurrency_limit=CHAT_CONCURRENCY, max_size=QUEUE_SIZE)
    # No allowed_paths: the UI serves only Gradio's own assets, never files from disk.
    app = gr.mount_gradio_app(app, demo, path="/", css=CSS, head=HEAD, theme=theme(),
                              max_file_size=settings.server.max_upload_bytes)
    # outermost: the key at the door of every page, bounded bodies, security headers on every response
    app.add_middleware(Guard, api_key=settings.server.api_key, upload_limit=settings.server.max_upload_bytes,
                       received=received_by(demo, check_set=not stateless), session_hours=settings.server.session_hours,
                       key_tries_per_minute=settings.server.key_tries_per_minute)
    engine.library.sweep_uploads()  # what a killed or refused upload left behind
    return app


def received_by(demo, check_set: bool = True):
    """Whether a path a chat event names is a file Gradio received by upload: resolved (no `..`,
    no symlink out), inside its upload folder, and (one process) among the paths its upload route
    returned. Several workers each see only their own uploads, so there the folder decides."""
    from gradio.utils import get_upload_folder

    def received(path: str) -> bool:
        folder = os.path.realpath(get_upload_folder())
        try:
            inside = os.path.realpath(path).startswith(folder + os.sep)
        except ValueError:  # NUL: no such file can exist
            return False
        return inside and (not check_set or path in demo.upload_file_set)

    return received


def check_port_free(host: str, port: int) -> None:
    """A one-line error now, before anything says it is serving, when the port is taken."""
    import errno
    import socket

    from qa.errors import InputError

    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(f"port {port} is in use: set QA_PORT or --port") from None
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


# their INFO/DEBUG lines are not the operator's news
QUIET_LOGGERS = ("mcp", "bm25s", "httpx", "httpcore", "gradio", "gradio_client", "urllib3", "watchfiles",
                 "multipart", "python_multipart", "asyncio", "PIL", "matplotlib", "fsspec", "filelock",
                 "huggingface_hub", "sentence_transformers", "onnxruntime", "datasketch")


def quiet_libraries() -> None:
    """The log says what matters (the URL, answers, changes, errors): libraries speak only to warn,
    whatever level a library set on the root logger."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    root = logging.getLogger()
    if root.level < logging.WARNING:
        root.setLevel(logging.WARNING)


def serve(settings: Settings, workers: int = 1, watch: list | None = None, access_log: bool = False) -> None:
    """One process, or `workers` uvicorn processes sharing the port and the store (each loads
    the model; the chat is then stateless, so any worker can answer any of its requests).
    `watch`: folders kept indexed by a watcher in this process (its ingests publish new
    versions, which every worker picks up on its next request)."""
    import uvicorn

    quiet_libraries()
    engine = LoggedEngine(settings)
    if watch:
        _watch(engine, watch)
    if workers <= 1:
        uvicorn.run(build_app(settings, engine), host=settings.server.host, port=settings.server.port,
                    log_level="info", access_log=access_log)
        return
    # the workers are fresh processes: they read the settings back from the environment, and
    # share one private folder for sessions and uploads
    os.environ.update(settings_environment(settings))
    runtime_dir()
    os.environ[_STATELESS] = "1"
    uvicorn.run("qa.faces.server:app_from_environment", factory=True, workers=workers, host=settings.server.host,
                port=settings.server.port, log_level="info", access_log=access_log)


def _watch(engine: Engine, folders: list):
    from qa.ingest.watch import watch_in_background

    first = [True]

    def report(done) -> None:
        """Every ingest that changed something, and the first whatever it found (the folder's state)."""
        if first[0] or done.added or done.updated or done.removed:
            log.info("watch%s: %s", " (first ingest)" if first[0] else "", change_line(done))
        first[0] = False

    return watch_in_background(engine.ingest, folders, report)


_STATELESS = "QA_SERVE_STATELESS"


def app_from_environment() -> FastAPI:
    """The app as a worker process builds it (see serve)."""
    quiet_libraries()
    return build_app(Settings(), stateless=os.environ.get(_STATELESS) == "1")


def settings_environment(settings: Settings) -> dict[str, str]:
    """QA_* variables that rebuild these settings in another process."""
    import json

    environment = {}
    for name, value in settings.flat().items():
        if value is None:
            continue
        key = f"QA_{name.upper()}"
        environment[key] = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return environment
