"""Browser sessions after sign-in: a random id per sign-in with an expiry, kept server-side so that
`/logout` ends it and nothing about it can be derived from the key.

The table lives in a small SQLite file (stdlib, safe across the uvicorn worker processes of one
server, which all see the same folder); only a hash of each id is stored, so the file alone signs
nobody in. Ids are compared by that hash in SQL, not character by character in Python."""
from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

RUNTIME_DIR_ENV = "QA_RUNTIME_DIR"  # set by the first process, inherited by the workers it starts


def runtime_dir() -> Path:
    """A private folder (0700) for this server's sessions and the chat's uploads, shared by its
    worker processes and by nobody else on the machine."""
    folder = os.environ.get(RUNTIME_DIR_ENV)
    if not folder:
        folder = tempfile.mkdtemp(prefix="corpus-qa-")
        os.environ[RUNTIME_DIR_ENV] = folder
    path = Path(folder)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class Sessions:
    def __init__(self, folder: Path, lifetime_seconds: float):
        self.path, self.lifetime = folder / "sessions.sqlite3", lifetime_seconds
        self._local = threading.local()
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS sessions (digest TEXT PRIMARY KEY, expires REAL NOT NULL)")

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
        return db

    def start(self) -> str:
        """A new session's token (the cookie's value); expired sessions are dropped on the way."""
        token, now = secrets.token_urlsafe(32), time.time()
        db = self._db()
        db.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
        db.execute("INSERT INTO sessions VALUES (?, ?)", (_digest(token), now + self.lifetime))
        return token

    def valid(self, token: str) -> bool:
        if not token or len(token) > 128:
            return False
        row = self._db().execute("SELECT expires FROM sessions WHERE digest = ?", (_digest(token),)).fetchone()
        return bool(row) and row[0] > time.time()

    def end(self, token: str) -> None:
        self._db().execute("DELETE FROM sessions WHERE digest = ?", (_digest(token),))
