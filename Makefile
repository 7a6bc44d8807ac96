# backprop-lab — every target bootstraps what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The oldest Keras pyproject.toml allows, installed beside .venv for one extra test pass.
KERAS_FLOOR := $(shell sed -n 's/.*"keras>=\([0-9.]*\)".*/\1/p' pyproject.toml)
FLOOR       := $(VENV)/keras-floor
FLOOR_STAMP := $(FLOOR)/.installed-$(KERAS_FLOOR)
# On the floor, the lessons' exercise checks (public Keras API only, and the slowest tests) are
# skipped: the pass is for the code that touches Keras internals.
FLOOR_SKIP  := $(foreach n,1 2 3 4 5 6,--ignore=tests/test_lesson0$(n).py)
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
# The same matrix-product kernels on AVX2 and AVX-512 CPUs (see labkit/_setup.py, TF_ENV).
export ONEDNN_MAX_CPU_ISA := AVX2

.PHONY: setup lab course lessons test lint bench clean browser-deps sandbox-deps keras-floor

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[tf,jax,dev,lab]" "torch==2.13.0"
	touch $(STAMP)

# Keras is pure Python and its dependencies are already in .venv: PYTHONPATH=$(FLOOR) swaps it.
keras-floor: $(FLOOR_STAMP)

$(FLOOR_STAMP): $(STAMP)
	rm -rf $(FLOOR)
	$(BIN)/python -m pip install -q --no-deps --target $(FLOOR) "keras==$(KERAS_FLOOR)"
	touch $@

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) lessons/

course: setup
	$(BIN)/labkit run

lessons: setup
	$(BIN)/labkit build

lint: setup
	$(BIN)/ruff check labkit tests benchmarks datasets lessons/source
	$(BIN)/ruff format --check labkit tests benchmarks datasets

# Two pytest workers: much of the suite is single-threaded Python (Keras's fit loop, TensorFlow's
# tracing, kernel starts), so two processes keep both cores busy. --dist loadfile keeps a file's
# tests on one worker, so a notebook's cells run in order in one kernel.
XDIST := -n 2 --dist loadfile

test: setup lint browser-deps sandbox-deps keras-floor
	$(BIN)/pytest $(XDIST) --nbval --nbval-sanitize-with lessons/sanitize.cfg \
	  -m "not backend_notebooks" tests lessons
	PYTHONPATH=$(FLOOR) $(BIN)/pytest $(XDIST) -m backends $(FLOOR_SKIP) tests
	KERAS_BACKEND=jax $(BIN)/pytest $(XDIST) -q -m "backends or backend_notebooks" tests
	KERAS_BACKEND=torch OMP_NUM_THREADS=1 $(BIN)/pytest $(XDIST) -q \
	  -m "backends or backend_notebooks" tests

# Debian's Chromium and chromedriver for tests/test_browser.py (a no-op when already installed).
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)
browser-deps:
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

# Debian's bubblewrap, the sandbox of `labkit grade` (tests/test_sandbox.py); a no-op when present.
sandbox-deps:
	@command -v bwrap >/dev/null || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; }

bench: setup
	$(BIN)/python benchmarks/monitor_overhead.py
	$(BIN)/python benchmarks/monitor_memory.py
	$(BIN)/python benchmarks/course_time.py
	$(BIN)/python benchmarks/playground_speed.py

clean:
	rm -rf $(VENV) build dist
