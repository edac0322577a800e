"""The REST API fuzzed from its own OpenAPI schema: no 500s, no tracebacks, whatever is sent."""
import tempfile
from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SEEDS
from qa.engine import Engine
from qa.faces.server import build_app
from qa.settings import Settings


def _app():
    # schemathesis collects operations at import time, so the store is built here, with the tiny embedder
    config = Settings(store_dir=Path(tempfile.mkdtemp(prefix="qa-fuzz-")) / "store", embedding_model="hash")
    Engine(config).ingest([SEEDS])
    return build_app(config)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    assert "Traceback" not in response.text


# -- what the schema does not generate: lone surrogates and wrong types where text belongs --------
odd_text = st.text(alphabet=st.characters(categories=("Cs", "Lu", "Ll", "Nd", "Zs", "Cc", "So")),
                   min_size=1, max_size=12)
wrong = st.one_of(st.integers(), st.none(), st.lists(st.integers(), max_size=2), st.booleans(),
                  st.floats(allow_nan=False), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
anything = st.one_of(odd_text, wrong)

BODIES = {
    "/api/ask": lambda v: {"question": v, "history": [{"role": "user", "content": v}]},
    "/api/search": lambda v: {"q": v, "k": 2, "filters": {"outlet": [v]}},
    "/api/verify": lambda v: {"citations": [{"n": 1, "doc_id": v, "start": 0, "end": 1, "quote": v}]},
    "/v1/chat/completions": lambda v: {"model": "corpus-qa", "messages": [{"role": "user", "content": v}]},
    "/v1/chat/completions#parts": lambda v: {"model": "corpus-qa",
                                              "messages": [{"role": "user", "content": [{"type": "text", "text": v}]}]},
    "/mcp": lambda v: {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": "ask", "arguments": {"question": v}}},
}


@given(route=st.sampled_from(sorted(BODIES)), value=anything)
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
def test_odd_text_and_wrong_types_are_client_errors_never_500(route, value):
    import json as _json

    client = _odd_client()
    body = _json.dumps(BODIES[route](value))  # ensure_ascii: a lone surrogate travels as \\udXXX
    response = client.post(route.split("#")[0], content=body, headers={
        "content-type": "application/json", "accept": "application/json, text/event-stream"})
    assert response.status_code < 500, (route, value, response.text[:300])
    assert "Traceback" not in response.text


_odd = {}


def _odd_client() -> TestClient:
    if "client" not in _odd:
        _odd["client"] = TestClient(_app()).__enter__()  # lifespan started: /mcp is up
    return _odd["client"]
