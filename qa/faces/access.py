"""What guards the whole server, below every face: the API key at the door of the web UI and the
source pages (the product's own sign-in), request bodies bounded while they stream in, and the
standard security headers on every response.

`/api`, `/mcp` and `/v1` keep their bearer checks (clients send the key with each request); the
browser signs in once at `/login` and carries a session cookie (HttpOnly, SameSite=Strict)."""
from __future__ import annotations

import hashlib
import hmac
import html
import json
from urllib.parse import parse_qs, quote

OPEN_PATHS = ("/healthz", "/login")
BEARER_PATHS = ("/api/", "/mcp", "/v1/")  # their routes check the bearer key themselves; anything else is checked here
COOKIE = "qa_session"
JSON_BODY_LIMIT = 2 << 20  # a question with 50 turns of history fits many times over
UPLOAD_PATHS = ("/api/documents", "/gradio_api/upload")
FILES_PER_REQUEST = 4  # an upload request may carry this many files at the size limit (and more smaller ones)

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


def session_token(api_key: str) -> str:
    """The cookie's value: derived from the key, so changing the key signs everyone out."""
    return hmac.new(api_key.encode(), b"corpus-qa browser session", hashlib.sha256).hexdigest()


def bearer_ok(authorization: str, api_key: str) -> bool:
    """`Authorization: Bearer <key>`, compared in constant time: the one check every face uses."""
    scheme, _, token = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), api_key.encode())


def _authorization(headers: dict[bytes, bytes]) -> str:
    return headers.get(b"authorization", b"").decode("latin-1")  # as Starlette decodes headers


def _cookie_ok(headers: dict[bytes, bytes], api_key: str) -> bool:
    cookies = headers.get(b"cookie", b"").decode("latin-1")
    expected = session_token(api_key).encode()
    for part in cookies.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and hmac.compare_digest(value.encode(), expected):
            return True
    return False


class Guard:
    """ASGI middleware: key, body size, headers. `upload_limit` is the per-file upload limit."""

    def __init__(self, app, api_key: str | None, upload_limit: int):
        self.app, self.api_key, self.upload_limit = app, api_key, upload_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        headers = dict(scope.get("headers") or [])
        if self.api_key and path == "/login" and scope["type"] == "http":
            return await self._login(scope, receive, send)
        if self.api_key and not self._allowed(path, headers):
            return await self._refuse(scope, receive, send, path, headers)
        limit = self._body_limit(path)
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await _reply(send, 413, {"detail": f"request body of {int(declared):,} bytes is over the "
                                                      f"limit of {limit:,} for {path}"})
        return await self._bounded(scope, receive, send, limit)

    def _allowed(self, path: str, headers: dict[bytes, bytes]) -> bool:
        if path in OPEN_PATHS or path.startswith(BEARER_PATHS):
            return True
        return bearer_ok(_authorization(headers), self.api_key) or _cookie_ok(headers, self.api_key)

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
        return await _reply(send, 401, {"detail": "missing or wrong API key: sign in at /login or send "
                                                  "Authorization: Bearer <key>"},
                            [(b"www-authenticate", b"Bearer")])

    async def _login(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if scope.get("method") != "POST":
            return await _page(send, 200, _login_page(_safe_next(query.get("next", ["/"])[0]), ""))
        body = b""
        while len(body) <= JSON_BODY_LIMIT:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        form = parse_qs(body.decode("utf-8", "replace"))
        given, target = form.get("key", [""])[0], _safe_next(form.get("next", ["/"])[0])
        if not hmac.compare_digest(given.encode(), self.api_key.encode()):
            return await _page(send, 401, _login_page(target, "That key is not the server's API key."))
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        cookie = f"{COOKIE}={session_token(self.api_key)}; Path=/; HttpOnly; SameSite=Strict{secure}"
        return await _redirect(send, target, [(b"set-cookie", cookie.encode())])

    async def _bounded(self, scope, receive, send, limit: int):
        """Counts the body as it arrives; past the limit the app gets no more of it and the client a 413."""
        state = {"seen": 0, "over": False, "started": False}

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
                    await _reply(send, 413, {"detail": f"request body is over the limit of {limit:,} bytes"})
                    return
                message = {**message, "headers": _with_security_headers(message.get("headers") or [])}
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
                await _reply(send, 413, {"detail": f"request body is over the limit of {limit:,} bytes"})


def _with_security_headers(headers: list) -> list:
    present = {name.lower() for name, _ in headers}
    return list(headers) + [(name, value) for name, value in SECURITY_HEADERS if name not in present]


def _safe_next(target: str) -> str:
    """Only a path on this server (no scheme, no host): the login cannot redirect elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


async def _reply(send, status: int, payload: dict, extra: list | None = None) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status,
                "headers": _with_security_headers(headers + (extra or []))})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send, target: str, extra: list | None = None) -> None:
    headers = [(b"location", target.encode("latin-1", "replace")), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 303, "headers": _with_security_headers(headers + (extra or []))})
    await send({"type": "http.response.body", "body": b""})


async def _page(send, status: int, page: str) -> None:
    body = page.encode()
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": _with_security_headers(headers)})
    await send({"type": "http.response.body", "body": body})


def _login_page(target: str, error: str) -> str:
    problem = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in · corpus QA</title>
<style>body{{font-family:system-ui,sans-serif;max-width:26em;margin:12vh auto;padding:0 1em}}
input,button{{font-size:1em;padding:.5em;width:100%;box-sizing:border-box;margin:.3em 0}}
.error{{color:#b00020}}</style></head><body>
<h1>corpus QA</h1><p>This server asks for its API key.</p>{problem}
<form method="post" action="/login"><input type="hidden" name="next" value="{html.escape(target)}">
<label for="key">API key</label><input id="key" name="key" type="password" autocomplete="current-password" autofocus required>
<button type="submit">Sign in</button></form></body></html>"""
