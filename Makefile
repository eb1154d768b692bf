# Two commands do all the set-up on a fresh machine:
#   make demo   -- create .venv from the pinned requirements if missing, run the demo
#   make test   -- the same environment, then the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmseg_be-installed

.PHONY: demo test venv clean-venv

venv: $(STAMP)

$(STAMP): requirements/cpu.txt requirements/tests.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 'setuptools>=77.0.3,<82' wheel
	$(PY) -m pip install --quiet -r requirements/cpu.txt -r requirements/tests.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(PY) tools/demo.py $(DEMO_ARGS)

# Two pytest workers (pytest-xdist): most tests wait on one single-threaded
# subprocess, so two share a 2-core machine well.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
