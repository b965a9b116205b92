# skillyard: `make run` starts the assistant, `make test` runs every check.
# Both are idempotent: they (re)install only what changed.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

# llama.cpp: the default native build crashes in `decode` on common VMs; build
# a portable CPU binary, and skip the multimodal/example targets we never use.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(PYTHON)
export UV_NO_PROGRESS := 1
# Root may need sudo-less apt; everyone else gets sudo if there is one.
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

.PHONY: install install-test run test lint typecheck pytest bench clean system-deps browser-deps

install: $(VENV)/.runtime-installed system-deps

install-test: $(VENV)/.test-installed system-deps browser-deps

run: install
	$(BIN)/skillyard serve

test: install-test lint typecheck pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest -q

# Every benchmark, one after the other (about 15 minutes on two cores; the first run of
# skill_discovery also distils its word vectors, about two more).
bench: install-test
	$(BIN)/python bench/gateway_roundtrip.py
	$(BIN)/python bench/brain_overhead.py
	$(BIN)/python bench/context_memory.py
	$(BIN)/python bench/skill_discovery.py --cache $(VENV)/.bench-cache
	$(BIN)/python bench/registry.py
	$(BIN)/python bench/corpus_report.py

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.runtime-installed: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --inexact --extra local --extra embeddings
	touch $@

$(VENV)/.test-installed: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --inexact --extra local --extra embeddings --group dev
	touch $@ $(VENV)/.runtime-installed

# bubblewrap isolates skill scripts; without it they run with rlimits only.
system-deps:
	@command -v bwrap >/dev/null || { \
	  if command -v apt-get >/dev/null; then \
	    $(SUDO) apt-get install -y --no-install-recommends bubblewrap >/dev/null \
	      || { $(SUDO) apt-get update >/dev/null && $(SUDO) apt-get install -y --no-install-recommends bubblewrap >/dev/null; } \
	      || echo "warning: could not install bubblewrap; skill scripts will run without isolation"; \
	  else echo "warning: install bubblewrap (bwrap) to isolate skill scripts"; fi; }

# Browser tests use Debian's chromium where there is one, else Playwright's own.
browser-deps:
	@command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || { \
	  if command -v apt-get >/dev/null; then \
	    $(SUDO) apt-get install -y --no-install-recommends chromium >/dev/null \
	      || { $(SUDO) apt-get update >/dev/null && $(SUDO) apt-get install -y --no-install-recommends chromium >/dev/null; }; \
	  else $(BIN)/playwright install chromium; fi; }

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
