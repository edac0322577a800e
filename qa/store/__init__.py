"""Where the index lives: the store interface (base) and its backends (local folder, PostgreSQL)."""
from __future__ import annotations

from qa.store.base import StoreBackend, StoreReader


def open_backend(settings) -> StoreBackend:
    """The backend the settings name: PostgreSQL + pgvector when store_url is set, else the folder."""
    if settings.store.store_url:
        from qa.errors import missing_extra

        try:
            import pgvector  # noqa: F401  (the [postgres] extra, with psycopg)
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise (missing_extra(exc) or exc) from None
        from qa.store.postgres import PostgresBackend

        return PostgresBackend(settings.store.store_url, settings.store.pg_ef_search)
    from qa.store.local import LocalBackend

    return LocalBackend(settings.store.store_dir, settings.store.exact_search_max)


__all__ = ["StoreBackend", "StoreReader", "open_backend"]
