"""Hostile files against a real `qa serve` process: each attack of the hostile-files issue, built
here, with the server's peak RSS (and its extraction workers') before and after, wall time and
status; the table goes to bench/results/hostile.md.

    python -m bench.hostile            # full sizes (DOCX inflating to 1 GB, 19.5 MB HTML line)
    python -m bench.hostile --quick    # smaller files, for a smoke run
"""
from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-secret"
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_bomb(inflated: int = 1 << 30) -> bytes:
    """A valid DOCX of ordinary paragraphs whose word/document.xml inflates to `inflated` bytes."""
    paragraph = ("<w:p><w:r><w:t>" + "The ferry carries three hundred and forty passengers every day. " * 16
                 + "</w:t></w:r></w:p>")
    block = (paragraph * ((4 << 20) // len(paragraph))).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
                         '.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
                         'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
                         'application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.'
                         'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        package.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.'
                         'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                         'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                         'Target="word/document.xml"/></Relationships>')
        with package.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0"?><w:document {_W}><w:body>'.encode())
            written = 0
            while written < inflated:
                part.write(block)
                written += len(block)
            part.write(b"</w:body></w:document>")
    return buffer.getvalue()


def shared_stream_pdf(pages: int = 5, inflated: int = 5 << 20) -> bytes:
    """A small PDF whose pages all show one content stream that inflates to `inflated` bytes."""
    operation = b"BT /F1 12 Tf 72 712 Td (The ferry carries forty passengers.) Tj ET\n"
    stream = zlib.compress(operation * (inflated // len(operation)), 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    kids = []
    for _ in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % pages
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF file of these objects (1 is the catalog), with its cross-reference table."""
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def long_line_html(size: int = 19_500_000) -> bytes:
    """One line of HTML: a news page whose body is `size` bytes of short inline elements."""
    unit = "<span>The ferry <b>carries</b> forty passengers.</span> "
    return ("<html><head><title>Long line</title></head><body><p>" + unit * (size // len(unit))
            + "</p></body></html>").encode()


# -- the run against a real server ----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            return int(next(line for line in status if line.startswith("VmRSS")).split()[1]) // 1024
    except (OSError, StopIteration):
        return 0


def _children(pid: int) -> list[int]:
    """Child processes started by any of the server's threads (the extraction workers)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


class Watch:
    """Peak RSS of the server and, separately, of its extraction workers, sampled every 0.1 s."""

    def __init__(self, pid: int):
        self.pid, self.server, self.workers, self.running = pid, 0, 0, True
        threading.Thread(target=self._sample, daemon=True).start()

    def reset(self) -> None:
        self.server, self.workers = _rss_mb(self.pid), 0

    def _sample(self) -> None:
        while self.running:
            self.server = max(self.server, _rss_mb(self.pid))
            self.workers = max([self.workers] + [_rss_mb(c) for c in _children(self.pid)])
            time.sleep(0.1)


def _upload(base: str, name: str, data: bytes, key: str | None = KEY, timeout: float = 300):
    import httpx

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        reply = httpx.post(f"{base}/api/documents", files={"file": (name, data)}, headers=headers, timeout=timeout)
        return reply.status_code, reply.json().get("detail", "")[:120] if reply.status_code >= 400 else ""
    except Exception as exc:  # a dead server is a result here
        return type(exc).__name__, ""


def wait_healthy(base: str) -> None:
    """Until the server at `base` answers /healthz (at most two minutes)."""
    import httpx

    for _ in range(240):
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise RuntimeError(f"the server at {base} did not start")


def _documents(base: str) -> int:
    import httpx

    return httpx.get(f"{base}/api/documents?limit=1", headers={"Authorization": f"Bearer {KEY}"}, timeout=30).json()["total"]


def run(quick: bool) -> list[dict]:
    import httpx

    work = Path(tempfile.mkdtemp(prefix="qa-hostile-"))
    python = sys.executable
    env = {**os.environ, "QA_SETTINGS_FILE": str(work / "absent.toml"), "HF_HUB_OFFLINE": "1"}
    subprocess.run([python, "-m", "qa", "ingest", str(ROOT / "seeds"), "--store", str(work / "store")],
                   check=True, env=env, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([python, "-m", "qa", "serve", "--port", str(port), "--store", str(work / "store")],
                              env={**env, "QA_API_KEY": KEY, "GRADIO_TEMP_DIR": str(work / "gradio")},
                              stdout=subprocess.DEVNULL, stderr=(work / "serve.log").open("wb"))
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base)
    watch, rows = Watch(server.pid), []
    attacks = [
        ("DOCX inflating to 1 GB", "bomb.docx", lambda: docx_bomb((64 if quick else 1024) << 20)),
        ("19 KB PDF, 5 pages sharing a 5 MB stream", "shared.pdf", shared_stream_pdf),
        ("19.5 MB single-line HTML", "line.html", lambda: long_line_html(2_000_000 if quick else 19_500_000)),
    ]
    try:
        for label, name, build in attacks:
            data = build()
            watch.reset()
            before = watch.server
            started = time.perf_counter()
            status, detail = _upload(base, name, data)
            rows.append({"attack": f"{label} ({len(data):,} bytes)", "status": status, "detail": detail,
                         "seconds": round(time.perf_counter() - started, 1), "rss_before": before,
                         "rss_peak": watch.server, "worker_peak": watch.workers, "rss_after": _rss_mb(server.pid)})
        rows.append(_race(base, watch, server.pid, rounds=3 if quick else 12))
        rows.append(_without_key(base, watch, server.pid))
    finally:
        watch.running = False
        server.terminate()
        server.wait(30)
    return rows


def _race(base: str, watch: Watch, pid: int, rounds: int) -> dict:
    statuses: list = []
    before = _documents(base)
    watch.reset()
    rss_before, started = watch.server, time.perf_counter()
    for round_ in range(rounds):
        text = f"The Tindra ferry carries 340 passengers, round {round_}.\n".encode()
        threads = [threading.Thread(target=lambda: statuses.append(_upload(base, "same-name.txt", text)[0]))
                   for _ in range(10)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    errors = sum(1 for s in statuses if not isinstance(s, int) or s >= 500)
    return {"attack": f"10 parallel uploads of one name x {rounds} rounds", "status": sorted(set(map(str, statuses))),
            "detail": f"{errors} 500s or errors; documents {before} -> {_documents(base)}",
            "seconds": round(time.perf_counter() - started, 1), "rss_before": rss_before, "rss_peak": watch.server,
            "worker_peak": watch.workers, "rss_after": _rss_mb(pid)}


def _without_key(base: str, watch: Watch, pid: int) -> dict:
    import httpx

    probes = {"GET /config": httpx.get(f"{base}/config", timeout=10).status_code,
              "POST /gradio_api/upload": httpx.post(f"{base}/gradio_api/upload", files={"files": ("x.txt", b"x")},
                                                    timeout=10).status_code,
              "GET /source/<id>": httpx.get(f"{base}/source/000_782ea98495621ebe", timeout=10).status_code,
              "POST /api/documents": _upload(base, "x.txt", b"Some text.", key=None)[0],
              "DELETE /api/documents/<id>": httpx.delete(f"{base}/api/documents/000_782ea98495621ebe",
                                                         timeout=10).status_code}
    return {"attack": "writes and reads without the key", "status": sorted(set(probes.values())),
            "detail": "; ".join(f"{k} {v}" for k, v in probes.items()), "seconds": 0.0,
            "rss_before": _rss_mb(pid), "rss_peak": watch.server, "worker_peak": watch.workers, "rss_after": _rss_mb(pid)}


def report(rows: list[dict], quick: bool) -> str:
    lines = ["# Hostile files against `qa serve`", "",
             f"`python -m bench.hostile{' --quick' if quick else ''}` on {time.strftime('%Y-%m-%d')}, "
             f"{os.cpu_count()} cores. RSS in MB: the server process, and the peak of its extraction "
             "workers (separate processes with a 1 GB address-space cap, killed at the time limit).", "",
             "| attack | status | seconds | server RSS before | server peak | worker peak | server after | detail |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['attack']} | {r['status']} | {r['seconds']} | {r['rss_before']} | {r['rss_peak']} | "
                     f"{r['worker_peak']} | {r['rss_after']} | {str(r['detail']).replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller files (a smoke run)")
    args = parser.parse_args()
    text = report(run(args.quick), args.quick)
    print(text)
    if not args.quick:
        (ROOT / "bench" / "results" / "hostile.md").write_text(text)


if __name__ == "__main__":
    main()
