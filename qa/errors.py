"""Domain errors: the library raises these; the CLI, API and UI turn them into one line."""


class QAError(Exception):
    """Base class: every message is one line a person can act on."""


class InputError(QAError):
    """The user's input (question, k, file, JSON) is not acceptable."""


class StoreMissingError(QAError):
    """No index exists where one was expected."""


class StoreMismatchError(QAError):
    """The index was built with another model or chunking, or is inconsistent."""


class StoreLockedError(QAError):
    """Another process is writing the store."""


class NotFoundError(QAError):
    """A document or chunk id that the store does not hold."""


class StoreDamagedError(StoreMismatchError):
    """A file of the index is missing, unreadable or garbage; the message names the repair."""


class UnsupportedTypeError(InputError):
    """A file of a type no reader handles."""


class TooLargeError(InputError):
    """A file or request over its size limit."""


class ConflictError(InputError):
    """The request clashes with what the store holds (e.g. a document id taken by another file)."""


class ServerBusyError(QAError):
    """More answers are waiting than the server lets wait: retry shortly."""


class UnsafeNameError(InputError):
    """A path, document id or file name holding NUL or another control character."""


class MissingExtraError(InputError):
    """An optional part (PostgreSQL, Ray, LangChain) used without its packages: the one line names
    the extra that brings them."""


# the module a missing import names -> (the extra that installs it, what needs it)
EXTRAS = {"psycopg": ("postgres", "a PostgreSQL store (--store-url, QA_STORE_URL)"),
          "pgvector": ("postgres", "a PostgreSQL store (--store-url, QA_STORE_URL)"),
          "ray": ("ray", "embedding on Ray (--ray-address)"),
          "langchain_core": ("langchain", "the LangChain retriever")}


def missing_extra(exc: ImportError) -> MissingExtraError | None:
    """The one line for an optional part's missing module, or None when the module is no extra's."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    if name not in EXTRAS:
        return None
    extra, what = EXTRAS[name]
    return MissingExtraError(f"{what} needs the [{extra}] extra, which is not installed: "
                             f"pip install 'corpus-qa[{extra}]' (in a clone: .venv/bin/pip install -e '.[{extra}]')")
