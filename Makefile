# The two commands of the README: `make demo` and `make test`. Both install what is missing first
# (ffmpeg from Debian's packages, Python packages into .venv), so they work on a fresh Debian machine as root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CACHE := .cache

.PHONY: demo test system venv bench clean

system:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: system $(VENV)/.installed

demo: venv
	$(BIN)/introdetect demo --out demo-output

test: venv
	$(BIN)/python -m pytest -q

bench: venv
	$(BIN)/python bench/bench_pipeline.py

clean:
	rm -rf demo-output .pytest_cache
