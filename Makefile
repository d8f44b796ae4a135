# Two commands on a fresh machine:  `make run` (main job on NEST) and `make test` (the test suite).
PYTHON ?= python3.12
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[dev,cuda]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/spikebridge run vogels_abbott_coba --backend nest --out runs/quickstart --overwrite

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check spikebridge tests benchmarks examples

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/run_all.py
