# veilscan: two commands on a fresh machine.
#   make demo   create .venv, start the embedded stack, scan the demo archive
#   make test   create .venv, run the test suite (starts and stops its own stack)
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
# torch first, pinned to the CPU build on this machine's disk; pyproject only asks torch>=2.4
# so GPU users keep their own build.
TORCH  ?= torch==2.13.0

.PHONY: venv demo test lint down bench clean

$(BIN)/veilscan: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[dev,calibrate]"
	touch $(BIN)/veilscan

venv: $(BIN)/veilscan

demo: venv
	$(BIN)/veilscan demo

test: venv
	$(BIN)/pytest -q

lint: venv
	$(BIN)/ruff check .

down: venv
	$(BIN)/veilscan down

bench: venv
	$(BIN)/python bench/finder.py

clean:
	-$(BIN)/veilscan down
	rm -rf .state
