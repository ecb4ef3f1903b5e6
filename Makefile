# Two commands set up everything on a fresh machine with Python 3.11 and make:
#   make repro   create .venv, install, run the DVC pipeline on raw/
#   make test    create .venv, install, run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install bytecode repro test lint clean-venv chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The system pip (23.2) cannot resolve trafilatura's lxml[html-clean] extra: upgrade it first.
	$(BIN)/python -m pip install --quiet --upgrade pip
	# [ray] so that the tests comparing `--engine ray` with the local engine run in CI too.
	$(BIN)/python -m pip install --quiet -e ".[dev,ray]"
	touch $(STAMP)

install: $(STAMP) bytecode

# The package is installed editable, so pip does not byte-compile it, and where
# PYTHONDONTWRITEBYTECODE is set (this machine, many containers) every run would compile it from
# source again (about 80 ms of each `pipeline` process). compileall only rewrites what changed.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q pipeline benchmarks >/dev/null

# DVC runs each stage's `pipeline ...` command through the shell: put the venv first on PATH.
repro: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

# The report render test needs Chromium: install the Debian package where we may (root, apt-get);
# elsewhere that test skips itself, and this step never fails the build.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	  || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium not installable; report render test will skip"

test: install chromium
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

clean-venv:
	rm -rf $(VENV)
