"""The shared test helpers: every layer and model test goes through these.

In the spirit of Keras' own `run_layer_test` (keras/src/testing/test_case.py), without
importing any framework: each helper runs on whichever backend KERAS_BACKEND selected.
"""

import atexit
import contextlib
import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np

BACKENDS = ("jax", "tensorflow", "torch")
_NEXT_BACKEND = {"jax": "tensorflow", "tensorflow": "torch", "torch": "jax"}


def load_script(folder, name):
    """A repository script (`benchmarks/<name>.py`, `tools/<name>.py`) imported as a module."""
    import importlib.util

    path = pathlib.Path(__file__).resolve().parents[1] / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def backend():
    return keras.backend.backend()


def other_backend():
    """The backend a file saved here is reloaded under: the next installed one in a cycle,
    so that the three runs of the suite cover jax→tf, tf→torch and torch→jax (a machine
    without TensorFlow, such as the GPU machine of benchmarks/gpu.sh, pairs jax and torch)."""
    import importlib.util

    name = _NEXT_BACKEND[backend()]
    while importlib.util.find_spec(name) is None and name != backend():
        name = _NEXT_BACKEND[name]
    return name


def jit_for_tests():
    """`jit_compile` for the tests of what happens inside a compiled step (fresh corruption
    each step, seeds, schedules, a shared encoder): the step compiled as a user's `compile()`
    compiles it on a CPU, XLA on JAX and a `tf.function` graph on TensorFlow; eager on torch,
    whose inductor compile costs 12–40 s per model. TensorFlow's XLA compiles cost 3× the
    graph's here (five test_models tests: 29 s against 10 s, 2026-12-08) and are covered where
    they are the point: `xla_for_tests`, and the `jit_compile=True` smoke tests of
    test_layers and test_models (fresh draws each step under XLA on every backend)."""
    return backend() == "jax"


def xla_for_tests():
    """`jit_compile` for the tests that every layer and network trains under XLA, which is
    also Keras' "auto" on a GPU: JAX and TensorFlow (torch compiles only in its smoke tests).
    Tests that train for accuracy use Keras' default ("auto": XLA on JAX, none on a CPU-only
    TensorFlow), since TensorFlow's XLA steps of small models run 2–3× slower on CPU than its
    graph steps (the closed-form mixture's 2,340 steps: 29 ms against 10 ms each,
    2026-12-07)."""
    return backend() != "torch"


@contextlib.contextmanager
def optimized_xla():
    """JAX: programs compiled inside get XLA's full optimization (tests/conftest.py turns most
    of it off for the run, where compiling costs more than running); for the few tests whose
    programs run thousands of times. Elsewhere a no-op."""
    if backend() != "jax":
        yield
        return
    import jax

    before = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", False)
    try:
        yield
    finally:
        jax.config.update("jax_disable_most_optimizations", before)


def to_numpy(x):
    if isinstance(x, dict):
        return {k: to_numpy(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_numpy(v) for v in x)
    return keras.ops.convert_to_numpy(x)


def random_inputs(input_shape, seed=0, low=0.0, high=1.0):
    rng = np.random.default_rng(seed)
    if isinstance(input_shape, list):
        return [rng.uniform(low, high, size=s).astype("float32") for s in input_shape]
    return rng.uniform(low, high, size=input_shape).astype("float32")


def assert_config_roundtrip(layer):
    """get_config → from_config, and serialize → JSON → deserialize, keep the config."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    blob = json.dumps(keras.saving.serialize_keras_object(layer))
    revived = keras.saving.deserialize_keras_object(json.loads(blob))
    assert type(revived) is type(layer)
    assert revived.get_config() == config
    return revived


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_shape,
    tmp_path,
    call_kwargs=None,
    expected_output_shape=None,
    run_training=True,
    atol=0.0,
):
    """Checks one layer the way every keras_dae layer must behave.

    1. `get_config`/`from_config` and a JSON round-trip keep the config;
    2. a symbolic call (functional API) gives the expected shape;
    3. an eager call gives the same shape;
    4. one `fit` step of a model around the layer, compiled where affordable;
    5. `.keras` save and reload (safe mode, no custom objects) give equal outputs;
    6. the file reloads under another backend with outputs equal within 1e-6.

    Args:
        layer_cls: the layer class.
        init_kwargs: constructor arguments.
        input_shape: a shape with the batch, or a list of shapes for multi-input layers.
        tmp_path: pytest's `tmp_path`.
        call_kwargs: extra call arguments for the eager call.
        expected_output_shape: the shape the eager call must return (defaults to the
            input shape for single-input layers).
        run_training: whether to run the `fit` step (needs a single float input).
        atol: tolerance of the reload comparisons (1e-6 at least across backends).

    Returns:
        The layer built in step 3.
    """
    call_kwargs = call_kwargs or {}
    multi = isinstance(input_shape, list)
    if expected_output_shape is None and not multi:
        expected_output_shape = tuple(input_shape)
    layer = layer_cls(**init_kwargs)
    assert_config_roundtrip(layer)

    shapes = input_shape if multi else [input_shape]
    symbolic = [keras.Input(batch_shape=tuple(s)) for s in shapes]
    out = layer_cls(**init_kwargs)(symbolic if multi else symbolic[0])
    if expected_output_shape is not None:
        assert tuple(out.shape) == tuple(expected_output_shape), (out.shape, expected_output_shape)

    x = random_inputs(input_shape)
    y = layer(x, **call_kwargs)
    if expected_output_shape is not None:
        assert tuple(y.shape) == tuple(expected_output_shape)

    if run_training:
        inputs = keras.Input(shape=tuple(input_shape[1:]))
        h = layer_cls(**init_kwargs)(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1)(h))
        model.compile(optimizer="sgd", loss="mse", jit_compile=xla_for_tests())
        history = model.fit(x, np.zeros(x.shape[:-1] + (1,), "float32"), epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])

    model = keras.Model(symbolic if multi else symbolic[0], out)
    assert_saved_model_roundtrip(model, x, tmp_path, atol=atol)
    return layer


def assert_saved_model_roundtrip(model, inputs, tmp_path, atol=0.0, name="model.keras"):
    """Saves `model` to a `.keras` file, reloads it in safe mode with no custom objects,
    checks equal inference outputs here and under another backend; returns the reloaded
    model (one load per file: see the note in test_models)."""
    path = pathlib.Path(tmp_path) / name
    expected = to_numpy(model(inputs, training=False))
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    got = to_numpy(reloaded(inputs, training=False))
    np.testing.assert_allclose(got, expected, atol=atol, rtol=0)
    for a, b in zip(model.weights, reloaded.weights):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    assert_reloads_on_other_backend(path, inputs, expected, atol=max(atol, 1e-6))
    return reloaded


_WORKERS = {}


def _worker(backend_name):
    """The session's reload worker for `backend_name` (started on first use)."""
    proc = _WORKERS.get(backend_name)
    if proc is None or proc.poll() is not None:
        env = {**os.environ, "KERAS_BACKEND": backend_name, "PYTHONUNBUFFERED": "1"}
        root = pathlib.Path(__file__).resolve().parents[1]
        proc = subprocess.Popen(
            [sys.executable, str(root / "tests" / "reload_worker.py")],
            env={**env, "PYTHONPATH": str(root) + os.pathsep + env.get("PYTHONPATH", "")},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        _WORKERS[backend_name] = proc
        atexit.register(proc.kill)
    return proc


def assert_reloads_on_other_backend(path, inputs, expected, atol=1e-6, backend_name=None):
    """Reloads a `.keras` file in another process under another backend (KERAS_BACKEND is
    read at import) and compares its inference outputs with `expected`."""
    path = pathlib.Path(path)
    arrays = path.with_suffix(".io.npz")
    flat_inputs = inputs if isinstance(inputs, list) else [inputs]
    np.savez(arrays, expected=np.asarray(expected), **{f"x{i}": v for i, v in enumerate(flat_inputs)})
    request = {
        "path": str(path), "arrays": str(arrays), "num_inputs": len(flat_inputs),
        "multi": isinstance(inputs, list),
    }
    name = backend_name or other_backend()
    proc = _worker(name)
    proc.stdin.write(json.dumps(request) + "\n")
    proc.stdin.flush()
    line = proc.stdout.readline()
    assert line, f"the {name} reload worker died"
    answer = json.loads(line)
    assert answer["ok"], f"reload under {name} failed:\n{answer['error']}"
    assert answer["max_abs_diff"] <= atol, (
        f"reloaded under {name}: max abs difference {answer['max_abs_diff']} > {atol}"
    )


class CorruptionRecorder(keras.Model):
    """A tiny trainable model that keeps, in a non-trainable variable, the corrupted batch
    its corruption layer drew at the last training step. Read it at epoch ends (where
    JAX syncs its state back to the variables) to see what a compiled `fit` drew."""

    def __init__(self, corruption, input_shape, **kwargs):
        super().__init__(**kwargs)
        self.corruption = corruption
        self.dense = keras.layers.Dense(1)
        self.last = self.add_weight(
            shape=tuple(input_shape), initializer="zeros", trainable=False, name="last"
        )

    def call(self, x, training=False):
        x_tilde = self.corruption(x, training=training)
        if training:
            self.last.assign(x_tilde)
        return self.dense(x_tilde)


def record_corruptions(corruption_factory, x, epochs=3, jit_compile=None):
    """Trains a `CorruptionRecorder` for `epochs` steps (one batch per epoch) and returns
    the corrupted batch drawn at each step, shape `(epochs, *x.shape)`."""
    model = CorruptionRecorder(corruption_factory(), x.shape)
    model.compile(
        optimizer="sgd",
        loss="mse",
        jit_compile=jit_for_tests() if jit_compile is None else jit_compile,
    )
    draws = []
    log = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: draws.append(to_numpy(model.last))
    )
    y = np.zeros(x.shape[:-1] + (1,), "float32")
    model.fit(x, y, batch_size=len(x), epochs=epochs, verbose=0, shuffle=False, callbacks=[log])
    return np.stack(draws)
