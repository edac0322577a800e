"""The REST API fuzzed from its own OpenAPI schema: no 500s, no tracebacks, whatever is sent."""
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

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
