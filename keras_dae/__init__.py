"""keras-dae: denoising autoencoders for Keras 3, on TensorFlow, JAX and PyTorch.

`import keras_dae` imports no framework: it picks an installed Keras backend when
`$KERAS_BACKEND` is unset (`keras_dae.startup`), and every name below is imported on first
use. The library: `layers` (corruptions, σ-embeddings), `networks`, `models` (objectives,
sampling), `callbacks`, `datasets`, `metrics`, `downstream`; the zoo: `load`, `publish`,
`list_models` (`keras_dae.zoo`); `set_random_seed` (Keras', without importing TensorFlow on the
other backends); `evaluate` and the protocols (`keras_dae.evaluation`);
plug-and-play restoration (`keras_dae.restoration`); σ of an image (`keras_dae.noise_level`);
recipes and runs (`keras_dae.training`); the command line (`keras_dae.cli`).

Keras' own `keras.saving.load_model` finds keras-dae's classes once they are registered:
`import keras_dae` registers them when Keras is already imported (`import keras` first, as
isort orders them), and `keras_dae.load(path)` always does; otherwise touch
`keras_dae.models` before loading.
"""

import importlib
import sys

from keras_dae.startup import choose_backend as _choose_backend

__version__ = "0.1.0"

_choose_backend()

# name -> the module that holds it (a module itself when the name is its last part).
_MODULES = {
    name: f"keras_dae.{name}"
    for name in ("assets", "backend", "callbacks", "cli", "datasets", "downstream", "evaluation",
                 "imageio", "layers", "metrics", "models", "networks", "noise_level", "plotting",
                 "restoration", "runtime", "startup", "tiling", "training", "utils", "zoo")
}
# Where the modules that used to sit at the top now live: `from keras_dae import hub` and
# `keras_dae.stages.Stage` keep working.
_MODULES.update({
    **{name: f"keras_dae.zoo.{name}" for name in ("archives", "cards", "hub", "registry")},
    **{name: f"keras_dae.evaluation.{name}" for name in ("baselines", "inpainting", "probe", "results")},
    **{name: f"keras_dae.training.{name}" for name in ("runs", "stages")},
    "sampling": "keras_dae.models.sampling",
})
_FUNCTIONS = {
    "load": "keras_dae.zoo.hub",
    "publish": "keras_dae.zoo.hub",
    "list_models": "keras_dae.zoo.registry",
    "evaluate": "keras_dae.evaluation.protocol",
    "set_random_seed": "keras_dae.backend",
}


def __getattr__(name):
    if name in _MODULES:
        module = importlib.import_module(_MODULES[name])
    elif name in _FUNCTIONS:
        module = getattr(importlib.import_module(_FUNCTIONS[name]), name)
    else:
        raise AttributeError(f"module 'keras_dae' has no attribute {name!r}")
    globals()[name] = module
    return module


def __dir__():
    return sorted({*globals(), *_MODULES, *_FUNCTIONS})


if "keras" in sys.modules:  # Keras is paid for: register every class a `.keras` file may name
    from keras_dae import layers, models, networks  # noqa: E402,F401
