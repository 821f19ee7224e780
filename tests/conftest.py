import atexit
import gc
import os
import pathlib
import shutil
import sys
import tempfile

# Tests compile hundreds of small XLA programs (JAX) and run each a few times: XLA's
# optimization passes cost more than they save there. With them off, test_ema and
# test_objective_edges took 24 s instead of 45 s on JAX (TensorFlow compiles XLA only where a
# test asks for it; torch does not read it); results agree within the tests' tolerances.
# JAX's own switch (XLA's level 0 and no expensive LLVM passes: test_layers and
# test_inpainting 161 s, as with XLA_FLAGS' level 0 alone, 164 s) can be turned back on where
# programs run thousands of times (tests/helpers.py::optimized_xla: test_closed_form took
# 55 s instead of 96 s, 2026-12-08). Set before JAX starts, inherited by the processes the
# tests start; a value already set is kept.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")

# XLA's flags (read by JAX and TensorFlow, inherited by the processes the tests start):
# - XLA's CPU backend emits its fusions through its older LLVM emitters instead of its MLIR
#   fusion emitters, which cost more to compile than the tests' few steps gain: test_layers,
#   test_closed_form and test_mixed_precision took 132 and 133 s instead of 186 and 167 s on
#   JAX (alternating runs), a small U-Net's first fit under TensorFlow's XLA 14.4 s instead
#   of 17.0 s (2026-12-08).
# - TensorFlow reads XLA's flags, not JAX's switch: its XLA compiles (the tests that layers
#   and networks train under XLA, tests/helpers.py::xla_for_tests) get level 0 from them, in
#   TensorFlow processes only (in a JAX process they would override optimized_xla): test_layers
#   and test_models took 171 and 174 s instead of 184 and 194 s (alternating runs, 2026-12-08).
_xla_flags = ["--xla_cpu_use_fusion_emitters=false"]
if os.environ.get("KERAS_BACKEND") == "tensorflow":
    _xla_flags += ["--xla_backend_optimization_level=0", "--xla_llvm_disable_expensive_passes=true"]
os.environ.setdefault("XLA_FLAGS", " ".join(_xla_flags))

# JAX: one on-disk compilation cache for the run, shared by its processes (tests/run_backends.py
# passes one folder to both JAX shards; the CLI runs, examples and workers the tests start inherit
# it). Many tests compile the same programs (the same small models, a child process re-running
# its parent's model): test_training and test_concurrency took 104 s instead of 136 s on JAX with
# a cache that starts empty, 2026-12-07. Every program is kept (JAX's default skips those that
# compile in under a second, i.e. all of ours). No size limit: with one, JAX reads every entry's
# access time on each write (a JAX shard took 824 s instead of ~430). Processes writing one entry
# at once are harmless: a reader that finds it half-written warns and compiles.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="keras-dae-tests-jax-")
    atexit.register(shutil.rmtree, os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")

import keras  # noqa: E402
import numpy as np
import pytest

import keras_dae  # noqa: E402

DATA_ROOT = pathlib.Path(os.environ.get("KERAS_DAE_DATA", pathlib.Path(__file__).parents[1] / ".." / "shared" / "data"))


def pytest_sessionstart(session):
    # The frameworks' modules live as long as the process: out of the collector's sight,
    # collections scan only what the tests create (a full collection over TensorFlow's
    # objects takes a second or more once a process has run a few hundred tests).
    gc.collect()
    gc.freeze()


def pytest_sessionfinish(session, exitstatus):
    session.config._keras_dae_exitstatus = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    # tests/run_backends.py's shards end here, once pytest has written its report and JUnit
    # file and run every cleanup it owns: the interpreter's own teardown of TensorFlow, JAX
    # and torch took 2–13 s a process (2026-12-07) and checks nothing.
    status = getattr(config, "_keras_dae_exitstatus", None)
    if os.environ.get("KERAS_DAE_TESTS_FAST_EXIT") == "1" and status is not None:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def pytest_report_header(config):
    return f"keras backend: {keras.backend.backend()}, keras {keras.__version__}, data: {DATA_ROOT}"


@pytest.fixture(autouse=True)
def _clean_keras_state():
    # Every test starts from the same weights whatever ran before it in the process
    # (initializers draw from the global seed state when not seeded).
    keras.utils.clear_session(free_memory=False)
    keras_dae.set_random_seed(0)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def mnist_path():
    path = DATA_ROOT / "mnist" / "mnist.npz"
    if not path.exists():
        pytest.skip(f"MNIST not found at {path}; set KERAS_DAE_DATA")
    return path


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A tiny recipe in a throwaway zoo, for the tests of `keras-dae train` (tests/recipe_sandbox.py)."""
    from tests.recipe_sandbox import make_sandbox

    yield from make_sandbox(tmp_path, monkeypatch)
