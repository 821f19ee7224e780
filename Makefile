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

.PHONY: demo test test-slow setup clean gpu-prepare gpu-import

# The demo needs the core and one backend (JAX: the smallest CPU install); the tests need
# all three backends and the evaluation and test tools.
DEMO_BACKEND ?= jax

# Installs go through uv, configured as pip is (tools/uv_install.py says why: 2–3× faster here).
$(VENV)/.demo: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt uv
	$(PY) tools/uv_install.py -q -c constraints.txt -e ".[demo]"
	touch $@

$(VENV)/.installed: $(VENV)/.demo
	$(PY) tools/uv_install.py -q -c constraints.txt -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

demo: $(VENV)/.demo
	KERAS_BACKEND=$(DEMO_BACKEND) $(PY) -m keras_dae demo --out outputs/demo.png

test: $(VENV)/.installed
	$(PY) tests/run_backends.py

test-slow: $(VENV)/.installed
	$(PY) tests/run_backends.py -m slow

# A lent GPU machine (zoo/train_gpu.sh) has no keras and no network: bring the wheels keras
# needs beyond what it has (for its Python 3.12) and the MNIST file.
GPU_WHEELS := keras==$(shell $(PY) -c "import keras; print(keras.__version__)" 2>/dev/null) namex optree
gpu-prepare: $(VENV)/.installed
	rm -rf .whl && $(PY) -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
	  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
	  --platform manylinux2014_x86_64 -d .whl $(GPU_WHEELS)
	mkdir -p .gpu-data/mnist && cp $(KERAS_DAE_DATA)/mnist/mnist.npz .gpu-data/mnist/
	@du -shc .whl .gpu-data --exclude=.git | tail -1 | sed 's/^/carried beside the working tree: /'

# Unpack what zoo/train_gpu.sh brought back: FILES=<folder holding <entry>.tar.gz>, where
# `__` in a file name stands for `/` in the entry's folder (unet-mnist-gauss__next).
gpu-import:
	@for f in $(FILES)/*.tar.gz; do e=$$(basename $$f .tar.gz | sed 's#__#/#g'); rm -rf zoo/$$e/checkpoint; \
	  tar -xzf $$f -C zoo/$$e && echo "zoo/$$e/checkpoint <- $$f"; done

clean:
	rm -rf $(VENV) outputs build dist *.egg-info
