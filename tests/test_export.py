"""Export for serving (`keras_dae.zoo.export`, `keras-dae export`): every zoo denoiser's ONNX
export run in onnxruntime, and its SavedModel loaded with TensorFlow, match `model.denoise`
(`model.inpaint` for the inpainting model) within 1e-4, on a second image size too for the
fully convolutional models; bad usage is refused with one line, exit code 2 and nothing written.

Each model is loaded, measured and exported once per module (`served`). A SavedModel is
exported on the tensorflow backend (every denoiser) and the jax backend (one per serving
signature, `SAVED_MODEL_ON_JAX`); Keras writes one from torch only through torch_xla
(keras/src/backend/torch/export.py), so there the export's refusal is tested instead.
"""

import importlib.util
import os

import keras
import numpy as np
import pytest

import keras_dae
from keras_dae.cli import parser as cli
from keras_dae.zoo import export as exporting
from keras_dae.zoo import registry

BACKEND = keras.backend.backend()
DENOISERS = [e.name for e in registry.entries() if e.task != "image-classification"]
CLASSIFIER = "sdae-mnist-mask-classifier"
SAVED_MODEL = BACKEND in ("tensorflow", "jax") or importlib.util.find_spec("torch_xla") is not None
# TensorFlow's own SavedModels for every denoiser; JAX's (through jax2tf, 2–4 s each) for one of
# each serving signature: x alone, [x, sigma] with free H and W, [x, mask].
SAVED_MODEL_ON_JAX = ("dae-mnist-saltpepper", "dncnn-bsd400-gauss", "unet-mnist-mask")
NO_SAVED_MODEL = ("Keras exports a SavedModel from the torch backend through torch_xla "
                  "(keras/src/backend/torch/export.py), which is not installed")
TOLERANCE = 1e-4

onnxruntime = pytest.importorskip("onnxruntime", reason="the [export] extra: pip install 'keras-dae[export]'")


def _cases(model, rng):
    """`[(inputs, expected)]`: the serving inputs (x, then σ or the mask) and what the
    model's own API returns for them; two image sizes for a fully convolutional model."""
    if model.example_shape[0] is None:  # photographs: smooth images plus noise, two sizes
        channels = model.example_shape[-1]  # gray or colour
        shapes = [(2, 40, 48, channels), (1, 33, 47, channels)]
        clean = [0.5 + 0.3 * np.sin(np.arange(s[1])[None, :, None, None] / 5.0)
                 * np.cos(np.arange(s[2])[None, None, :, None] / 7.0) * np.ones(s) for s in shapes]
    else:
        from keras_dae.assets import mnist_test_sample

        digits = mnist_test_sample()[0][:3, ..., None].astype("float32") / 255.0
        clean = [digits.reshape((3,) + model.example_shape)]
    cases = []
    for c in clean:
        c = c.astype("float32")
        n = len(c)
        if isinstance(model, keras_dae.models.InpaintingDAE):
            mask = (rng.random(c.shape) < 0.5).astype("float32")
            mask[0, 8:20, 8:20] = 1.0  # a hole
            cases.append(((c, mask), model.inpaint(c, mask)))
        elif model.conditioned:
            sigma = np.linspace(15, 35, n).astype("float32") / 255.0
            noisy = (c + sigma.reshape((-1,) + (1,) * (c.ndim - 1)) * rng.standard_normal(c.shape)).astype("float32")
            cases.append(((noisy, sigma), model.denoise(noisy, sigma=sigma)))
        else:
            noisy = (c + 0.1 * rng.standard_normal(c.shape)).astype("float32")
            cases.append(((noisy,), model.denoise(noisy)))
    return cases


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`get(name)`: `{"cases", "example_shape", "onnx", "saved_model"}` for a zoo denoiser,
    made on first use (one load, one ONNX export and, where Keras can, one SavedModel); an
    export's exception is kept and raised by the test that needs it."""
    folder = tmp_path_factory.mktemp("export")
    cache = {}

    def get(name):
        if name not in cache:
            model = keras_dae.load(name, compile=False)
            second = (["mask"] if isinstance(model, keras_dae.models.InpaintingDAE)
                      else ["sigma"] if model.conditioned else [])
            result = {"cases": _cases(model, np.random.default_rng(0)), "example_shape": model.example_shape,
                      "input_names": ["x"] + second}
            formats = ("onnx", "saved_model") if _saved_model_tested(name) else ("onnx",)
            for format in formats:
                target = folder / (f"{name}.onnx" if format == "onnx" else f"{name}-saved-model")
                try:
                    result[format] = exporting.export(model, target, format=format)
                except Exception as e:  # noqa: BLE001  (raised again by the test of this format)
                    result[format] = e
            cache[name] = result
        return cache[name]

    return get


def _saved_model_tested(name):
    return SAVED_MODEL and (BACKEND != "jax" or name in SAVED_MODEL_ON_JAX)


def _artifact(entry, format):
    if isinstance(entry[format], Exception):
        raise entry[format]
    return entry[format]


def test_the_zoo_has_denoisers_to_export():
    assert len(DENOISERS) >= 5 and CLASSIFIER not in DENOISERS
    assert {"dncnn-bsd400-gauss", "unet-mnist-gauss", "unet-mnist-mask"} <= set(DENOISERS)


@pytest.mark.parametrize("name", DENOISERS)
def test_onnx_export_matches_denoise_in_onnxruntime(served, name):
    entry = served(name)
    session = onnxruntime.InferenceSession(str(_artifact(entry, "onnx")), providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    # The signature: x (N, *example_shape), then sigma (N,) or mask (like x); free H and W for
    # the fully convolutional models, every axis fixed but the batch for the others.
    example_shape = entry["example_shape"]
    assert inputs[0].name == "x" and len(inputs[0].shape) == 1 + len(example_shape)
    for want, got in zip(example_shape, inputs[0].shape[1:]):
        assert (got == want) if want is not None else not isinstance(got, int), (example_shape, inputs[0].shape)
    assert not isinstance(inputs[0].shape[0], int)
    assert [o.name for o in session.get_outputs()] == ["inpainted" if "mask" in entry["input_names"] else "denoised"]
    assert [i.name for i in inputs] == entry["input_names"]
    for feeds, expected in entry["cases"]:
        out = session.run(None, {i.name: v for i, v in zip(inputs, feeds)})[0]
        assert out.shape == expected.shape and out.dtype == np.float32
        np.testing.assert_allclose(out, expected, atol=TOLERANCE, rtol=0)


@pytest.mark.skipif(not SAVED_MODEL, reason=NO_SAVED_MODEL)
@pytest.mark.parametrize("name", [n for n in DENOISERS if BACKEND != "jax" or n in SAVED_MODEL_ON_JAX])
def test_saved_model_export_matches_denoise_in_tensorflow(served, name):
    import tensorflow as tf

    entry = served(name)
    artifact = tf.saved_model.load(str(_artifact(entry, "saved_model")))
    for feeds, expected in entry["cases"]:
        out = np.asarray(artifact.serve(list(feeds) if len(feeds) > 1 else feeds[0]))
        assert out.shape == expected.shape
        np.testing.assert_allclose(out, expected, atol=TOLERANCE, rtol=0)


@pytest.mark.skipif(SAVED_MODEL, reason="Keras can export a SavedModel on this backend")
def test_saved_model_export_on_torch_without_torch_xla_is_refused_with_nothing_written(tmp_path):
    with pytest.raises(NotImplementedError, match="torch_xla"):
        exporting.export("dncnn-bsd400-gauss25", tmp_path / "out", format="saved_model")
    assert cli.main(["export", "dncnn-bsd400-gauss25", str(tmp_path / "out"), "--format", "saved_model"]) == 2
    assert not list(tmp_path.iterdir())


def test_the_classifier_is_not_a_denoiser():
    with pytest.raises(ValueError, match="denoisers"):
        exporting.serving_model(keras_dae.load(CLASSIFIER, compile=False))


def test_cli_exports_a_denoiser_to_onnx(tmp_path, capsys):
    out = tmp_path / "sub" / "dae.onnx"
    assert cli.main(["export", "dae-mnist-saltpepper", str(out)]) == 0
    assert "x (N, 28, 28, 1)" in capsys.readouterr().out
    assert sorted(os.listdir(out.parent)) == ["dae.onnx"]  # no temporary file or weights beside it
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).random((2, 28, 28, 1)).astype("float32")
    expected = keras_dae.load("dae-mnist-saltpepper", compile=False).denoise(x)
    np.testing.assert_allclose(session.run(None, {"x": x})[0], expected, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("argv, message", [
    (["no-such-model", "out.onnx"], "Unknown model"),
    ([CLASSIFIER, "out.onnx"], "denoisers"),
    (["dncnn-bsd400-gauss", "out.onnx", "--format", "tflite"], "--format must be one of"),
    (["dncnn-bsd400-gauss", "out.onx"], ".onnx file"),
    (["dncnn-bsd400-gauss", "out.onnx", "--format", "saved_model"], "folder, not a .onnx file"),
    (["dncnn-bsd400-gauss", "existing", "--format", "saved_model"], "already exists"),
    (["dncnn-bsd400-gauss", "existing"], ".onnx file"),
])
def test_cli_bad_usage_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "existing").mkdir()
    assert cli.main(["export", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("keras-dae: error:"), err
    assert [p.name for p in tmp_path.iterdir()] == ["existing"] and not list((tmp_path / "existing").iterdir())
