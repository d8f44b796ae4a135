# Two commands on a fresh machine:  `make run` (main job on NEST) and `make test` (the test suite).
PYTHON ?= python3.12
VENV := .venv
STAMP := $(VENV)/.installed
DOCS_BUILD := build/docs

.PHONY: install run test check lint bench docs

# GSL's headers and library (Debian's libgsl-dev): Brian2 integrates conductance-based cells with GSL's RKF45, as NEST
# does. Without them Brian2 falls back to rk4 and says so in each run's meta.json. Boost's and libltdl's headers
# (libboost-dev, libltdl-dev): NEST's headers include them, so compiling NESTML models into NEST modules needs them.
# The cuda-toolkit extra: NVIDIA's nvcc wheels (CUDA 13.0, about 270 MB in the venv), with which brian2:cuda compiles
# unless $CUDA_PATH names another CUDA toolkit; no GPU is needed to compile.
$(STAMP): pyproject.toml
	@dpkg -s libgsl-dev >/dev/null 2>&1 || (apt-get install -y -q libgsl-dev || (apt-get update -q && apt-get install -y -q libgsl-dev)) >/dev/null 2>&1 \
		|| echo "make install: could not install libgsl-dev; Brian2 will use rk4 where NEST uses GSL's RKF45" >&2
	@dpkg -s libboost-dev libltdl-dev >/dev/null 2>&1 || (apt-get install -y -q libboost-dev libltdl-dev || (apt-get update -q && apt-get install -y -q libboost-dev libltdl-dev)) >/dev/null 2>&1 \
		|| echo "make install: could not install libboost-dev and libltdl-dev; NESTML models cannot be compiled for NEST" >&2
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[dev,cuda,cuda-toolkit]"
	@# PyNN's NEST extension module, compiled once (~12 s); without it every `import pyNN.nest` reruns a failing CMake
	$(VENV)/bin/python -c "from spikebridge.backends.nest.pynn_extensions import main; raise SystemExit(main())" || true
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/spikebridge run vogels_abbott_coba --backend nest --out runs/quickstart --overwrite

# One pytest worker per core, a test file to a worker (module fixtures and cached measurements stay shared).
test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -n auto --dist loadfile

# The fast tier for the edit-test loop (under 3 minutes): no realistic-size network, no cross-simulator
# validation, no GPU, no Brian2 standalone compilation. `make test` (the full suite) is what CI runs.
FAST := not slow and not validation and not gpu and not compile

check: $(STAMP)
	$(VENV)/bin/python -m pytest -q -n auto --dist loadfile -m "$(FAST)"

# ruff (line length enforced), the layer contracts of .importlinter, and mypy on the package.
lint: $(STAMP)
	$(VENV)/bin/ruff check spikebridge tests benchmarks examples
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/run_all.py

# The API reference (docs/api, one page per module generated at build time) with warnings as errors, then every
# doctest in its docstrings (Sphinx's doctest builder, reusing the html build's doctrees). Writes
# $(DOCS_BUILD)/html/index.html.
docs: $(STAMP)
	rm -rf $(DOCS_BUILD) docs/api/generated
	$(VENV)/bin/python -m sphinx -b html -W --keep-going -q -d $(DOCS_BUILD)/doctrees docs/api $(DOCS_BUILD)/html
	$(VENV)/bin/python -m sphinx -b doctest -W --keep-going -q -d $(DOCS_BUILD)/doctrees docs/api $(DOCS_BUILD)/doctest
