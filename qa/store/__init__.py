"""Where the index lives: the store interface (base) and its backends (local folder)."""
from __future__ import annotations

from qa.store.base import StoreBackend, StoreReader


def open_backend(settings) -> StoreBackend:
    """The backend the settings name (today the local folder; a PostgreSQL one plugs in here)."""
    from qa.store.local import LocalBackend

    return LocalBackend(settings.store_dir, settings.exact_search_max)


__all__ = ["StoreBackend", "StoreReader", "open_backend"]
