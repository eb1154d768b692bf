# Two commands do all the set-up on a fresh machine:
#   make demo   -- create .venv from the pinned requirements if missing, run the demo
#   make test   -- the same environment, then the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmseg_be-installed

# torch comes from PyTorch's CPU wheel index: on PyPI, torch for Linux x86-64
# is the CUDA build with several GB of NVIDIA libraries. Another build:
#   make venv TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126
# TORCH_INDEX_URL= (empty) installs torch from wherever pip is configured to
# look. When the index does not answer within TORCH_PROBE_TIMEOUT seconds
# (no route to it, a proxy that drops it), torch comes from pip's default
# index instead, with a warning: never a hang.
TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
TORCH_PROBE_TIMEOUT ?= 10
TORCH_PIN := $(shell sed -n 's/^\(torch==[^ #]*\).*/\1/p' requirements/cpu.txt)
# Exit 0 if the index lists torch within the timeout (the request runs in a
# daemon thread, so a slow DNS lookup cannot outlast the timeout either).
define PROBE_TORCH_INDEX
import sys, threading, urllib.request
url, limit = sys.argv[1].rstrip('/') + '/torch/', float(sys.argv[2])
ok = []
def get():
    with urllib.request.urlopen(url, timeout=limit) as reply:
        reply.read(1)
        ok.append(reply.status == 200)
worker = threading.Thread(target=get, daemon=True)
worker.start()
worker.join(limit)
sys.exit(0 if ok == [True] else 1)
endef
export PROBE_TORCH_INDEX

.PHONY: demo test venv clean-venv torch-index-args

venv: $(STAMP)

# The pip arguments that choose torch's index (empty: pip's default), as a
# shell command: the venv recipe runs it, `make torch-index-args` shows it.
TORCH_INDEX_ARGS = if [ -z "$(strip $(TORCH_INDEX_URL))" ]; then \
	    :; \
	elif $(PYTHON) -c "$$PROBE_TORCH_INDEX" '$(TORCH_INDEX_URL)' '$(TORCH_PROBE_TIMEOUT)' 2>/dev/null; then \
	    echo '--index-url $(TORCH_INDEX_URL)'; \
	else \
	    echo 'warning: $(TORCH_INDEX_URL) could not be reached within $(TORCH_PROBE_TIMEOUT) s;' \
	        'installing $(TORCH_PIN) from the default index (on Linux x86-64 PyPI' \
	        'serves the CUDA build, several GB). Choose a reachable index with' \
	        'TORCH_INDEX_URL=URL.' >&2; \
	fi

torch-index-args:
	@$(TORCH_INDEX_ARGS)

$(STAMP): requirements/cpu.txt requirements/tests.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 'setuptools>=77.0.3,<82' wheel
	torch_args=$$($(TORCH_INDEX_ARGS)) && \
	    $(PY) -m pip install --quiet $$torch_args '$(TORCH_PIN)'
	$(PY) -m pip install --quiet -r requirements/cpu.txt -r requirements/tests.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(PY) tools/demo.py $(DEMO_ARGS)

# Two pytest workers (pytest-xdist): most tests wait on one single-threaded
# subprocess, so two share a 2-core machine well.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
