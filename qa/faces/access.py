"""What guards the whole server, below every face: the API key at the door of the web UI and the
source pages (the product's own sign-in), request bodies bounded while they stream in, and the
standard security headers on every response.

`/api`, `/mcp` and `/v1` take the bearer key (clients send it with each request), checked here
before anything parses the request and again by their routes; the browser signs in once at `/login`
and carries a session cookie (a random id with an expiry, HttpOnly, SameSite=Strict) until
`/logout` or the expiry. Wrong keys (at /login or as bearer tokens) are limited per client address
(Attempts): past the limit, 429 with Retry-After. Another origin never reads a response (no CORS
header reaches it) and may not use the session cookie at all. Bodies are checked at this door
too: text must be valid Unicode, and the chat's events may name only files that Gradio received
by upload."""
from __future__ import annotations

import hmac
import html
import json
import math
import re
import time
from collections import deque
from urllib.parse import parse_qs, quote, urlsplit

from qa import messages
from qa.faces.sessions import Sessions, runtime_dir

OPEN_PATHS = ("/healthz", "/login", "/logout")
BEARER_PATHS = ("/api/", "/mcp", "/v1/")  # clients send the key with each request: no cookie, no form
COOKIE = "qa_session"
JSON_BODY_LIMIT = 2 << 20  # a question with 50 turns of history fits many times over
UPLOAD_PATHS = ("/api/documents", "/gradio_api/upload")
FILES_PER_REQUEST = 4  # an upload request may carry this many files at the size limit (and more smaller ones)
GRADIO_EVENTS = "/gradio_api/"  # where the chat's events arrive (queue/join, run/*, call/*)
# A lone surrogate can only arrive as a JSON escape (raw, it is invalid UTF-8 and refused as such)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"SAMEORIGIN"),
    # Gradio's page sets its config in an inline script and styles inline; nothing is loaded from elsewhere
    (b"content-security-policy", b"default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
     b"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
     b"font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
     b"base-uri 'self'; form-action 'self'; frame-ancestors 'self'"),
]


_now = time.monotonic  # the clock wrong keys are timed by


class Attempts:
    """Wrong keys per client address: `limit` in a `window` of seconds, then every try from that
    address waits (wait() > 0) until its oldest wrong key is `window` old; others are unaffected."""

    def __init__(self, limit: int, window: float = 60.0):
        self.limit, self.window = limit, window
        self._wrong: dict[str, deque[float]] = {}

    def wait(self, address: str) -> int:
        """Whole seconds until `address` may try a key again (0: now)."""
        times = self._wrong.get(address)
        if not times:
            return 0
        now = _now()
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._wrong[address]
        if len(times) < self.limit:
            return 0
        return max(1, math.ceil(times[0] + self.window - now))

    def wrong(self, address: str) -> None:
        if len(self._wrong) > 10_000:  # a flood from many addresses: forget those that waited long enough
            now = _now()
            self._wrong = {a: t for a, t in self._wrong.items() if t and now - t[-1] < self.window}
        self._wrong.setdefault(address, deque()).append(_now())


def bearer_ok(authorization: str, api_key: str) -> bool:
    """`Authorization: Bearer <key>`, compared in constant time: the one check every face uses."""
    scheme, _, token = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), api_key.encode())


def _authorization(headers: dict[bytes, bytes]) -> str:
    return headers.get(b"authorization", b"").decode("latin-1")  # as Starlette decodes headers


def _address(scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def foreign_origin(headers: dict[bytes, bytes]) -> bool:
    """Whether the request comes from a page of another origin (its Origin is not this Host;
    "null" never is). Schemes are not compared: a proxy may end TLS in front of the server."""
    origin = headers.get(b"origin")
    if origin is None:
        return False
    host = headers.get(b"host", b"").decode("latin-1")
    return not host or _netloc(urlsplit(origin.decode("latin-1")).netloc) != _netloc(host)


def _netloc(value: str) -> str:
    value = value.strip().lower()
    return value.removesuffix(":80").removesuffix(":443")


def _cookie(headers: dict[bytes, bytes]) -> str:
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return ""


def unicode_problem(body: bytes) -> str | None:
    """Why a JSON body cannot be taken as text (a lone surrogate is not a Unicode scalar value),
    or None. Only bodies holding a surrogate escape are parsed here."""
    if not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "body: text holds a lone surrogate (\\ud800-\\udfff), which is not valid Unicode"
    except ValueError:
        return None  # not JSON: the route says so in its own words
    return None


def foreign_files(body: bytes, received) -> list[str]:
    """Paths in a chat event's body that are not files Gradio itself received by upload: every
    object with a `path` (Gradio's FileData) must name one. `received(path)` says whether it did."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    found: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            path = value.get("path")
            if path is not None and not (isinstance(path, str) and not _CONTROL.search(path) and received(path)):
                found.append(str(path))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return found


class Guard:
    """ASGI middleware: key, sessions, body size and text, chat-event files, headers.
    `upload_limit` is the per-file upload limit; `received(path)` tells a file Gradio received by
    upload from any other path (None: no chat mounted, so no event may name a file)."""

    def __init__(self, app, api_key: str | None, upload_limit: int, received=None, session_hours: float = 12.0,
                 key_tries_per_minute: int = 10):
        self.app, self.api_key, self.upload_limit = app, api_key, upload_limit
        self.received = received or (lambda path: False)
        self.sessions = Sessions(runtime_dir(), session_hours * 3600) if api_key else None
        self.attempts = Attempts(key_tries_per_minute)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        headers = dict(scope.get("headers") or [])
        if self.api_key and path == "/login" and scope["type"] == "http":
            return await self._login(scope, receive, send)
        if self.api_key and path == "/logout" and scope["type"] == "http":
            return await self._logout(scope, send, headers)
        if self.api_key and path not in OPEN_PATHS and await self._key_refused(scope, send, path, headers):
            return None
        if self.api_key and not self._allowed(path, headers):
            return await self._refuse(scope, receive, send, path, headers)
        limit = self._body_limit(path)
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await _reply(send, 413, f"request body of {int(declared):,} bytes is over the limit of "
                                           f"{limit:,} for {path}", path)
        writes = scope.get("method") in ("POST", "PUT", "PATCH")
        if scope["type"] == "http" and writes and not path.startswith(UPLOAD_PATHS):
            return await self._inspected(scope, receive, send, limit)
        return await self._bounded(scope, receive, send, limit)

    async def _key_refused(self, scope, send, path: str, headers: dict[bytes, bytes]) -> bool:
        """Refuses (and says so) a bearer key from an address past its wrong keys, counting a wrong
        one; and a request from another origin that would sign in with the session cookie."""
        authorization = _authorization(headers)
        if authorization:
            wait = self.attempts.wait(_address(scope))
            if wait:
                await self._too_many(scope, send, path, wait)
                return True
            if bearer_ok(authorization, self.api_key or ""):
                return False
            self.attempts.wrong(_address(scope))
        if not foreign_origin(headers):
            return False
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await _reply(send, 403, messages.CROSS_ORIGIN, path)
        return True

    async def _too_many(self, scope, send, path: str, wait: int) -> None:
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        await _reply(send, 429, messages.too_many_tries(wait), path, [(b"retry-after", str(wait).encode())],
                     code="rate_limit_exceeded")

    def _allowed(self, path: str, headers: dict[bytes, bytes]) -> bool:
        """The key before anything reads the request: /api, /mcp and /v1 take only the bearer key;
        pages and the chat's events take it or a live session."""
        if path in OPEN_PATHS:
            return True
        if self.api_key and bearer_ok(_authorization(headers), self.api_key):
            return True
        return (not path.startswith(BEARER_PATHS) and self.sessions is not None
                and self.sessions.valid(_cookie(headers)))

    def _body_limit(self, path: str) -> int:
        if path.startswith(UPLOAD_PATHS):
            return self.upload_limit * FILES_PER_REQUEST + (1 << 20)
        return JSON_BODY_LIMIT

    async def _refuse(self, scope, receive, send, path, headers):
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        wants_page = scope.get("method") == "GET" and b"text/html" in headers.get(b"accept", b"")
        if wants_page:
            target = path + (("?" + scope["query_string"].decode("latin-1")) if scope.get("query_string") else "")
            return await _redirect(send, "/login?next=" + quote(target, safe=""))
        return await _reply(send, 401, "missing or wrong API key: sign in at /login or send "
                                       "Authorization: Bearer <key>", path, [(b"www-authenticate", b"Bearer")],
                            code="invalid_api_key")

    async def _login(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if scope.get("method") != "POST":
            note = "You signed out." if query.get("signed_out") else ""
            return await _page(send, 200, _login_page(safe_next(query.get("next", ["/"])[0]), "", note))
        body = b""
        while len(body) <= JSON_BODY_LIMIT:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        form = parse_qs(body.decode("utf-8", "replace"))
        given, target = form.get("key", [""])[0], safe_next(form.get("next", ["/"])[0])
        address = _address(scope)
        wait = self.attempts.wait(address)
        if wait:  # the key is not even compared: a right one must not tell itself apart
            return await _page(send, 429, _login_page(target, messages.too_many_tries(wait).capitalize() + "."),
                               [(b"retry-after", str(wait).encode())])
        if not hmac.compare_digest(given.encode(), self.api_key.encode()):
            self.attempts.wrong(address)
            return await _page(send, 401, _login_page(target, "That key is not the server's API key."))
        lifetime = int(self.sessions.lifetime)
        cookie = (f"{COOKIE}={self.sessions.start()}; Path=/; Max-Age={lifetime}; HttpOnly; SameSite=Strict"
                  + _secure(scope))
        return await _redirect(send, target, [(b"set-cookie", cookie.encode())])

    async def _logout(self, scope, send, headers):
        """Ends the session server-side (the cookie is worthless from now on, wherever it was copied)."""
        self.sessions.end(_cookie(headers))
        cookie = f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + _secure(scope)
        return await _redirect(send, "/login?signed_out=1", [(b"set-cookie", cookie.encode())])

    async def _inspected(self, scope, receive, send, limit: int):
        """A body read whole (it is small: JSON and forms) and checked before the app sees it:
        text must be valid Unicode, and a chat event may name only files Gradio received."""
        path, chunks, size = scope.get("path", ""), [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                return await _reply(send, 413, f"request body is over the limit of {limit:,} bytes", path)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        problem = unicode_problem(body)
        if problem:
            return await _reply(send, 400 if path.startswith("/v1/") else 422, problem, path)
        if path.startswith(GRADIO_EVENTS):
            foreign = foreign_files(body, self.received)
            if foreign:
                return await _reply(send, 400, _refused_file(foreign[0]), path)
        replayed = {"done": False}

        async def replay():
            if not replayed["done"]:
                replayed["done"] = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self._bounded(scope, replay, send, limit)

    async def _bounded(self, scope, receive, send, limit: int):
        """Counts the body as it arrives; past the limit the app gets no more of it and the client a 413."""
        state = {"seen": 0, "over": False, "started": False}
        path = scope.get("path", "")
        foreign = foreign_origin(dict(scope.get("headers") or []))

        async def counted_receive():
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > limit:
                    state["over"] = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if message["type"] == "http.response.start":
                if state["over"]:
                    state["started"] = True
                    await _reply(send, 413, f"request body is over the limit of {limit:,} bytes", path)
                    return
                message = {**message, "headers": _with_security_headers(message.get("headers") or [], foreign)}
            elif message["type"] == "http.response.body" and state["started"]:
                return  # the app's own reply to a body cut short is replaced by the 413
            await send(message)

        try:
            await self.app(scope, counted_receive if scope["type"] == "http" else receive, guarded_send)
        except Exception:
            if not state["over"]:
                raise
            if not state["started"]:
                state["started"] = True
                await _reply(send, 413, f"request body is over the limit of {limit:,} bytes", path)


def _refused_file(path: str) -> str:
    if _CONTROL.search(path):
        return messages.control_character("file path", path)
    return f"refused: {messages.echo(path)} is not a file uploaded to this server"


def _secure(scope) -> str:
    return "; Secure" if scope.get("scheme") == "https" else ""


def _with_security_headers(headers: list, foreign: bool = False) -> list:
    """The security headers added; for a request from another origin, every CORS header the app
    (Gradio) set taken out: no other origin reads a response, with credentials or without."""
    if foreign:
        headers = [(name, value) for name, value in headers if not name.lower().startswith(b"access-control-")]
    present = {name.lower() for name, _ in headers}
    return list(headers) + [(name, value) for name, value in SECURITY_HEADERS if name not in present]


def safe_next(target: str) -> str:
    """Only a path on this server: browsers drop tabs and line breaks from a URL and read a
    backslash as a slash, so those are normalised first; then no scheme, no host and no leading
    `//` may remain, or the target is "/". The result is percent-encoded (a header stays one line)."""
    cleaned = _CONTROL.sub("", target).replace("\\", "/").strip()
    parts = urlsplit(cleaned)
    if not cleaned.startswith("/") or cleaned.startswith("//") or parts.scheme or parts.netloc:
        return "/"
    return quote(cleaned, safe="/?&=%#:@!$'()*+,;~-._")


async def _reply(send, status: int, message: str, path: str, extra: list | None = None,
                 code: str | None = None) -> None:
    """A one-line error in the shape of the face that was asked: OpenAI's under /v1, else {"detail"}."""
    if path.startswith("/v1/"):
        kind = code or ("server_error" if status >= 500 else "invalid_request_error")
        payload: dict = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    else:
        payload = {"detail": message}
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status,
                "headers": _with_security_headers(headers + (extra or []))})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send, target: str, extra: list | None = None) -> None:
    headers = [(b"location", target.encode("latin-1", "replace")), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 303,
                "headers": _with_security_headers(headers + (extra or []))})
    await send({"type": "http.response.body", "body": b""})


async def _page(send, status: int, page: str, extra: list | None = None) -> None:
    body = page.encode()
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store")] + (extra or [])
    await send({"type": "http.response.start", "status": status, "headers": _with_security_headers(headers)})
    await send({"type": "http.response.body", "body": body})


def _login_page(target: str, error: str, note: str = "") -> str:
    problem = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""
    problem += f"<p class='note' role='status'>{html.escape(note)}</p>" if note else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in · corpus QA</title>
<style>body{{font-family:system-ui,sans-serif;max-width:26em;margin:12vh auto;padding:0 1em}}
input,button{{font-size:1em;padding:.5em;width:100%;box-sizing:border-box;margin:.3em 0}}
.error{{color:#b00020}}</style></head><body>
<h1>corpus QA</h1><p>This server asks for its API key.</p>{problem}
<form method="post" action="/login"><input type="hidden" name="next" value="{html.escape(target)}">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" autofocus required>
<button type="submit">Sign in</button></form></body></html>"""
