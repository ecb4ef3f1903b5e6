# Two commands set up everything on a fresh machine with Python 3.11 and make:
#   make repro   create .venv, install, run the DVC pipeline on raw/
#   make test    create .venv, install, run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install repro test lint clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The system pip (23.2) cannot resolve trafilatura's lxml[html-clean] extra: upgrade it first.
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# DVC runs each stage's `pipeline ...` command through the shell: put the venv first on PATH.
repro: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

test: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

clean-venv:
	rm -rf $(VENV)
