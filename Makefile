# Two commands on a fresh machine: `make demo` (the end-to-end audit) and `make test`.
# Both create the virtual environment first when it is missing or out of date.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint install browser

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned to the CPU build that lies on disk, so nothing pulls a CUDA build.
	$(BIN)/pip install --quiet "torch==2.13.0"
	# torchvision pinned beside it: the newest one would pull torch 2.14 (a CUDA build).
	$(BIN)/pip install --quiet -e ".[dev,ray,hf,vision]" "torch==2.13.0" "torchvision==0.28.0"
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/deepaudit demo

# The browser tests (a real headless Chromium opening the reports and the dashboard) are
# left out of a plain `pytest` for speed; `make test`, and so CI, installs Debian's
# chromium when it is missing (and this user may) and runs them after the rest.
test: $(VENV)/.installed browser
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -m browser

# Debian's chromium for the browser tests, installed when missing and this user may.
browser:
	@if command -v chromium >/dev/null 2>&1; then \
		echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
			|| echo "chromium could not be installed: the browser tests will be skipped"; \
	else \
		echo "chromium is missing and cannot be installed here: the browser tests will be skipped"; \
	fi

lint: $(VENV)/.installed
	$(BIN)/ruff check deepaudit tests benchmarks
	$(BIN)/ruff format --check deepaudit tests benchmarks
