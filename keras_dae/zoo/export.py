"""Export a denoiser for serving: ONNX (onnxruntime) or a TensorFlow SavedModel, through
Keras' own `model.export`.

What is exported is the model's `denoise` as one graph, not the raw network
(`serving_model`): its first input is the image batch `x`, `(N, H, W, C)` float32 in the
model's value range (H and W free for a fully convolutional network such as DnCNN, fixed
for the MNIST models: `model.example_shape`); a σ-conditioned model takes σ as its second
input, `sigma`, one value per image `(N,)`, in the units of the value range; the output is
the denoised batch, what `model.denoise(x, sigma=...)` returns (e.g. x − σ·ε̂ for a
σ-conditioned `ResidualDAE`, x − r̂ for a blind one, the network's output for a `DAE`).
An `InpaintingDAE` has nothing to denoise without a mask: its export is `model.inpaint`,
with the mask (1 where a pixel is missing, 0 elsewhere; shaped like `x`) as its second
input. The output is named `denoised` (`inpainted`) in the ONNX file; a SavedModel serves
it as `serve(x)`, or `serve([x, sigma])` / `serve([x, mask])`. What `denoise` adds around the
network is not in the graph: the input checks, σ estimation when σ is not given (σ is a
required input here), and tiling of very large images (whose output equals the whole-image
output anyway).

What each backend can export (Keras 3.15):

| format | tensorflow | jax | torch |
|---|---|---|---|
| `"onnx"` | through tf2onnx | through jax2onnx | torch.onnx's TorchScript exporter (free axes) |
| `"saved_model"` | yes | through jax2tf (needs TensorFlow) | only with torch_xla: refused here |

`pip install 'keras-dae[export]'` brings onnx, onnxruntime and tf2onnx; `[export-jax]` brings
jax2onnx instead (with JAX, Flax and Optax).

Example:

```python
from keras_dae.zoo.export import export

export("dncnn-bsd400-gauss", "dncnn.onnx")
session = onnxruntime.InferenceSession("dncnn.onnx")
clean = session.run(None, {"x": noisy, "sigma": np.full((len(noisy),), 25 / 255, "float32")})[0]
```
"""

import contextlib
import importlib.util
import logging
import os
import pathlib
import shutil
import tempfile
import warnings

import keras

FORMATS = ("onnx", "saved_model")
# Keras' names of the formats.
_KERAS_FORMATS = {"onnx": "onnx", "saved_model": "tf_saved_model"}
# What Keras' ONNX export imports on each backend besides onnx (torch: its own exporter).
_ONNX_CONVERTERS = {"tensorflow": ["tf2onnx"], "jax": ["jax2onnx"], "torch": []}
# Model files that are never a SavedModel folder.
_FILE_SUFFIXES = (".onnx", ".keras", ".h5", ".pb", ".tflite", ".pt", ".pt2", ".pth", ".npz", ".npy")


class _Denoise(keras.layers.Layer):
    """The model's inference call (`denoise` / `inpaint` without the checks) as one layer
    of the serving graph."""

    def __init__(self, model, **kwargs):
        super().__init__(**kwargs)
        self.denoiser = model
        self.built = True

    def call(self, inputs):
        return self.denoiser(inputs, training=False)

    def compute_output_spec(self, inputs):
        x = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        return keras.KerasTensor(x.shape, dtype="float32")


def serving_model(model):
    """The functional model that an export serves: `denoise` (or `inpaint`) of `model`.

    Args:
        model: a keras-dae denoiser (`keras_dae.models.DAE` or a subclass).

    Returns:
        A `keras.Model` with inputs `x` `(N, *model.example_shape)` float32, plus `sigma`
        `(N,)` for a σ-conditioned model or `mask` (shaped like `x`, 1 = missing) for an
        `InpaintingDAE`, and one output: the denoised (inpainted) batch.
    """
    from keras_dae.models import DAE, InpaintingDAE

    if not isinstance(model, DAE):
        raise ValueError(
            f"Only keras-dae denoisers (keras_dae.models.DAE and its subclasses) export for "
            f"serving; this is a {type(model).__name__} (e.g. a classifier exports with "
            f"model.export). Received: model={getattr(model, 'name', model)!r}")
    x = keras.Input(model.example_shape, dtype="float32", name="x")
    if isinstance(model, InpaintingDAE):
        inputs = [x, keras.Input(model.example_shape, dtype="float32", name="mask")]
    elif model.conditioned:
        inputs = [x, keras.Input((), dtype="float32", name="sigma")]
    else:
        inputs = x
    outputs = _Denoise(model, name="denoise")(inputs)
    return keras.Model(inputs, outputs, name=f"{model.name}_serving")


def describe(serving):
    """One line on what `serving` takes and gives, e.g. "inputs x (N, H, W, 1), sigma (N,)
    float32; output denoised, the denoised batch"."""
    def dims(t):
        names = {0: "N", 1: "H", 2: "W"} if len(t.shape) == 4 else {0: "N"}
        return "(" + ", ".join(str(d) if d is not None else names.get(i, "?") for i, d in enumerate(t.shape)) + \
            ("," if len(t.shape) == 1 else "") + ")"

    inputs = ", ".join(f"{t.name} {dims(t)}" for t in serving.inputs)
    return f"inputs {inputs} float32; output {output_name(serving)}, the {output_name(serving)} batch"


def output_name(serving):
    """The name of the exported graph's output: `"inpainted"` for an inpainting model, else
    `"denoised"`."""
    return "inpainted" if any(t.name == "mask" for t in serving.inputs) else "denoised"


def input_signature(serving):
    """The export's input signature: the serving model's inputs, batch axis free (Keras reads
    it from a model's first call otherwise)."""
    specs = [keras.InputSpec(shape=t.shape, dtype=t.dtype, name=t.name) for t in serving.inputs]
    return [specs if len(specs) > 1 else specs[0]]


def check_target(path, format="onnx"):
    """Refuses, before anything is written, a `path` that does not suit `format`: ONNX goes
    to a `.onnx` file (replaced if it exists, never a folder), a SavedModel to a new folder
    (not one that exists, nor a name ending in a model file's extension). Returns `path`
    as a `pathlib.Path`."""
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {', '.join(FORMATS)}. Received: format={format!r}")
    path = pathlib.Path(path)
    if format == "onnx":
        if path.suffix.lower() != ".onnx":
            raise ValueError(f"an ONNX export goes to a .onnx file (or use format saved_model for a "
                             f"SavedModel folder). Received: {str(path)!r}")
        if path.is_dir():
            raise ValueError(f"{str(path)!r} is a folder; an ONNX export is one .onnx file")
    else:
        if path.suffix.lower() in _FILE_SUFFIXES:
            raise ValueError(f"a SavedModel is a folder, not a {path.suffix} file (use format onnx "
                             f"for a .onnx file). Received: {str(path)!r}")
        if os.path.lexists(path):
            raise ValueError(f"{str(path)!r} already exists; a SavedModel goes to a new folder")
    return path


def check_backend(format="onnx"):
    """Raises where the active Keras backend cannot export `format` here: NotImplementedError
    for SavedModel on torch without torch_xla, ImportError (with what to install) for a
    missing converter."""
    backend = keras.backend.backend()
    if backend not in _ONNX_CONVERTERS:
        raise NotImplementedError(f"keras-dae exports on the tensorflow, jax and torch backends. "
                                  f"Received: backend {backend!r}")
    if format == "onnx":
        missing = [m for m in ["onnx", *_ONNX_CONVERTERS[backend]] if importlib.util.find_spec(m) is None]
        if missing:
            extra = "export-jax" if backend == "jax" else "export"
            raise ImportError(f"ONNX export on the {backend} backend needs {' and '.join(missing)}: "
                              f"pip install 'keras-dae[{extra}]'")
    else:
        if importlib.util.find_spec("tensorflow") is None:
            raise ImportError("SavedModel export needs TensorFlow: pip install tensorflow-cpu")
        if backend == "torch" and importlib.util.find_spec("torch_xla") is None:
            raise NotImplementedError(
                "Keras exports a SavedModel from the torch backend through torch_xla, which is not "
                "installed: export on the tensorflow or jax backend (keras-dae --backend tensorflow "
                "export ...), or export ONNX")


def export(model_or_name, path, format="onnx"):
    """Exports a denoiser's `denoise` (`serving_model`) for serving.

    The file or folder is written under a temporary name beside `path` and renamed at the
    end: a failed export leaves nothing.

    Args:
        model_or_name: a keras-dae denoiser, or a name or path `keras_dae.load` takes.
        path: a `.onnx` file (replaced if it exists), or for `"saved_model"` a folder that
            does not exist yet.
        format: `"onnx"` or `"saved_model"` (a TensorFlow SavedModel: `tf.saved_model.load(path)
            .serve(x)`, or `.serve([x, sigma])` for a σ-conditioned model).

    Returns:
        `path` as a `pathlib.Path`.
    """
    path = check_target(path, format)
    check_backend(format)
    if isinstance(model_or_name, (str, os.PathLike)):
        from keras_dae.zoo.hub import load

        model = load(model_or_name, compile=False)
    else:
        model = model_or_name
    serving = serving_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        tmp = os.path.join(staging, path.name)
        with _quiet_converters():
            serving.export(tmp, format=_KERAS_FORMATS[format], verbose=False,
                           input_signature=input_signature(serving))
        if format == "saved_model":
            if os.path.lexists(path):
                raise ValueError(f"{str(path)!r} already exists; a SavedModel goes to a new folder")
            os.rename(tmp, path)
        else:
            _tidy_onnx(tmp, output_name(serving))
            os.replace(tmp, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def _tidy_onnx(path, output):
    """Rewrites the ONNX file `path` as one self-contained file whose output is named `output`
    (the converters name it after their last node: `Identity:0`, `sub_out_30`, `1162`), without
    unused weights: jax2onnx keeps the weights in a file beside it (the zoo's models are far
    below ONNX's 2 GiB) and leaves constants that no node reads, which onnxruntime warns about
    each time it opens the file."""
    import onnx

    model = onnx.load(path, load_external_data=True)
    graph = model.graph
    [old] = [o.name for o in graph.output]
    if old != output:
        for node in graph.node:
            node.output[:] = [output if name == old else name for name in node.output]
            node.input[:] = [output if name == old else name for name in node.input]
        for info in list(graph.value_info) + list(graph.output):
            if info.name == old:
                info.name = output
    used = {name for node in graph.node for name in node.input} | {output}
    nested = any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                 for node in graph.node for a in node.attribute)
    for tensor in [] if nested else [t for t in graph.initializer if t.name not in used]:
        graph.initializer.remove(tensor)
    onnx.save(model, path)


_CONVERTER_LOGGERS = ("tf2onnx", "jax2onnx", "onnx_ir", "onnxscript", "torch.onnx")


@contextlib.contextmanager
def _quiet_converters():
    """Keeps the converters' INFO and WARNING log lines and their deprecation warnings off
    stderr."""
    loggers = [logging.getLogger(name) for name in _CONVERTER_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)
