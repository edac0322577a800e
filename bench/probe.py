"""The security probe of the access issue, replayed against a real `qa serve` with QA_API_KEY set,
once from an older commit (before) and once from this tree (after); the table of requests and
statuses goes to bench/results/security.md.

    python -m bench.probe --before c86f299     # the commit before the fixes
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.hostile import _free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
KEY = "probe-secret-key"
SECRET = "The vault code of the lighthouse keeper is zebra-4471."


def _serve(code: Path, work: Path):
    """`qa serve` from the package in `code`, on the seeds, with the tiny embedder (the attacks
    do not depend on the model)."""
    env = {**os.environ, "PYTHONPATH": str(code), "QA_SETTINGS_FILE": str(work / "absent.toml"),
           "QA_EMBEDDING_MODEL": "hash", "HF_HUB_OFFLINE": "1"}
    env.pop("QA_RUNTIME_DIR", None)
    subprocess.run([sys.executable, "-m", "qa", "ingest", str(ROOT / "seeds"), "--store", str(work / "store")],
                   check=True, env=env, cwd=code, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--port", str(port), "--store", str(work / "store")],
                              env={**env, "QA_API_KEY": KEY}, cwd=code, stdout=subprocess.DEVNULL,
                              stderr=(work / "serve.log").open("wb"))
    return server, f"http://127.0.0.1:{port}"


def _status(call) -> str:
    import httpx

    try:
        return str(call().status_code)
    except httpx.HTTPError as exc:
        return type(exc).__name__


def probe(base: str, secret_file: Path) -> dict[str, str]:
    import httpx

    bearer = {"Authorization": f"Bearer {KEY}"}
    c = httpx.Client(base_url=base, timeout=120, headers=bearer)
    found: dict[str, str] = {}
    # 1. a server file through every chat event that takes files
    config = c.get("/config").json()
    kinds = {comp["id"]: comp.get("type", "") for comp in config["components"]}
    statuses = []
    for dep in config["dependencies"]:
        if not any(kinds.get(i) == "file" for i in dep["inputs"]):
            continue
        fd = {"path": str(secret_file), "meta": {"_type": "gradio.FileData"}, "orig_name": "privnote.txt"}
        data = [[fd] if kinds.get(i) == "file" else None for i in dep["inputs"]]
        session = os.urandom(5).hex()
        r = c.post("/gradio_api/queue/join", json={"data": data, "fn_index": dep["id"], "session_hash": session})
        statuses.append(str(r.status_code))
        if r.status_code == 200:
            with c.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as stream:
                for line in stream.iter_lines():
                    if "process_completed" in line:
                        break
    hits = c.get("/api/search", params={"q": "vault code lighthouse keeper zebra-4471"}).json()["results"]
    ingested = any("zebra-4471" in h["text"] for h in hits)
    found["server file via the chat's file events (queue/join)"] = \
        f"{'/'.join(statuses)}; ingested: {'yes' if ingested else 'no'}"
    # 2. open redirect
    found["POST /login next=/<TAB>/evil.example/"] = _raw_login(base, "/\t/evil.example/")
    form = httpx.get(f"{base}/login?next=%2F%09%2Fevil.example%2F").text
    carried = form.split('name="next" value="')[1].split('"')[0] if 'name="next"' in form else "?"
    found["GET /login?next=%2F%09%2Fevil.example%2F (form carries)"] = repr(carried)
    found["POST /login next=/<CR><LF>/evil.example/"] = _raw_login(base, "/\r\n/evil.example/")
    found["POST /login next=/\\evil.example/"] = _raw_login(base, "/\\evil.example/")
    # 3. odd text and wrong types
    odd = {"POST /api/ask question with \\ud800": ("/api/ask", '{"question": "Who is Qalibaf?\\ud800"}'),
           "POST /api/search q with \\ud800": ("/api/search", '{"q": "Qalibaf\\ud800", "k": 3}'),
           "POST /v1/chat/completions content with \\ud800": (
               "/v1/chat/completions", '{"model": "corpus-qa", "messages": [{"role": "user", "content": "Who\\ud800"}]}')}
    for value in ("5", "null", '["a"]'):
        odd[f"POST /v1 content part text={value}"] = (
            "/v1/chat/completions",
            '{"model": "corpus-qa", "messages": [{"role": "user", "content": [{"type": "text", "text": %s}]}]}' % value)
    for label, (path, body) in odd.items():
        found[label] = _status(lambda: c.post(path, content=body, headers={"content-type": "application/json"}))
    # 4. MCP flood
    found.update(_mcp_flood(base, bearer))
    # 5. smaller
    found["POST /v1/chat/completions, no key, body not JSON"] = _status(
        lambda: httpx.post(f"{base}/v1/chat/completions", content=b"x", headers={"content-type": "application/json"}))
    signed = c.post("/login", data={"key": KEY, "next": "/"}, follow_redirects=False)
    cookie = signed.headers.get("set-cookie", "").split(";")[0].split("=", 1)[-1]
    httpx.get(f"{base}/logout", cookies={"qa_session": cookie}, follow_redirects=False)
    found["GET /config with the session cookie after /logout"] = _status(
        lambda: httpx.get(f"{base}/config", cookies={"qa_session": cookie}))
    ask = [{"role": "user", "content": "Who is Qalibaf?"}]
    found["/v1 model 'gpt-9'"] = _status(lambda: c.post("/v1/chat/completions", json={"model": "gpt-9", "messages": ask}))
    found["/v1 n=3"] = _status(lambda: c.post("/v1/chat/completions", json={"model": "corpus-qa", "messages": ask, "n": 3}))
    big = c.post("/v1/chat/completions", json={"model": "m" * 1_000_000, "messages": ask})
    found["/v1 1 MB model name"] = f"{big.status_code}, reply {len(big.content):,} bytes"
    wrong = httpx.get(f"{base}/v1/models", headers={"Authorization": "Bearer wrong"})
    found["/v1 401 shape"] = f"{wrong.status_code} {sorted(wrong.json())}"
    found.update(_round_three(base, c, config, kinds))
    return found


def _round_three(base: str, c, config: dict, kinds: dict) -> dict[str, str]:
    """The second probe's findings: calendar-end dates, NUL paths, paths shown to clients, MCP's
    error text, CORS with the cookie, streamed asks against /healthz, key guessing (last: it
    locks this address out for a minute)."""
    import httpx

    found: dict[str, str] = {}
    for day in ("9999-12-31", "0001-01-01"):
        body = {"q": "Qalibaf", "as_of": day}
        found[f"POST /api/search as_of {day}"] = _status(lambda body=body: c.post("/api/search", json=body))
    huge = c.post("/api/search", json={"q": "Qalibaf", "as_of": "2" * 1_500_000})
    found["as_of of 1.5 MB: status, message length"] = f"{huge.status_code}, {len(huge.text):,} bytes"
    mcp = c.post("/mcp", headers={"accept": "application/json, text/event-stream"}, json={
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "ask", "arguments": {"question": "Who is Qalibaf?", "as_of": "9999-12-31"}}})
    text = mcp.json().get("result", {}).get("content", [{}])[0].get("text", "") if mcp.status_code == 200 else ""
    found["MCP ask as_of 9999-12-31: error text"] = repr(text[:90])
    fd = {"path": "/tmp/qa-upload\u0000.txt", "meta": {"_type": "gradio.FileData"}, "orig_name": "x.txt"}
    event = next(d for d in config["dependencies"] if any(kinds.get(i) == "file" for i in d["inputs"]))
    data = [[fd] if kinds.get(i) == "file" else None for i in event["inputs"]]
    found["NUL in a chat event's file path"] = _status(lambda: c.post(
        "/gradio_api/queue/join", json={"data": data, "fn_index": event["id"], "session_hash": "nul0"}))
    found["GET /api/documents/a%00b"] = _status(lambda: c.get("/api/documents/a%00b"))
    source = c.get("/api/documents", params={"limit": 1}).json()["documents"][0]["source"]
    found["a document's source (absolute?)"] = f"{'absolute' if source.startswith('/') else 'relative'}: {source[:40]}"
    same_id = source.rsplit("/", 1)[-1].rsplit(".", 1)[0] + ".md"
    taken = c.post("/api/documents", files={"file": (same_id, b"# x\n\nA note.\n")})
    server_path = str(ROOT) in taken.text or "/tmp/" in taken.text
    found["409 for a taken id names a server path"] = f"{taken.status_code}: {'yes' if server_path else 'no'}"
    login = httpx.post(f"{base}/login", data={"key": KEY, "next": "/"}, follow_redirects=False)
    cookie = login.headers.get("set-cookie", "").split(";")[0]
    for origin, host, named in (("https://evil.example", "qa.example.org", "qa.example.org"),
                                ("http://127.0.0.1:1", urllib.parse.urlsplit(base).netloc, "this server's")):
        r = httpx.get(f"{base}/config", headers={"Cookie": cookie, "Origin": origin, "Host": host})
        found[f"GET /config with the cookie, Origin {origin}, Host {named}"] = \
            f"{r.status_code}, allow-origin {r.headers.get('access-control-allow-origin')!r}"
    found.update(_streamed_flood(base))
    codes = [httpx.post(f"{base}/login", data={"key": f"wrong-{i}", "next": "/"}, follow_redirects=False).status_code
             for i in range(30)]
    found["30 wrong keys at /login"] = f"{codes.count(401)} × 401, {codes.count(429)} × 429"
    right = httpx.post(f"{base}/login", data={"key": KEY, "next": "/"}, follow_redirects=False)
    found["the right key right after them"] = f"{right.status_code}, Retry-After {right.headers.get('retry-after')}"
    return found


def _streamed_flood(base: str) -> dict[str, str]:
    import asyncio
    import statistics

    import httpx

    async def flood():
        async with httpx.AsyncClient(base_url=base, timeout=300, headers={"Authorization": f"Bearer {KEY}"},
                                     limits=httpx.Limits(max_connections=200)) as client:
            async def one(i):
                try:
                    asked = {"question": f"Why did Putin not meet Qalibaf? ({i})", "stream": True}
                    async with client.stream("POST", "/api/ask", json=asked) as s:
                        async for _ in s.aiter_bytes():
                            pass
                        return s.status_code
                except httpx.HTTPError:
                    return 0

            async def health():
                times = []
                await asyncio.sleep(1.0)
                for _ in range(15):
                    started = time.perf_counter()
                    await client.get("/healthz")
                    times.append(time.perf_counter() - started)
                    await asyncio.sleep(0.2)
                return times

            return await asyncio.gather(health(), *[one(i) for i in range(100)])

    times, *codes = asyncio.run(flood())
    return {"100 streamed asks": f"{codes.count(200)} streamed, {codes.count(503)} shed (503)",
            "GET /healthz during them (median)": f"{statistics.median(times) * 1000:.0f} ms over {len(times)}"}


def _raw_login(base: str, target: str) -> str:
    """Sign in with `next=target`, read as sent (no client that refuses odd Location headers)."""
    import http.client

    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", "/login", urllib.parse.urlencode({"key": KEY, "next": target}),
                     {"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        return f"{response.status} Location {response.getheader('location')!r}"
    except (OSError, http.client.HTTPException) as exc:
        return f"no response ({type(exc).__name__})"
    finally:
        conn.close()


def _mcp_flood(base: str, bearer: dict) -> dict[str, str]:
    import httpx

    call = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": "ask", "arguments": {"question": "Why didn't Putin meet Qalibaf?"}}})
    headers = {**bearer, "accept": "application/json, text/event-stream", "content-type": "application/json"}
    health: list[float] = []
    with httpx.Client(base_url=base, timeout=300, limits=httpx.Limits(max_connections=200)) as http, \
            ThreadPoolExecutor(128) as pool:
        flood = [pool.submit(lambda: http.post("/mcp", content=call, headers=headers).status_code) for _ in range(128)]
        time.sleep(0.5)
        while not all(f.done() for f in flood) and len(health) < 20:
            started = time.perf_counter()
            http.get("/healthz")
            health.append(time.perf_counter() - started)
            time.sleep(0.1)
        codes = [f.result() for f in flood]
    health.sort()
    median = health[len(health) // 2] if health else float("nan")
    return {"128 parallel MCP ask calls": f"{codes.count(200)} answered, {codes.count(503)} shed (503)",
            "GET /healthz during the flood (median)": f"{median * 1000:.0f} ms over {len(health)}"}


def run(code: Path) -> dict[str, str]:
    work = Path(tempfile.mkdtemp(prefix="qa-probe-"))
    secret = work / "outside" / "privnote.txt"
    secret.parent.mkdir()
    secret.write_text(f"Private note\n\n{SECRET}\n", encoding="utf-8")
    server, base = _serve(code, work)
    try:
        wait_healthy(base)
        return probe(base, secret)
    finally:
        server.terminate()
        server.wait(30)


def report(before_rev: str, before: dict, after: dict) -> str:
    lines = ["# Security probe of `qa serve` with QA_API_KEY set", "",
             f"`python -m bench.probe --before {before_rev}` on {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores; "
             "the tiny embedder (the attacks do not depend on the model). Before: the server from commit "
             f"`{before_rev}`; after: this tree.", "",
             "| request | before | after |", "|---|---|---|"]
    for label in after:
        lines.append(f"| {label} | {str(before.get(label, '–')).replace('|', '/')} | {str(after[label]).replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the git revision to probe as 'before'")
    args = parser.parse_args()
    checkout = Path(tempfile.mkdtemp(prefix="qa-probe-before-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(checkout), args.before], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        before = run(checkout)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, capture_output=True)
    after = run(ROOT)
    text = report(args.before, before, after)
    print(text)
    (ROOT / "bench" / "results" / "security.md").write_text(text)


if __name__ == "__main__":
    main()
