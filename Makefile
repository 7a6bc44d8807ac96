# backprop-lab — every target bootstraps what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0

.PHONY: setup lab course lessons test lint bench clean browser-deps

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[tf,jax,dev,lab]" "torch==2.13.0"
	touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) lessons/

course: setup
	$(BIN)/labkit run

lessons: setup
	$(BIN)/labkit build

lint: setup
	$(BIN)/ruff check labkit tests benchmarks datasets lessons/source
	$(BIN)/ruff format --check labkit tests benchmarks datasets

test: setup lint browser-deps
	$(BIN)/pytest --nbval --nbval-sanitize-with lessons/sanitize.cfg -m "not backend_notebooks" \
	  tests lessons
	KERAS_BACKEND=jax $(BIN)/pytest -q -m "backends or backend_notebooks" tests
	KERAS_BACKEND=torch OMP_NUM_THREADS=1 $(BIN)/pytest -q -m "backends or backend_notebooks" tests

# Debian's Chromium and chromedriver for tests/test_browser.py (a no-op when already installed).
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)
browser-deps:
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

bench: setup
	$(BIN)/python benchmarks/monitor_overhead.py
	$(BIN)/python benchmarks/course_time.py

clean:
	rm -rf $(VENV) build dist
