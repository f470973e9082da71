# newsfacet: `make run` sets everything up and serves; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
NEWSFACET := $(VENV)/bin/newsfacet
INDEX ?= index
SHARED ?= $(or $(NEWSFACET_SHARED),../shared)
STAMP := $(VENV)/.installed

.PHONY: install run index test test-long test-fast eval bench bench-quick browser-deps clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

index: install
	@if [ -f "$(INDEX)/CURRENT" ]; then echo "Index $(INDEX)/ exists (rebuild with: $(NEWSFACET) rebuild seeds/)"; \
	else $(NEWSFACET) --index $(INDEX) rebuild seeds/; fi

run: index
	$(NEWSFACET) --index $(INDEX) stats
	$(NEWSFACET) --index $(INDEX) serve --host 127.0.0.1 --port 5000

browser-deps:
	bash scripts/install-chromium.sh

test: install browser-deps
	NEWSFACET_SHARED=$(SHARED) $(PY) -m pytest -q -m "not long"

# Suites too slow for `make test` (longer property runs, real installs, clusters); .ci/run runs both.
test-long: install browser-deps
	NEWSFACET_SHARED=$(SHARED) NEWSFACET_HYPOTHESIS=long $(PY) -m pytest -q -m long

test-fast: install
	NEWSFACET_SHARED=$(SHARED) $(PY) -m pytest -q -m "not browser and not slow and not long"

eval: install
	@mkdir -p bench/out
	$(NEWSFACET) enrich $(SHARED)/eval/quotes-dev.jsonl --no-text --output bench/out/quotes-dev.pred.jsonl
	$(PY) $(SHARED)/eval/score_quotes.py --gold $(SHARED)/eval/quotes-dev.jsonl --pred bench/out/quotes-dev.pred.jsonl

bench-quick: install
	NEWSFACET_SHARED=$(SHARED) $(PY) bench/run.py --quick

bench: install
	NEWSFACET_SHARED=$(SHARED) $(PY) bench/run.py --full --write bench/RESULTS.md

clean:
	rm -rf $(VENV) bench/out .pytest_cache
