"""The `qa` command: ingest, search, ask, chat, verify, show, check, serve."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qa.errors import InputError, QAError, missing_extra
from qa.settings import Settings, load_settings

if TYPE_CHECKING:
    from qa.ingest.ingestor import IngestReport

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Question answering over a corpus of articles, with checkable cited extracts.")

StoreOpt = Annotated[Path | None, typer.Option("--store", help="Store folder (default vectorstore/).")]
StoreUrlOpt = Annotated[str | None, typer.Option("--store-url", help="postgresql://... : the index in "
                                                    "PostgreSQL + pgvector instead of a folder (QA_STORE_URL).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (see docs/design.md).")]
BatchOpt = Annotated[Path | None, typer.Option("--batch", help="JSONL file: one request per line.")]
OutletOpt = Annotated[list[str] | None, typer.Option("--outlet", help="Only this outlet (repeatable).")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Only documents dated on/after YYYY-MM-DD.")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Only documents dated on/before YYYY-MM-DD.")]
DocOpt = Annotated[list[str] | None, typer.Option("--doc", help="Only this document id (repeatable).")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Ask as of this date (YYYY-MM-DD): \"this week\" and recency are read against it "
    "(default: today, or the newest document's date for an older corpus).")]


AskKOpt = Annotated[int | None, typer.Option("-k", "--k", help="Passages read to compose the answer (1-50; "
                                            "default QA_ANSWER_K).")]


def _filters(outlet, since, until, doc):
    from qa.types import Filters

    return Filters.of(outlet, since, until, doc)


def _as_of(value: str | None):
    from qa.requests import as_of_day

    return as_of_day(value)


def _settings(store: Path | None, **extra) -> Settings:
    return load_settings(store_dir=store, **extra)


def _engine(store: Path | None, **extra):
    from qa.engine import Engine

    return Engine(_settings(store, **extra))


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path, required: str) -> list[dict]:
    """All lines, validated before anything runs: a bad line stops the batch with its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    requests = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get(required), str):
            raise InputError(f"{path}:{number}: expected an object with a string {required!r}")
        requests.append(item)
    return requests


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default seeds/).")] = None,
    store: StoreOpt = None, store_url: StoreUrlOpt = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Ignore the old index and build anew.")] = False,
    as_json: JsonOpt = False,
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", help="Embed on Ray: a cluster's address, or 'local' to start one here ([ray] extra).")] = None,
):
    """Add, update and remove documents so the store matches the files."""
    from rich.progress import Progress

    from qa.faces.render import ingest_text

    engine = _engine(store, store_url=store_url)
    with Progress(transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("embedding", total=None)
        report = engine.ingest(paths or [engine.settings.store.seeds_dir], rebuild=rebuild,
                               progress=lambda done, total: bar.update(task, completed=done, total=total),
                               ray_address=ray_address)
    for path, reason in report.skipped:
        typer.echo(f"warning: skipped {path!r}: {reason}", err=True)
    if as_json:
        _print_json(report.to_json())
    else:
        typer.echo(ingest_text(report, engine.backend.where))


@app.command()
def watch(
    paths: Annotated[list[Path], typer.Argument(help="Folders to keep indexed.")],
    store: StoreOpt = None, store_url: StoreUrlOpt = None,
):
    """Keep folders indexed: new and changed files are ingested, deleted ones removed (Ctrl+C stops)."""
    import threading

    from qa.faces.render import ingest_text
    from qa.ingest.watch import watch as keep_indexed

    for folder in paths:
        if not folder.is_dir():
            raise InputError(f"cannot watch {folder}: not a folder")
    engine = _engine(store, store_url=store_url)
    typer.echo(f"watching {', '.join(map(str, paths))} (Ctrl+C stops)", err=True)
    stop = threading.Event()
    reported: list[IngestReport] = []

    def report(done) -> None:
        """The first ingest's summary, then one for each batch that changed something."""
        for path, reason in done.skipped:
            typer.echo(f"warning: skipped {path!r}: {reason}", err=True)
        if done.added or done.updated or done.removed or not reported:
            typer.echo(ingest_text(done, engine.backend.where), err=True)
        reported.append(done)

    try:
        keep_indexed(engine.ingest, list(paths), stop, report)
    except KeyboardInterrupt:
        stop.set()


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="What to look for.")] = None,
    k: Annotated[int | None, typer.Option("-k", "--k", help="Number of results (1-50; default QA_SEARCH_K).")] = None,
    batch: BatchOpt = None, store: StoreOpt = None, store_url: StoreUrlOpt = None, as_json: JsonOpt = False,
    outlet: OutletOpt = None, since: SinceOpt = None, until: UntilOpt = None, doc: DocOpt = None,
    as_of: AsOfOpt = None,
):
    """Retrieval only: the passages that best match QUERY, one per story."""
    from qa.codec import search_request_from_json
    from qa.faces.render import results_text
    from qa.requests import SearchRequest

    engine = _engine(store, store_url=store_url)
    # the command line's request: a batch line's own fields take precedence over its options
    given = SearchRequest(query or "", k, _filters(outlet, since, until, doc), _as_of(as_of))
    if batch:
        requests = [search_request_from_json(item, given) for item in _read_jsonl(batch, "query")]
        for request in requests:
            _print_json(engine.retrieve(request).to_json())
        return
    if query is None:
        raise InputError("give a QUERY or --batch FILE.jsonl")
    results = engine.retrieve(given)
    if as_json:
        _print_json(results.to_json())
    else:
        typer.echo(results_text(results))


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="A question about the corpus.")] = None,
    batch: BatchOpt = None, store: StoreOpt = None, store_url: StoreUrlOpt = None, as_json: JsonOpt = False,
    answerer: Annotated[str | None, typer.Option("--answerer", help="extractive or llm (needs QA_LLM_URL).")] = None,
    outlet: OutletOpt = None, since: SinceOpt = None, until: UntilOpt = None, doc: DocOpt = None,
    as_of: AsOfOpt = None, k: AskKOpt = None,
):
    """An answer with numbered, cited extracts (an LLM's words stream to the terminal as they come)."""
    from qa.codec import ask_request_from_json
    from qa.faces.render import answer_text
    from qa.requests import AskRequest

    engine = _engine(store, store_url=store_url, answerer=answerer)
    given = AskRequest(question or "", (), k, _filters(outlet, since, until, doc), _as_of(as_of))
    if batch:
        requests = [ask_request_from_json(item, given) for item in _read_jsonl(batch, "question")]
        for request in requests:
            _print_json(engine.answer(request).to_json())
        return
    if question is None:
        raise InputError("give a QUESTION or --batch FILE.jsonl")
    written: list[str] = []  # an answerer that writes prose hands its words over as they come

    def stream(token: str) -> None:
        written.append(token)
        _stream_to_terminal(token)

    answer = engine.answer(given, on_token=None if as_json else stream)
    if written:
        typer.echo("\n", err=True)
    if as_json:
        _print_json(answer.to_json())
    else:
        typer.echo(answer_text(answer))


def _stream_to_terminal(token: str) -> None:
    """The LLM's words as they arrive, on stderr: stdout gets the grounded answer only."""
    sys.stderr.write(token)
    sys.stderr.flush()


@app.command()
def chat(store: StoreOpt = None, store_url: StoreUrlOpt = None, as_of: AsOfOpt = None, k: AskKOpt = None,
         outlet: OutletOpt = None, since: SinceOpt = None, until: UntilOpt = None, doc: DocOpt = None):
    """An interactive chat: follow-up questions use the conversation. Ctrl-D or 'exit' ends it."""
    from dataclasses import replace

    from qa.faces.render import answer_text
    from qa.requests import AskRequest
    from qa.types import Turn

    engine = _engine(store, store_url=store_url)
    asked = AskRequest("", (), k, _filters(outlet, since, until, doc), _as_of(as_of))  # each question's options
    typer.echo("Ask about the corpus (Ctrl-D or 'exit' to leave).")
    while True:
        try:
            question = input("\nyou> ")
        except EOFError:
            typer.echo()
            return
        if question.strip().lower() in {"exit", "quit"}:
            return
        try:
            answer = engine.answer(replace(asked, question=question))
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            continue
        typer.echo(answer_text(answer))
        turns = (Turn("user", question), Turn("assistant", answer.answer, answer))
        asked = replace(asked, history=asked.history + turns)


@app.command()
def verify(
    file: Annotated[str, typer.Argument(help="An ask result as JSON, or - for standard input.")],
    store: StoreOpt = None, store_url: StoreUrlOpt = None, as_json: JsonOpt = False,
):
    """Check every citation against the source text; exit 1 if any fails."""
    try:
        raw = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {file}: {exc}") from None
    try:
        result = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"{file} is not JSON ({exc.msg} at line {exc.lineno})") from None
    all_valid, verdicts = _engine(store, store_url=store_url).verifier.verify(result)
    if as_json:
        _print_json({"all_valid": all_valid, "citations": [v.to_json() for v in verdicts]})
    else:
        for v in verdicts:
            typer.echo(f"[{v.n}] {'ok' if v.valid else 'FAIL'}: {v.reason}")
        typer.echo("all citations verify" if all_valid else "some citations do not verify")
    raise typer.Exit(0 if all_valid else 1)


@app.command()
def show(
    doc_id: Annotated[str, typer.Argument(help="A document id, e.g. 001_fef7cdd3c9f4f1a3.")],
    start: Annotated[int | None, typer.Option("--start", help="Start of the span to mark.")] = None,
    end: Annotated[int | None, typer.Option("--end", help="End of the span to mark.")] = None,
    store: StoreOpt = None, store_url: StoreUrlOpt = None, as_json: JsonOpt = False,
):
    """Print a document with a span marked."""
    from qa.faces.render import marked_document

    doc = _engine(store, store_url=store_url).library.document(doc_id)
    if (start is None) != (end is None) or (start is not None and end is not None
                                            and not 0 <= start <= end <= len(doc.text)):
        raise InputError(f"--start and --end must be given together, with 0 <= start <= end <= {len(doc.text)}")
    if as_json:
        _print_json(doc.to_json())
        return
    typer.echo(f"{doc.title}\n{doc.source}\n")
    typer.echo(marked_document(doc.text, start, end, colour=sys.stdout.isatty()))


@app.command()
def documents(
    limit: Annotated[int, typer.Option("--limit", help="How many (1-1000).")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many first.")] = 0,
    store: StoreOpt = None, store_url: StoreUrlOpt = None, as_json: JsonOpt = False,
):
    """List the documents in the index (id, title, outlet, date, chunks)."""
    from qa.faces.render import documents_json, documents_text

    total, docs = _engine(store, store_url=store_url).library.documents(limit, offset)
    if as_json:
        _print_json(documents_json(total, docs))
    else:
        typer.echo(documents_text(total, docs, offset))


@app.command()
def delete(
    doc_id: Annotated[str, typer.Argument(help="The id of the document to remove.")],
    store: StoreOpt = None, store_url: StoreUrlOpt = None, as_json: JsonOpt = False,
):
    """Remove a document from the index (its file in an ingested folder stays)."""
    report = _engine(store, store_url=store_url).library.delete(doc_id)
    if as_json:
        _print_json({"deleted": doc_id, **report.to_json()})
    else:
        typer.echo(f"deleted {doc_id}; {report.documents} documents, {report.chunks} chunks left")


@app.command()
def mcp(store: StoreOpt = None, store_url: StoreUrlOpt = None):
    """A Model Context Protocol server on stdio: tools search, ask, verify, get_document."""
    from qa.faces.mcp import run_stdio

    run_stdio(_engine(store, store_url=store_url))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 7860).")] = None,
    store: StoreOpt = None, store_url: StoreUrlOpt = None,
    no_ingest: Annotated[bool, typer.Option("--no-ingest", help="Serve the store as it is.")] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Server processes sharing the port "
                                         "and the store (each loads the model).")] = 1,
    watch_dirs: Annotated[list[Path] | None, typer.Option(
        "--watch", help="A folder to keep indexed while serving (repeatable).")] = None,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every HTTP request (assets, health "
                                             "checks and the chat's polling too); by default the log has a "
                                             "line per answer and per change of the corpus.")] = False,
):
    """Start the web chat and the REST API (one server); ingests seeds/ first if needed."""
    from qa.faces.server import check_port_free
    from qa.faces.server import serve as run_server

    settings = _settings(store, store_url=store_url, host=host, port=port)
    check_port_free(settings.server.host, settings.server.port)
    for folder in watch_dirs or []:
        if not folder.is_dir():
            raise InputError(f"cannot watch {folder}: not a folder")
    if not no_ingest:
        ensure_index(settings)
    typer.echo(f"serving on http://{settings.server.host}:{settings.server.port}/  (API docs at /docs)", err=True)
    run_server(settings, workers, watch=list(watch_dirs or []), access_log=access_log)


@app.command()
def check(store: StoreOpt = None, store_url: StoreUrlOpt = None):
    """Check the index in full: files consistent, every document's text matching its recorded hash."""
    engine = _engine(store, store_url=store_url)
    problems = engine.store.check()
    stats = engine.stats()
    for problem in problems:
        typer.echo(f"problem: {problem}", err=True)
    if problems:
        raise QAError(f"{len(problems)} problem(s) in {engine.settings.store.store_dir}/; repair it: "
                      f"qa ingest --rebuild <folders> --store {engine.settings.store.store_dir}")
    typer.echo(f"ok: {stats['documents']} documents, {stats['chunks']} chunks, {stats['generation']}")


def ensure_index(settings: Settings) -> None:
    """Bring the store up to date with seeds/: nothing is embedded when nothing changed."""
    from qa.engine import Engine
    from qa.faces.render import ingest_text

    engine = Engine(settings)
    report = engine.ingest([settings.store.seeds_dir])
    if report.added or report.updated or report.removed:
        typer.echo(ingest_text(report, engine.backend.where), err=True)


def _usage_error_types() -> tuple[type[Exception], ...]:
    """Click's exceptions, from typer's vendored copy and from click itself when installed."""
    kinds: list[type[Exception]] = []
    try:
        from typer._click.exceptions import ClickException as Vendored

        kinds.append(Vendored)
    except ImportError:
        pass
    try:
        from click import ClickException

        kinds.append(ClickException)
    except ImportError:
        pass
    return tuple(kinds)


def main() -> None:
    """Entry point: domain and usage errors become one line and exit code 2, never a traceback."""
    try:
        code = app(standalone_mode=False)  # returns typer.Exit's code when not standalone
        if isinstance(code, int) and code:
            sys.exit(code)
    except QAError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except ImportError as exc:  # an optional part without its extra: the line that names it
        missing = missing_extra(exc)
        if missing is None:
            raise
        typer.echo(f"error: {missing}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except _usage_error_types() as exc:
        usage: Any = exc  # click's UsageError, from whichever copy raised it
        hint = " (see qa --help)" if getattr(usage, "ctx", None) is None else f" (see {usage.ctx.command_path} --help)"
        typer.echo(f"error: {usage.format_message()}{hint}", err=True)
        sys.exit(2)
