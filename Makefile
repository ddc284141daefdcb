# Backprop Lab — `make run` starts the desktop trainer, `make test` runs lint + the whole test suite.
# Both create .venv and install the project (editable, with the dev extra) when needed.
PYTHON ?= python3
# CPU-only machines: `make run TORCH_INDEX=https://download.pytorch.org/whl/cpu` installs torch's CPU build first
TORCH_INDEX ?=
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test test-oldest lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(if $(TORCH_INDEX),$(PY) -m pip install -q torch --index-url $(TORCH_INDEX))
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) main.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# The suite against the oldest torch pyproject allows (CI runs it after `make test`).
OLDEST_TORCH := 2.13.0
OLD_VENV     := .venv-oldest
$(OLD_VENV)/.installed: pyproject.toml
	test -x $(OLD_VENV)/bin/python || $(PYTHON) -m venv $(OLD_VENV)
	$(OLD_VENV)/bin/python -m pip install -q --upgrade pip
	$(OLD_VENV)/bin/python -m pip install -q torch==$(OLDEST_TORCH) -e '.[dev]'
	touch $@

test-oldest: $(OLD_VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(OLD_VENV)/bin/python -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OLD_VENV) .pytest_cache .ruff_cache .hypothesis *.egg-info
