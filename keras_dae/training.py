"""Run a zoo recipe: data → model → `fit` with per-epoch checkpoints → measured card.

A recipe is a small Python file, `zoo/<name>/recipe.py`, that defines:

- `NAME`, `DATASET` and the training numbers (`EPOCHS`, `BATCH_SIZE`, `LEARNING_RATE`,
  `SEED`), each with a comment giving its reason;
- `ENTRY`: the registry fields that describe the model (architecture, objective,
  corruption, hf_repo, licences, description);
- `build()`: the uncompiled objective model (a `keras_dae.models` model);
- optionally `optimizer(total_steps)` (default: Adam at `LEARNING_RATE`), `callbacks()`,
  and `fit(model, x_train, x_val, epochs, callbacks)` returning a history dict, for
  training that is not one `model.fit` (e.g. greedy layer-wise pretraining); a `fit`
  with a `labels` parameter also receives `(y_train, y_val)` (supervised recipes);
- optionally `WEIGHTS_DTYPE = "float16"`: the packaged weights are stored in half precision
  (half the bytes; cast back to float32 on load), and the card gives the figures of both;
- `evaluate(model, num_images=None)`: the entry's measurement, returning
  `(metrics: dict, table_markdown: str, golden: dict)` where `golden` holds reference
  inputs (`x`, and `sigma` where used) for the golden-file test.

`train(recipe)` trains with `keras.callbacks.BackupAndRestore` (an interrupted run resumes
from its last finished epoch), then exports the packaged `.keras` file, measures it, and
writes the card (`zoo/<name>/README.md`), the results (`zoo/<name>/results.json`), the
golden file (`tests/golden/<name>.npz`) and the registry entry — every number from this
run. Nothing half-written is left behind: each file is written to a temporary name, then
renamed.
"""

import importlib.util
import inspect
import json
import os
import pathlib
import platform
import time

import keras
import numpy as np

from keras_dae import datasets, hub, registry
from keras_dae.utils import atomic_write

ROOT = pathlib.Path(__file__).resolve().parents[1]
WEIGHTS_DIR = pathlib.Path(__file__).resolve().parent / "weights"


def load_recipe(path):
    """Imports a recipe file (or a `zoo/<name>` folder) as a module."""
    path = pathlib.Path(path)
    if path.is_dir():
        path = path / "recipe.py"
    if not path.is_file():
        raise ValueError(f"`recipe` must be a recipe file or a zoo folder. Received: recipe={str(path)!r}")
    spec = importlib.util.spec_from_file_location(f"keras_dae_recipe_{path.parent.name.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for field in ("NAME", "DATASET", "EPOCHS", "BATCH_SIZE", "LEARNING_RATE", "SEED", "ENTRY", "build", "evaluate"):
        if not hasattr(module, field):
            raise ValueError(f"Recipe {str(path)!r} does not define `{field}`.")
    module.PATH = path
    return module


def _hardware():
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, {keras.backend.backend()} backend"


def train(recipe, epochs=None, out=None, num_eval_images=None, num_train_images=None, verbose=1):
    """Trains a zoo recipe and regenerates its packaged weights, card and registry entry.

    Args:
        recipe: a recipe module, a recipe file or a `zoo/<name>` folder.
        epochs: override the recipe's `EPOCHS` (e.g. a quick check; the card says so).
        out: working folder for checkpoints and logs (default `outputs/zoo/<name>`).
        num_eval_images: evaluate on the first N test images only (default: all).
        num_train_images: train on the first N training images only (quick checks).
        verbose: Keras' `fit` verbosity.

    Returns:
        The registered `ModelEntry`.
    """
    recipe = recipe if hasattr(recipe, "build") else load_recipe(recipe)
    epochs = recipe.EPOCHS if epochs is None else int(epochs)
    out = pathlib.Path(out or ROOT / "outputs" / "zoo" / recipe.NAME)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(recipe.SEED)

    x_train, y_train = datasets.load_keras_dataset(recipe.DATASET, "train", num_images=num_train_images)
    x_val, y_val = datasets.load_keras_dataset(recipe.DATASET, "val")
    model = recipe.build()
    steps_per_epoch = -(-len(x_train) // recipe.BATCH_SIZE)
    if hasattr(recipe, "optimizer"):
        optimizer = recipe.optimizer(steps_per_epoch * epochs)
    else:
        optimizer = keras.optimizers.Adam(recipe.LEARNING_RATE)
    model.compile(optimizer=optimizer)
    callbacks = [
        keras.callbacks.BackupAndRestore(str(out / "backup")),
        keras.callbacks.CSVLogger(str(out / "log.csv"), append=True),
        *getattr(recipe, "callbacks", lambda: [])(),
    ]
    start = time.perf_counter()
    if hasattr(recipe, "fit"):
        supervised = "labels" in inspect.signature(recipe.fit).parameters
        history = recipe.fit(model, x_train, x_val, epochs, callbacks,
                             **({"labels": (y_train, y_val)} if supervised else {}))
    else:
        history = model.fit(
            x_train, validation_data=(x_val,), epochs=epochs, batch_size=recipe.BATCH_SIZE,
            callbacks=callbacks, verbose=verbose,
        ).history
    seconds = time.perf_counter() - start
    return export(recipe, model, seconds, epochs, history, num_eval_images)


def export(recipe, model, train_seconds, epochs, history, num_eval_images=None):
    """Packages `model`, measures it and writes card, results, golden file and entry."""
    name = recipe.NAME
    WEIGHTS_DIR.mkdir(exist_ok=True)
    packaged = WEIGHTS_DIR / f"{name}.keras"
    weights_dtype = getattr(recipe, "WEIGHTS_DTYPE", None)
    digest = hub.package(model, packaged, weights_dtype=weights_dtype)

    reloaded = hub.load(str(packaged), compile=False)
    metrics, table, golden = recipe.evaluate(reloaded, num_images=num_eval_images)
    if weights_dtype == "float16":  # what storing in half precision costs, measured
        full_precision, _, _ = recipe.evaluate(model, num_images=num_eval_images)
        table += ("\n\nThe weights are stored in float16 and cast to float32 on load; the figures "
                  "above are those of the stored weights. Before the cast to float16: "
                  + ", ".join(f"{k} {v:g}" for k, v in full_precision.items()) + ".")
    golden_out = keras.ops.convert_to_numpy(
        reloaded.predict_golden(golden) if hasattr(reloaded, "predict_golden") else _golden_outputs(reloaded, golden)
    )
    _save_golden(name, golden, golden_out)

    previous = registry.get(name).to_dict() if name in registry.list_models() else {}
    info = {
        **previous,
        **recipe.ENTRY,
        "name": name,
        "dataset": recipe.DATASET,
        "sha256": digest,
        "packaged": packaged.name,
        "metrics": metrics,
        "recipe": f"zoo/{name}/recipe.py",
        "revision": previous.get("revision") if previous.get("sha256") == digest else None,
    }
    entry = registry.ModelEntry.from_dict(info)
    registry.register(entry, overwrite=True)
    _write_registry()

    run = {
        "name": name,
        "epochs": epochs,
        "recipe_epochs": recipe.EPOCHS,
        "train_seconds": round(train_seconds, 1),
        "hardware": _hardware(),
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "history": {k: [float(v) for v in vals] for k, vals in history.items()},
        "metrics": metrics,
        "sha256": digest,
        "num_eval_images": num_eval_images or "all",
    }
    atomic_write(ROOT / "zoo" / name / "results.json", json.dumps(run, indent=2) + "\n")
    final = ", ".join(f"final {k} {v[-1]:.4f}" for k, v in run["history"].items())
    training = (
        f"Trained with `keras-dae train zoo/{name}` for {epochs} epochs"
        f"{'' if epochs == recipe.EPOCHS else f' (the recipe says {recipe.EPOCHS})'} "
        f"in {train_seconds / 60:.1f} min on {run['hardware']}, Keras {keras.__version__}; {final}."
    )
    card = hub.model_card({**entry.to_dict(), "keras_version": keras.__version__}, eval_results=table)
    card = card.rstrip() + "\n\n## Training run\n\n" + training + "\n"
    atomic_write(ROOT / "zoo" / name / "README.md", card)
    return entry


def _golden_outputs(model, golden):
    x = golden["x"]
    if not hasattr(model, "denoise"):  # a classifier: its logits
        return model.predict(x, verbose=0)
    if "sigma" in golden:
        return model.denoise(x, sigma=golden["sigma"])
    return model.denoise(x)


def _save_golden(name, golden, outputs):
    arrays = {"outputs": np.asarray(outputs, "float32"), **{k: np.asarray(v) for k, v in golden.items()}}
    atomic_write(ROOT / "tests" / "golden" / f"{name}.npz", lambda f: np.savez_compressed(f, **arrays))


def _write_registry():
    data = {"entries": [e.to_dict() for e in registry.entries() if e.packaged or e.revision]}
    atomic_write(WEIGHTS_DIR / registry.REGISTRY_FILE, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
