# Set-up and jobs. Every target creates the virtual environment when it is missing.
#   make demo   the main job: corrupt packaged MNIST digits with every corruption layer
#   make test   the test suite on TensorFlow, JAX and PyTorch (one process each)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Data for tests, benchmarks and training (read-only; never copied into the repo).
export KERAS_DAE_DATA ?= $(abspath ../shared/data)
# TensorFlow prints CPU-feature notices at import; keep the output readable.
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test test-slow setup clean

# The demo needs the core and one backend (JAX: the smallest CPU install); the tests need
# all three backends and the evaluation and test tools.
DEMO_BACKEND ?= jax

$(VENV)/.demo: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[demo]"
	touch $@

$(VENV)/.installed: $(VENV)/.demo
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

demo: $(VENV)/.demo
	KERAS_BACKEND=$(DEMO_BACKEND) $(PY) -m keras_dae demo --out outputs/demo.png

test: $(VENV)/.installed
	$(PY) tests/run_backends.py

test-slow: $(VENV)/.installed
	$(PY) tests/run_backends.py -m slow

clean:
	rm -rf $(VENV) outputs build dist *.egg-info
