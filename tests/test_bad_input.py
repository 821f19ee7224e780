"""The bad-input corpus: every refused call names the argument and what it received, leaves
no partial output, and the same model object works on the next, valid call."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import keras_dae
from keras_dae import cli, downstream, evaluation

RNG = np.random.default_rng(0)
DIGITS = RNG.random((2, 28, 28, 1)).astype("float32")
NAN = DIGITS.copy()
NAN[0, 3, 3, 0] = np.nan
POS_INF, NEG_INF = DIGITS.copy(), DIGITS.copy()
POS_INF[1, 0, 0, 0], NEG_INF[0, 5, 5, 0] = np.inf, -np.inf
SIGMA = 0.1


@pytest.fixture(scope="module")
def unet():
    return keras_dae.load("unet-mnist-gauss")


# (case, call on the loaded model, the words the message must hold)
API = {
    "all-NaN batch": (lambda m: m.denoise(np.full_like(DIGITS, np.nan), sigma=SIGMA), "`x_noisy` must be finite"),
    "one NaN": (lambda m: m.denoise(NAN, sigma=SIGMA), "1 NaN or infinite"),
    "+Inf": (lambda m: m.denoise(POS_INF, sigma=SIGMA), "`x_noisy` must be finite"),
    "-Inf": (lambda m: m.denoise(NEG_INF, sigma=SIGMA), "`x_noisy` must be finite"),
    "empty batch": (lambda m: m.denoise(np.zeros((0, 28, 28, 1), "float32"), sigma=SIGMA), "`x_noisy` is empty"),
    "wrong size": (lambda m: m.denoise(np.zeros((2, 32, 32, 1), "float32"), sigma=SIGMA), "(batch, 28, 28, 1)"),
    "wrong channels": (lambda m: m.denoise(np.zeros((2, 28, 28, 3), "float32"), sigma=SIGMA), "of shape (2, 28, 28, 3)"),
    "wrong rank": (lambda m: m.denoise(np.zeros((2, 784), "float32"), sigma=SIGMA), "of shape (2, 784)"),
    "uint8 0-255": (lambda m: m.denoise((DIGITS * 255).astype("uint8"), sigma=SIGMA), "must be scaled first"),
    "far out of range": (lambda m: m.denoise(DIGITS * 100, sigma=SIGMA), "value_range"),
    "strings": (lambda m: m.denoise(np.array([["a"]]), sigma=SIGMA), "array of numbers"),
    "sigma negative": (lambda m: m.denoise(DIGITS, sigma=-0.1), "`sigma` must be"),
    "sigma NaN": (lambda m: m.denoise(DIGITS, sigma=float("nan")), "finite values"),
    "sigma wrong length": (lambda m: m.denoise(DIGITS, sigma=[0.1, 0.2, 0.3]), "of shape (3,)"),
    "sigma text": (lambda m: m.denoise(DIGITS, sigma="high"), "sigma='high'"),
    "inpaint mask shape": (lambda m: m.inpaint(DIGITS, np.ones((3, 3))), "`mask` must broadcast"),
    "inpaint mask values": (lambda m: m.inpaint(DIGITS, np.full_like(DIGITS, 0.5)), "`mask` must hold 0"),
    "inpaint NaN": (lambda m: m.inpaint(NAN, np.zeros_like(DIGITS)), "`x` must be finite"),
    "score NaN": (lambda m: m.score(NAN, sigma=SIGMA), "`x` must be finite"),
    "score without sigma": (lambda m: m.score(DIGITS, sigma=None), "sigma=None"),
    "score sigma negative": (lambda m: m.score(DIGITS, sigma=-1.0), "`sigma` must be"),
    "estimate_sigma wrong shape": (lambda m: m.estimate_sigma(np.zeros((2, 7, 7, 1))), "`x_noisy` must have shape"),
    "sample n=0": (lambda m: m.sample(0, steps=2), "`n` must be a positive integer"),
    "sample steps=-1": (lambda m: m.sample(2, steps=-1), "`steps` must be a positive integer"),
    "predict without sigma": (lambda m: m.predict(DIGITS), "conditioned on σ"),
    "fit pairs without sigma": (lambda m: m.fit(DIGITS + 0.1, DIGITS, epochs=1, verbose=0), "fit([x_noisy, sigma], x_clean)"),
}

LOADS = {
    "misspelled name": (lambda: keras_dae.load("unet-mnist-guass"), "Did you mean 'unet-mnist-gauss'"),
    "unknown name": (lambda: keras_dae.load("no-such-model"), "name_or_path='no-such-model'"),
    "hf without repo": (lambda: keras_dae.load("hf://only-org"), "hf://org/repo[@revision]"),
    "hf empty revision": (lambda: keras_dae.load("hf://org/repo@"), "name_or_path='hf://org/repo@'"),
    "bad revision": (lambda: keras_dae.load("hf://org/repo", revision="no such rev"), "revision='no such rev'"),
    "repo id without hf://": (lambda: keras_dae.load("org/repo"), "write 'hf://org/repo'"),
    "bad part": (lambda: keras_dae.load("unet-mnist-gauss", part="middle"), "part='middle'"),
    "evaluate unknown dataset": (lambda: evaluation.evaluate(None, "nosuch"), "dataset='nosuch'"),
    "evaluate negative sigma": (lambda: evaluation.evaluate(None, "mnist", sigmas=(-1,)), "sigma=-1"),
    "classifier of unknown model": (lambda: downstream.classifier("no-such-model"), "name_or_path='no-such-model'"),
}


@pytest.mark.parametrize("case", list(API))
def test_api_refuses_bad_input_and_the_model_survives(unet, case):
    call, words = API[case]
    with pytest.raises(ValueError) as info:
        call(unet)
    assert words in str(info.value), str(info.value)
    out = unet.denoise(DIGITS, sigma=SIGMA)  # the same object, next call: works
    assert out.shape == DIGITS.shape and np.all(np.isfinite(out))


@pytest.mark.parametrize("case", list(LOADS))
def test_loading_refuses_bad_names_in_one_message(case):
    call, words = LOADS[case]
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value), str(info.value)


def test_one_example_without_the_batch_axis_is_answered_the_same_way(unet):
    batch = unet.denoise(DIGITS[:1], sigma=SIGMA)
    np.testing.assert_allclose(unet.denoise(DIGITS[0], sigma=SIGMA), batch[0], atol=1e-6)
    assert unet.estimate_sigma(DIGITS[0]).shape == ()


def write_png(path, array):
    Image.fromarray(np.round(np.clip(array, 0, 1) * 255).astype("uint8")).save(path)


def files(tmp_path):
    """Good and bad inputs for the CLI, in a new folder `tmp_path`."""
    tmp_path.mkdir()
    write_png(tmp_path / "good.png", DIGITS[0, ..., 0])
    (tmp_path / "empty.png").write_bytes(b"")
    full = (tmp_path / "good.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(full[: len(full) // 2])
    (tmp_path / "text.png").write_text("not an image")
    np.save(tmp_path / "nan.npy", NAN[0])
    write_png(tmp_path / "photo.png", RNG.random((40, 48)))
    return tmp_path


CLI = {
    "missing file": (["denoise", "{d}/nope.png", "{o}/out.png", "--model", "unet-mnist-gauss"], "no such file"),
    "empty file": (["denoise", "{d}/empty.png", "{o}/out.png", "--model", "unet-mnist-gauss"], "cannot read image"),
    "truncated file": (["denoise", "{d}/truncated.png", "{o}/out.png", "--model", "unet-mnist-gauss"], "cannot read image"),
    "not an image": (["denoise", "{d}/text.png", "{o}/out.png", "--model", "unet-mnist-gauss"], "cannot read image"),
    "NaN in an npy": (["denoise", "{d}/nan.npy", "{o}/out.npy", "--model", "unet-mnist-gauss", "--sigma", "0.1"], "must be finite"),
    "unknown model": (["denoise", "{d}/good.png", "{o}/out.png", "--model", "unet-mnist-guass"], "Did you mean"),
    "negative sigma": (["denoise", "{d}/good.png", "{o}/out.png", "--sigma", "-1"], "Received: --sigma -1"),
    "wrong size for the model": (["denoise", "{d}/photo.png", "{o}/out.png", "--model", "unet-mnist-gauss"], "does not fit model input"),
    "missing recipe": (["train", "zoo/no-such-entry"], "no recipe"),
    "sample n=0": (["sample", "{o}/s.png", "--model", "unet-mnist-gauss", "-n", "0"], "-n must be >= 1"),
}


@pytest.mark.parametrize("case", list(CLI))
def test_cli_refuses_bad_input_with_exit_code_2_and_one_line(tmp_path, capsys, case):
    source, out = files(tmp_path / "in"), tmp_path / "out"
    out.mkdir()
    argv, words = CLI[case]
    code = cli.main([a.format(d=source, o=out) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and err.strip(), err
    assert words in err
    assert not list(out.glob("out*")) and not list(out.glob(".*tmp*"))  # nothing half-written


def test_a_folder_with_good_and_bad_files_processes_the_good_ones(tmp_path, capsys):
    source = files(tmp_path / "in")
    write_png(source / "good2.png", DIGITS[1, ..., 0])
    out = tmp_path / "out"
    code = cli.main(["denoise", str(source), str(out), "--model", "unet-mnist-gauss", "--sigma", "0.1"])
    err = capsys.readouterr().err
    assert code == 2
    assert sorted(p.name for p in out.iterdir()) == ["good.png", "good2.png"]
    for bad in ("empty.png", "truncated.png", "text.png", "nan.npy", "photo.png"):
        assert bad in err


def test_a_recipe_with_a_missing_field_is_a_usage_error(tmp_path, capsys):
    recipe = tmp_path / "recipe.py"
    recipe.write_text("NAME = 'conv-tiny-gauss'\nDATASET = 'tiny'\n")
    assert cli.main(["train", str(recipe)]) == 2
    assert "does not define `ENTRY`" in capsys.readouterr().err


def test_the_cli_never_prints_a_traceback_for_bad_usage():
    result = subprocess.run([sys.executable, "-m", "keras_dae", "denoise", "/no/such.png", "/tmp/x.png"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "no such file" in result.stderr


@pytest.mark.parametrize("call", ["predict", "evaluate", "fit"])
def test_a_loaded_plain_keras_model_survives_a_failed_call(call):
    """The zoo classifier is a plain Keras model: a call that fails inside Keras (on JAX,
    while tracing, which used to leave its variables detached for good) is followed by a
    working call on the same object, on every backend."""
    model = keras_dae.load("sdae-mnist-mask-classifier")
    bad = np.zeros((4, 27, 27, 1), "float32")
    labels = np.zeros((4,), "int64")
    with pytest.raises(ValueError):  # Keras' own message (TensorFlow's fit words it its own way)
        if call == "predict":
            model.predict(bad, verbose=0)
        elif call == "evaluate":
            model.evaluate(bad, labels, verbose=0)
        else:
            model.fit(bad, labels, epochs=1, verbose=0)
    assert model.predict(DIGITS, verbose=0).shape == (2, 10)
    model.fit(DIGITS, np.zeros((2,), "int64"), epochs=1, verbose=0)
