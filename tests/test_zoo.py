"""The zoo: every registered entry against its golden file, on every backend, and the
registry kept in step with `zoo/`."""

import pathlib

import numpy as np
import pytest

import keras_dae
from keras_dae.zoo import registry
from keras_dae import training

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGED = [e.name for e in registry.entries() if e.packaged_file() is not None]
CLASSIFIERS = [e.name for e in registry.entries() if e.task == "image-classification"]
DAES = [name for name in PACKAGED if name not in CLASSIFIERS]


def test_registry_and_zoo_folders_agree():
    folders = {p.parent.name for p in (ROOT / "zoo").glob("*/recipe.py")}
    shipped = {e.name for e in registry.entries()}
    assert shipped <= folders, f"registered without a recipe: {sorted(shipped - folders)}"
    for name in shipped:
        assert (ROOT / "zoo" / name / "README.md").is_file(), f"{name} has no model card"


@pytest.mark.parametrize("name", PACKAGED)
def test_entry_matches_its_golden_outputs(name):
    """Outputs on stored inputs equal the ones recorded when the entry was trained (on
    whichever backend that was) within 1e-4: a change to a layer that alters a published
    model's outputs fails here."""
    golden = np.load(ROOT / "tests" / "golden" / f"{name}.npz", allow_pickle=False)
    model = keras_dae.load(name)
    out = training.golden_outputs(model, golden)  # logits of a classifier
    np.testing.assert_allclose(out, golden["outputs"], atol=1e-4, rtol=0)


def classifier_test_error(name):
    from keras_dae.datasets import load_mnist

    x_test, y_test = load_mnist("test")
    model = keras_dae.load(name)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)  # compiled by load
    return 100 * (1 - accuracy)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_meets_its_card_on_the_full_test_set(name, record_property):
    """The packaged classifier's MNIST test error, measured here on this backend, is the
    card's number (to 0.02 points: a few images may flip between backends' kernels)."""
    error = classifier_test_error(name)
    record_property(f"measured: {name}, MNIST test error (%)", f"{error:.2f}")
    assert abs(error - registry.get(name).metrics["test_error_percent"]) <= 0.02


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_meets_the_papers_sae_figure(name):
    """Vincent et al. (2010)'s SAE-3 and SVM-rbf figure: at most 1.40 % test error."""
    assert classifier_test_error(name) <= 1.40


@pytest.mark.parametrize("name", DAES)
def test_entry_encoder_is_a_classifier_base(name):
    import keras

    encoder = keras_dae.load(name, part="encoder")
    head = keras.Sequential([encoder, keras.layers.Dense(10)])
    golden = np.load(ROOT / "tests" / "golden" / f"{name}.npz", allow_pickle=False)
    assert head(golden["x"]).shape == (len(golden["x"]), 10)


@pytest.mark.slow
def test_converted_dncnn_measures_the_papers_figure_on_bsd68(record_property):
    """The converted DnCNN-S σ = 25 on all 68 BSD68 images under the paper's protocol
    (unclipped noise on the 0–255 image, output rounded to 8 bits): 29.23 dB, the figure of
    Zhang et al. (2017), within 0.02 dB on this backend (`make test-slow`)."""
    from keras_dae import evaluation

    model = keras_dae.load("dncnn-bsd400-gauss25")
    result = evaluation.evaluate(model, "bsd68", sigmas=(25,), seed=0, baselines=(), batch_size=1,
                                 verbose=False)
    psnr = result.value(model.name, "sigma=25")
    record_property("measured: dncnn-bsd400-gauss25, BSD68 PSNR at σ=25 (dB)", f"{psnr:.3f}")
    assert abs(psnr - 29.23) <= 0.02


@pytest.mark.slow
def test_unet_mnist_mask_beats_biharmonic_inpainting_on_the_full_test_set(record_property):
    """The inpainting bar, measured on this backend: PSNR inside the mask above scikit-image's
    biharmonic inpainting for both protocol masks on all 10,000 MNIST test digits, and the
    card's figures reproduced (`make test-slow`)."""
    from keras_dae import evaluation

    model = keras_dae.load("unet-mnist-mask")
    result = evaluation.evaluate_inpainting(model, "mnist", masks=("block12", "random50"), seed=0, verbose=False)
    card = registry.get("unet-mnist-mask").metrics
    for kind in ("block12", "random50"):
        ours = result.value("unet-mnist-mask", kind, "psnr_masked")
        record_property(f"measured: psnr_masked@mask={kind}", f"{ours:.3f}")
        assert ours > result.value("biharmonic", kind, "psnr_masked")
        assert abs(ours - card[f"psnr_masked@mask={kind}"]) < 0.01


def test_loaded_convolutions_are_keras_dae_s_and_agree_with_keras(tmp_path):
    """`keras_dae.load` runs the Keras Conv2D layers a zoo file was saved with as
    `keras_dae.layers.Conv2D` (the copy-free one on torch): same outputs, and the model
    still saves and loads."""
    import keras

    from keras_dae.layers import Conv2D, adopt_convolutions

    model = keras_dae.load("dncnn-bsd400-gauss", compile=False)
    convs = [l for l in model.network._flatten_layers() if isinstance(l, keras.layers.Conv2D)]
    assert len(convs) == 17 and all(type(l) is Conv2D for l in convs)
    plain = keras.saving.load_model(registry.get("dncnn-bsd400-gauss").packaged_file(), compile=False)
    assert any(type(l) is keras.layers.Conv2D for l in plain.network._flatten_layers())
    x = np.random.default_rng(0).random((2, 24, 20, 1)).astype("float32")
    expected = plain.denoise(x, sigma=0.1)
    np.testing.assert_allclose(model.denoise(x, sigma=0.1), expected, atol=1e-5)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    np.testing.assert_allclose(again.denoise(x, sigma=0.1), expected, atol=1e-5)
    assert adopt_convolutions(again) == 0  # saved as keras-dae's layer
