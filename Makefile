# Every target creates (once) and reuses the virtual environment .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export DATA_ROOT ?= ./data
export PYTHONDONTWRITEBYTECODE := 1

PROFILE ?= quick
DEVICE ?= auto
SUBMISSION ?= solution
TESTS ?= all
TIMEOUT ?= 60
# OUT's default depends on the target: build/deliverables or build/grade.

.PHONY: setup test lint skeleton check-skeleton notebooks deliverables manifest grade bench clean

setup: $(STAMP)

# Re-installs only when the pinned dependencies change.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > $(VENV)/requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check -r $(VENV)/requirements.txt
	@touch $(STAMP)

test: setup
	$(PY) -m ruff check .
	$(PY) tools/make_skeleton.py --check
	$(PY) tools/make_notebook.py --check
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check .

skeleton: setup
	$(PY) tools/make_skeleton.py
	$(PY) tools/make_notebook.py

check-skeleton: setup
	$(PY) tools/make_skeleton.py --check
	$(PY) tools/make_notebook.py --check

notebooks: setup
	$(PY) tools/make_notebook.py

manifest: setup
	$(PY) -m solution.manifest assets/deliverables.json

deliverables: setup manifest
	$(PY) -m solution.deliverables --profile $(PROFILE) --out $(or $(OUT),build/deliverables) --device $(DEVICE)

grade: setup
	$(PY) -m grader $(SUBMISSION) --out $(or $(OUT),build/grade) --tests $(TESTS) --device $(DEVICE) --timeout $(TIMEOUT)

bench: setup
	$(PY) tools/bench.py

clean:
	rm -rf build dist .pytest_cache .ruff_cache
