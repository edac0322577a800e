"""A fresh install's first run and a one-off question (issue 46, item 5): the first ingest builds
no model (the default embedder's int8 model ships), and a cold `qa ask` loads only what a
question uses. Heavy libraries a question never uses are named by module; docs/measurements.md
has the times."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
# What a question never uses: torch (4 s to import; thinc under spaCy imports it when it can),
# transformers, bm25s and scipy (0.3 s; the index's postings are plain numpy), spaCy's command line
# (weasel, requests, httpx), the web app.
NEVER_FOR_A_QUESTION = ("torch", "transformers", "sentence_transformers", "bm25s", "scipy", "weasel", "httpx",
                        "gradio")
RUN = """
import json, sys
from pathlib import Path
from qa.engine import Engine
from qa.settings import load_settings
engine = Engine(load_settings(store_dir=Path(sys.argv[1])))
if sys.argv[2] == "ingest":
    result = {"added": engine.ingest([Path(sys.argv[3])]).added}
else:
    answer = engine.ask("Why didn't Putin meet Qalibaf?", as_of="2021-03-01")
    result = {"cited": [c.doc_id for c in answer.citations], "answer": answer.answer}
print(json.dumps({**result, "loaded": sorted(m for m in json.loads(sys.argv[4]) if m in sys.modules)}))
"""


def _run(tmp_path: Path, *args: str) -> dict:
    env = {**os.environ, "QA_CACHE_DIR": str(tmp_path / "cache"), "QA_SETTINGS_FILE": str(tmp_path / "absent.toml"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-c", RUN, str(tmp_path / "store"), *args,
                          json.dumps(NEVER_FOR_A_QUESTION)], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.slow
def test_a_first_ingest_builds_no_model_and_a_cold_question_loads_only_what_it_uses(tmp_path):
    ingest = _run(tmp_path, "ingest", str(SEEDS))
    assert ingest["added"] == 2 and "torch" not in ingest["loaded"]
    cache = tmp_path / "cache"
    assert not cache.exists() or not any(cache.iterdir())  # nothing exported on a fresh machine
    ask = _run(tmp_path, "ask", "-")
    assert ask["cited"] and "quarantine" in ask["answer"]  # the seeds' answer, from postings read without bm25s
    assert ask["loaded"] == []
