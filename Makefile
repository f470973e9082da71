# newsfacet: `make run` sets everything up and serves; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
# One environment per interpreter: .venv for the default 3.11 (what `make run` and `make test` use),
# .venv-3.12, .venv-3.13 ... for others (`PYTHON=python3.12 make test`), so switching never reuses the wrong one.
PYVER := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV := $(if $(filter-out 3.11,$(PYVER)),.venv-$(PYVER),.venv)
PY := $(VENV)/bin/python
NEWSFACET := $(VENV)/bin/newsfacet
INDEX ?= index
SHARED ?= $(or $(NEWSFACET_SHARED),../shared)
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: install run index test test-long test-fast screenshot eval train bench bench-quick browser-deps opensearch-deps clean

$(STAMP): pyproject.toml
	@[ -n "$(PYVER)" ] || { echo "Python 3.11 or newer is needed and $(PYTHON) does not run; set PYTHON to one that does (PYTHON=/path/to/python3.12)"; exit 1; }
	@if [ -x $(PY) ] && [ "$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$(PYVER)" ]; then \
		echo "$(VENV) was made by another Python; making it again with $(PYTHON) ($(PYVER))"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,opensearch,dask]'
	@touch $(STAMP)

install: $(STAMP)

# The benchmark's peers (SQLite FTS5 through sqlite-utils, Tantivy): the `bench` extra, only for make bench*.
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench,opensearch]'
	@touch $(BENCH_STAMP)

index: install
	@if [ -f "$(INDEX)/CURRENT" ]; then echo "Index $(INDEX)/ exists (rebuild with: $(NEWSFACET) rebuild seeds/)"; \
	else $(NEWSFACET) --index $(INDEX) rebuild seeds/; fi

run: index
	$(NEWSFACET) --index $(INDEX) stats
	$(NEWSFACET) --index $(INDEX) serve --host 127.0.0.1 --port 5000

browser-deps:
	bash scripts/install-chromium.sh

# Java 17 and Maven when missing, and OpenSearch from Maven Central into ~/.m2 (the OpenSearch backend's tests).
opensearch-deps:
	bash scripts/opensearch.sh deps

test: install browser-deps opensearch-deps
	NEWSFACET_SHARED=$(SHARED) $(PY) -m pytest -q -m "not long"

# Suites too slow for `make test` (longer property runs, real installs, clusters); .ci/run runs both.
test-long: install browser-deps opensearch-deps
	NEWSFACET_SHARED=$(SHARED) NEWSFACET_HYPOTHESIS=long $(PY) -m pytest -q -m long

test-fast: install
	NEWSFACET_SHARED=$(SHARED) $(PY) -m pytest -q -m "not browser and not slow and not long"

# The README's picture, on purpose (tests write theirs to tests/.out/, which git ignores).
screenshot: install browser-deps
	NEWSFACET_SHARED=$(SHARED) NEWSFACET_SCREENSHOT=$(CURDIR)/docs/screenshot.png $(PY) -m pytest -q \
		tests/test_browser.py -k test_screenshot_search_with_speaker_filter

# Attribution figures on every annotated set, side by side (bench/eval_quotes.py says what each column is),
# then the People facet on GGT dev and cross-validated (bench/eval_people.py).
eval: install
	@mkdir -p bench/out
	$(PY) bench/eval_quotes.py --all --gold $(SHARED)/eval/quotes-dev.jsonl --json bench/out/eval.json
	$(PY) bench/eval_people.py --gold $(SHARED)/eval/quotes-dev.jsonl

# Retrain the attribution models in search/data (source ranker from $(SHARED)/polnear/train, confidence from
# $(SHARED)/eval) with NumPy alone; make test never trains.
train: install
	$(PY) bench/train_attribution.py --shared $(SHARED)

# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS="--only peers" (see bench/README.md).
bench-quick: $(BENCH_STAMP)
	NEWSFACET_SHARED=$(SHARED) $(PY) bench/run.py --quick $(BENCH_ARGS)

bench: $(BENCH_STAMP)
	NEWSFACET_SHARED=$(SHARED) $(PY) bench/run.py --full --write bench/RESULTS.md $(BENCH_ARGS)

clean:
	rm -rf .venv .venv-* bench/out .pytest_cache tests/.out
