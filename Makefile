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
AUDIENCE ?= ta
# Whose API the submissions are written to (docs/dialects.md): auto detects it from each submission.
DIALECT ?= auto
# MAP=THEIRS=OURS[,...]: grade a submission's own names as the contract's (python -m grader --map).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# FIGURES: a folder holding figures/, losses/ and weights/ (make deliverables OUT=...) for `make grade` to judge
# instead of the submission's own; unset, the grader looks for figures/ in the submission.
# OUT's default depends on the target: build/deliverables or build/grade.

.PHONY: setup test test-unprivileged validity lint skeleton check-skeleton notebooks deliverables manifest mutation grade grade-all check student gradescope bench classifier reference-deliverables clean

setup: $(STAMP)

# Re-installs only when the pinned dependencies change.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > $(VENV)/requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check -r $(VENV)/requirements.txt
	@touch $(STAMP)

# The suite on every core (pytest-xdist, one torch thread a worker; tests/conftest.py orders the work
# longest first); build/junit.xml keeps each test's time for tools/test_durations.py.
test: setup
	$(PY) -m ruff check .
	$(PY) tools/make_skeleton.py --check
	$(PY) tools/make_notebook.py --check
	$(PY) -m pytest -q -n $(JOBS) --no-loadscope-reorder --junitxml=build/junit.xml
	@$(MAKE) --no-print-directory test-unprivileged

# As root (CI), the sandbox's tests once more as an ordinary user: the grader's non-root mode, where the
# worker's isolation comes from user namespaces (tools/unprivileged.py). With them, every case of the hostile
# corpus whose defence is the worker's confinement (tests/grader_fixtures/corpus.py: the others are defended
# by the grader's own code, the same in both modes); build/junit-unprivileged.xml feeds docs/validity.md.
UNPRIVILEGED_TESTS := tests/test_grader_sandbox.py \
	tests/test_dialect_adl.py::test_reference_gets_full_marks_and_says_how_it_was_graded \
	tests/test_dialect_cs180.py::test_reference_notebook_gets_full_marks \
	tests/test_dialect_flow.py::test_reference_notebook_gets_full_marks
test-unprivileged: setup
	@if [ "$$(id -u)" = 0 ]; then \
		$(PY) tools/unprivileged.py --writable build/junit-unprivileged.xml -- $(PY) -m pytest -q -n $(JOBS) \
			-p no:cacheprovider --junitxml=build/junit-unprivileged.xml $(UNPRIVILEGED_TESTS) \
			$$($(PY) -m tests.grader_fixtures.corpus --outside $(UNPRIVILEGED_TESTS)) && \
		$(PY) tools/validity.py --check; \
	else echo "test-unprivileged: make test ran as an ordinary user already (docs/validity.md is checked on a run as root)"; fi

# The catalog's power measured by cosmic-ray's operators (tools/mutation.py): every mutant of a marked solution
# region graded on the code's tests, the score into docs/validity.md. About an hour with JOBS=2 on 2 cores (1038
# mutants, 3.2 to 4.3 s each); fails when fewer than 95% of the non-equivalent mutants are killed. Not part of
# make test.
MUTATION_VENV := .venv-mutation
mutation: setup
	@test -x $(MUTATION_VENV)/bin/python || $(PYTHON) -m venv $(MUTATION_VENV)
	@$(PY) -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['mutation']))" > $(MUTATION_VENV)/requirements.txt
	$(MUTATION_VENV)/bin/python -m pip install -q --disable-pip-version-check -r $(MUTATION_VENV)/requirements.txt
	$(MUTATION_VENV)/bin/python tools/mutation.py generate
	$(PY) tools/mutation.py grade --fresh --jobs $(JOBS)
	$(PY) tools/mutation.py report

# docs/validity.md from the last make test run (as root: it also holds the ordinary-user pass).
validity: setup
	$(PY) tools/validity.py

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

# The reference (the default SUBMISSION) is graded with the quick deliverables shipped in
# assets/quick-deliverables/ unless FIGURES names others.
SHIPPED_FIGURES := $(if $(FIGURES),,$(if $(filter solution solution/,$(SUBMISSION)),assets/quick-deliverables))
GRADE_FIGURES := $(or $(FIGURES),$(SHIPPED_FIGURES))
grade: setup
	@$(if $(SHIPPED_FIGURES),echo "make grade: the reference's figures are its quick deliverables shipped in \
	$(SHIPPED_FIGURES)/ (make reference-deliverables rebuilds them; FIGURES=<dir> grades others)")
	$(PY) -m grader $(SUBMISSION) --out $(or $(OUT),build/grade) --tests $(TESTS) --device $(DEVICE) --timeout $(TIMEOUT) --audience $(AUDIENCE) --dialect $(DIALECT)$(if $(MAP), --map $(MAP))$(if $(GRADE_FIGURES), --figures $(GRADE_FIGURES))

# A whole class: every folder, .zip and .ipynb in SUBMISSIONS, JOBS at a time; reruns skip what is graded.
grade-all: setup
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade-all SUBMISSIONS=<folder of submissions> OUT=<dir> [JOBS=n]" >&2; exit 2; }
	$(PY) -m grader.batch $(SUBMISSIONS) --out $(or $(OUT),build/class) --jobs $(JOBS) --tests $(TESTS) \
		--device $(DEVICE) --timeout $(TIMEOUT) --dialect $(DIALECT)$(if $(MAP), --map $(MAP))

# The students' self-check (what student.zip ships), here run on the skeleton unless CHECK names a folder.
check: setup
	$(PY) student/check.py $(or $(CHECK),skeleton)

# dist/student.zip: what students get; dist/autograder.zip: Gradescope's autograder.
student: setup
	$(PY) tools/make_student.py --out dist/student.zip

gradescope: setup
	$(PY) tools/make_gradescope.py --out dist/autograder.zip --dialect $(DIALECT)

classifier: setup
	$(PY) tools/train_classifier.py

# The reference's quick deliverables shipped in assets/quick-deliverables/, trained afresh (about 12 minutes
# on 2 cores); `make test` says when the reference changed and they must be rebuilt.
reference-deliverables: setup
	$(PY) tools/deliverables_cache.py --ship --jobs $(JOBS)

# The quick deliverables are made once (about 13 minutes on 2 cores) and reused; grading a class of
# 50 takes about 20 minutes on 2 cores; with a GPU the
# full profile is measured too (a GPU job of about 12 minutes).
QUICK := build/deliverables-quick
FULL := build/deliverables-full
bench: setup
	test -f $(QUICK)/timings.json || $(PY) -m solution.deliverables --profile quick --out $(QUICK) --quiet --device cpu
	$(PY) tools/bench.py --figures $(QUICK)
	$(PY) tools/bench_throughput.py --profile quick --device cpu
	$(PY) tools/bench_quality.py --deliverables $(QUICK) --profile quick --device cpu
	$(PY) tools/bench_batch.py --count 50 --jobs $(JOBS)
	if $(PY) -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then \
		test -f $(FULL)/timings.json || $(PY) -m solution.deliverables --profile full --out $(FULL) --quiet --device cuda; \
		$(PY) tools/bench.py --device cuda --figures $(FULL) && \
		$(PY) tools/bench_throughput.py --profile full --device cuda && \
		$(PY) tools/bench_quality.py --deliverables $(FULL) --profile full --device cuda; fi

clean:
	rm -rf build dist .pytest_cache .ruff_cache
