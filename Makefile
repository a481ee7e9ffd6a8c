# The README's two commands, `make demo` and `make test`, install what is missing first (ffmpeg from
# Debian's packages, Python packages into .venv), so they work on a fresh Debian machine as root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test system apt-lists browser bench corpus clean

# ffmpeg and a Python with venv support, from Debian's packages when missing
system:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg; }
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), sys.version' || \
	  { echo "introdetect needs Python >= 3.11 (set PYTHON=...)"; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip; }

# the tests' real recordings come from Debian packages (apt-get download): the package lists must be there
apt-lists:
	@apt-cache show singularity-music >/dev/null 2>&1 || apt-get update -qq

# the review page's browser test drives Debian's chromium (Playwright cannot download a browser here)
browser: apt-lists
	@test -x /usr/bin/chromium || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# the product, and beside it the evaluation tools (eval/: corpus generator, baselines, demo), both editable
$(VENV)/.base: pyproject.toml eval/pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e . -e ./eval
	touch $@

$(VENV)/.test: pyproject.toml eval/pyproject.toml $(VENV)/.base
	$(BIN)/pip install -q -e '.[test]' -e ./eval
	touch $@

demo: system apt-lists $(VENV)/.base
	$(BIN)/introdetect-eval demo --out demo-output

test: system apt-lists browser $(VENV)/.test
	$(BIN)/python -m pytest -q

bench: system apt-lists $(VENV)/.test
	@command -v fpcalc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libchromaprint-tools
	$(BIN)/python bench/bench_pipeline.py --write-docs

# the evaluation corpus (SIZE=tiny|small|full), from real recordings in Debian packages
SIZE ?= small
corpus: system apt-lists $(VENV)/.base
	$(BIN)/introdetect-eval corpus --size $(SIZE) --out bench/out/corpus-$(SIZE)

clean:
	rm -rf demo-output .pytest_cache
