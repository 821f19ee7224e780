"""A throwaway zoo holding one tiny recipe, for the tests of `keras-dae train`: export
writes its weights, card and registry there (the `sandbox` fixture, in conftest.py)."""

import sys
import textwrap

import keras_dae
from keras_dae.zoo import registry
from keras_dae import training
from tests.helpers import to_numpy

RECIPE = '''
import numpy as np
from keras_dae import layers, models, networks

NAME = "conv-tiny-gauss"
DATASET = "tiny"
EPOCHS = 3
BATCH_SIZE = 16
LEARNING_RATE = 1e-2
SEED = 0
IMAGES_PER_EPOCH = 64
ENTRY = {"architecture": "tiny conv", "objective": "DAE", "corruption": "Gaussian 0.2",
         "hf_repo": "test/conv-tiny-gauss"}


def data(num_train_images=None):
    x = np.random.default_rng(0).random((80, 8, 8, 1)).astype("float32")
    return (x[:64], None), (x[64:], None)


def build():
    net = networks.conv_dae((8, 8, 1), filters=(4,))
    return models.DAE(net, layers.AdditiveGaussian(sigma=0.2, seed=SEED), name=NAME)


def evaluate(model, num_images=None):
    x = data()[1][0]
    return {"val_mse": float(np.mean((model.denoise(x) - x) ** 2))}, "table", {"x": x[:2]}
'''


def make_sandbox(tmp_path, monkeypatch):
    """A recipe in a throwaway zoo (yields its path); removes its registry entry after."""
    monkeypatch.setattr(training.recipes, "ROOT", tmp_path)
    monkeypatch.setattr(training.recipes, "WEIGHTS_DIR", tmp_path / "weights")
    monkeypatch.setattr(registry, "WEIGHTS", tmp_path / "weights")
    path = tmp_path / "zoo" / "conv-tiny-gauss" / "recipe.py"
    path.parent.mkdir(parents=True)
    path.write_text(textwrap.dedent(RECIPE))
    yield path
    if "conv-tiny-gauss" in registry.list_models():
        registry.unregister("conv-tiny-gauss")
    sys.modules.pop("keras_dae_recipe_conv_tiny_gauss", None)


def trained_weights(tmp_path):
    model = keras_dae.load(str(tmp_path / "weights" / "conv-tiny-gauss.keras"), compile=False)
    return [to_numpy(w) for w in model.weights]
