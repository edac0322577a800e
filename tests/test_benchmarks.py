"""The benchmarks' quick modes, so they cannot rot (timings are reported, never asserted)."""
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "bench"


@pytest.mark.skipif(not (SHARED / "heldout").exists(), reason="shared/bench data not beside the repo")
def test_perf_quick(tmp_path):
    from bench.perf import main

    main(["--quick", "--out", str(tmp_path)])
    results = json.loads((tmp_path / "perf-quick.json").read_text())
    assert results["ingest_torch"]["chunks"] > 0 and results["ingest_torch"]["ratio"] > 0
    assert [r["size"] for r in results["latency"]] == [1_000, 5_000]
    assert all(r["search"]["n"] > 0 for r in results["latency"])
    assert results["peer"]["ours"]["recall@10"] > 0.5 and results["peer"]["langchain"]["recall@10"] > 0.5
    assert "## 5. Peer: LangChain" in (tmp_path / "perf-quick.md").read_text()


def test_load_quick(tmp_path):
    from bench.load import main

    main(["--quick", "--out", str(tmp_path / "load.md")])
    text = (tmp_path / "load.md").read_text()
    assert "| steady | 32 |" in text and "answered normally again: **yes**" in text
