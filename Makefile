# backprop-lab — every target bootstraps what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0

.PHONY: setup lab course lessons test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[tf,dev,lab]"
	touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab lessons/

course: setup
	$(BIN)/labkit run

lessons: setup
	$(BIN)/labkit build

lint: setup
	$(BIN)/ruff check labkit tests benchmarks datasets lessons/source
	$(BIN)/ruff format --check labkit tests benchmarks datasets

test: setup lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/monitor_overhead.py
	$(BIN)/python benchmarks/course_time.py

clean:
	rm -rf $(VENV) build dist
