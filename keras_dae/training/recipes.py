"""Run a zoo recipe: data → model → `fit` with per-epoch checkpoints → measured card.

A recipe is a small Python file, `zoo/<name>/recipe.py`, that defines:

- `NAME`, `DATASET` and the training numbers (`EPOCHS`, `BATCH_SIZE`, `LEARNING_RATE`,
  `SEED`), each with a comment giving its reason;
- `ENTRY`: the registry fields that describe the model (architecture, objective,
  corruption, hf_repo, licences, description);
- `build()`: the uncompiled objective model (a `keras_dae.models` model);
- optionally `EMA_MOMENTUM`: keep an exponential moving average of the weights (the
  optimizer's `use_ema`); validation measures it, and it is what is exported;
- optionally `optimizer(total_steps)` (default: Adam at `LEARNING_RATE`), `callbacks()`,
  and `fit(model, x_train, x_val, epochs, callbacks)` returning a history dict, for
  training that is not one `model.fit` (e.g. greedy layer-wise pretraining); a `fit`
  with a `labels` parameter also receives `(y_train, y_val)` (supervised recipes), one with
  a `checkpoint_dir` parameter the run's checkpoint folder (a `fit` of several parts, e.g.
  one per layer, records there what it has finished; the callbacks passed in resume the rest);
- optionally `RESUMABLE = False` for a `fit` that is not one resumable `model.fit` (greedy
  layer-wise pretraining: one model per layer; fine-tuning that keeps its best epoch's
  weights in memory): `train` then refuses `budget_minutes` and starts such a run afresh
  rather than resume it from a checkpoint it cannot use;
- optionally `WEIGHTS_DTYPE = "float16"`: the packaged weights are stored in half precision
  (half the bytes; cast back to float32 on load), and the card gives the figures of both;
- `evaluate(model, num_images=None)`: the entry's measurement, returning
  `(metrics: dict, table_markdown: str, golden: dict)` where `golden` holds reference
  inputs (`x`, and `sigma` where used) for the golden-file test.

A recipe for published weights converted from elsewhere defines `convert()` (the model with
those weights) and `provenance()` (the card's section on where they come from and their
licence) instead of the training numbers and `build()`: `train` then converts, measures and
exports it the same way, and trains nothing.

`train(recipe)` trains with `keras.callbacks.BackupAndRestore` (an interrupted run resumes
from its last finished epoch), then exports the packaged `.keras` file, measures it, and
writes the card (`zoo/<name>/README.md`), the results (`zoo/<name>/results.json`), the
golden file (`tests/golden/<name>.npz`) and the registry entry — every number from this
run; `keras_dae.training.reopen(recipe)` turns a finished staged run back into a run in progress, for a recipe
given another stage (`keras_dae.training.runs`). Nothing half-written is left behind: each file is
written to a temporary name, then renamed.
"""

import importlib.util
import inspect
import json
import os
import pathlib
import shutil
import time

import keras
import numpy as np

from keras_dae import backend, datasets
from keras_dae.callbacks import EvaluateWithEMA, SyncDatasetEpoch
from keras_dae.training.runs import EpochLog, PartLog, PauseAtEpochEnd, checkpoint_dir, hardware, read_log
from keras_dae.utils import atomic_save, atomic_write
from keras_dae.zoo import archives, hub, registry

ROOT = pathlib.Path(__file__).resolve().parents[2]
WEIGHTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "weights"


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
    fields = ("NAME", "DATASET", "ENTRY", "evaluate")
    if hasattr(module, "convert"):
        fields += ("provenance",)
    else:
        fields += ("EPOCHS", "BATCH_SIZE", "LEARNING_RATE", "SEED", "build")
    for field in fields:
        if not hasattr(module, field):
            raise ValueError(f"Recipe {str(path)!r} does not define `{field}`.")
    module.PATH = path
    return module


def warmup_cosine_adam(total_steps, peak, warmup_steps, ema_momentum=None):
    """Adam with a linear warm-up to `peak` over `warmup_steps`, then cosine decay to 0 at
    `total_steps` (a recipe's `optimizer(total_steps)`; the schedule spans the whole run, so
    a resumed run continues it where it stopped); with `ema_momentum`, it also keeps an
    exponential moving average of the weights (Keras' `use_ema`)."""
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(total_steps - warmup_steps, 1), warmup_target=peak, warmup_steps=warmup_steps)
    return keras.optimizers.Adam(schedule, **_ema_kwargs(ema_momentum))


def _ema_kwargs(ema_momentum):
    return {} if ema_momentum is None else {"use_ema": True, "ema_momentum": float(ema_momentum)}


TRAINED_FILE = "trained.keras"


def train(recipe, epochs=None, out=None, num_eval_images=None, num_train_images=None, verbose=1,
          budget_minutes=None, install=False, export_dir=None, data_parallel=False, export=True):
    """Trains a zoo recipe and regenerates its packaged weights, card and registry entry.

    The run checkpoints at every epoch into `out` and resumes from there when called again
    (after an interruption, a `budget_minutes` pause, or on another machine with the
    checkpoint committed); the card counts the wall time and hardware of every part.

    Args:
        recipe: a recipe module, a recipe file or a `zoo/<name>` folder.
        epochs: override the recipe's `EPOCHS` (e.g. a quick check; the card says so).
        out: folder of the resumable state (default `zoo/<name>/checkpoint`).
        num_eval_images: evaluate on the first N test images only (default: all).
        num_train_images: train on the first N training images only (quick checks).
        verbose: Keras' `fit` verbosity.
        budget_minutes: stop at the last epoch boundary that fits this wall-clock budget,
            keep the checkpoint and raise `TrainingPaused` (default: no budget). Creating
            the file `<out>/STOP` pauses the same way after the current epoch.
        install: also replace the packaged weights, card, results, golden file and
            registry entry of this source checkout (all or none; see `export`). Without
            it the export stays in `outputs/zoo/<name>/`, loadable with
            `keras_dae.load("outputs/zoo/<name>/<name>.keras")`.
        export_dir: where the export is staged (default `outputs/zoo/<name>/`).
        data_parallel: split each batch across all local devices with
            `keras.distribution.DataParallel` (JAX only; `keras_dae.backend.data_parallel`
            says why elsewhere). The model is built, trained and exported as on one device.
        export: False trains only: the finished model is saved in `out` (`trained.keras`,
            beside the log and the parts) and the next `train` call exports it without
            training — to train on a machine that cannot measure (a GPU lent for minutes),
            then measure, card and install on another.

    Returns:
        The `ModelEntry` of the export (None with `export=False`).
    """
    recipe = recipe if hasattr(recipe, "evaluate") else load_recipe(recipe)
    if hasattr(recipe, "convert"):
        start = time.perf_counter()
        model = recipe.convert()
        return export(recipe, model, time.perf_counter() - start, 0, {}, num_eval_images, install=install,
                      out=export_dir)
    epochs = recipe.EPOCHS if epochs is None else int(epochs)
    out = pathlib.Path(out or checkpoint_dir(recipe))
    resumable = getattr(recipe, "RESUMABLE", True)
    if not resumable and budget_minutes is not None:
        raise ValueError(
            f"Recipe {recipe.NAME!r} cannot pause and resume (RESUMABLE = False: its training is "
            f"not one resumable fit); run it whole. Received: budget_minutes={budget_minutes!r}"
        )
    if not resumable and not (out / TRAINED_FILE).is_file():
        shutil.rmtree(out, ignore_errors=True)  # a killed earlier run: start afresh
    out.mkdir(parents=True, exist_ok=True)
    if (out / TRAINED_FILE).is_file():  # trained with export=False, maybe on another machine
        model = keras.saving.load_model(out / TRAINED_FILE)
        return _finish(recipe, model, out, epochs, {}, num_eval_images, install, export_dir)
    backend.set_random_seed(recipe.SEED)

    if hasattr(recipe, "data"):
        (x_train, y_train), (x_val, y_val) = recipe.data(num_train_images)
    else:
        x_train, y_train = datasets.load_keras_dataset(recipe.DATASET, "train", num_images=num_train_images)
        x_val, y_val = datasets.load_keras_dataset(recipe.DATASET, "val")
    if data_parallel:
        with backend.data_parallel(batch_size=recipe.BATCH_SIZE).scope():
            return _train(recipe, epochs, out, x_train, y_train, x_val, y_val, num_eval_images, verbose,
                          budget_minutes, install, export_dir, export)
    return _train(recipe, epochs, out, x_train, y_train, x_val, y_val, num_eval_images, verbose,
                  budget_minutes, install, export_dir, export)


def _train(recipe, epochs, out, x_train, y_train, x_val, y_val, num_eval_images, verbose, budget_minutes,
           install, export_dir, export_model):
    model = recipe.build()
    steps_per_epoch = len(x_train) if isinstance(x_train, keras.utils.PyDataset) else -(-len(x_train) // recipe.BATCH_SIZE)
    ema = getattr(recipe, "EMA_MOMENTUM", None)
    if hasattr(recipe, "optimizer"):
        optimizer = recipe.optimizer(steps_per_epoch * epochs)
        if ema is not None and not (optimizer.use_ema and optimizer.ema_momentum == ema):
            raise ValueError(f"Recipe {recipe.NAME!r} sets EMA_MOMENTUM = {ema} but its `optimizer()` "
                             f"does not keep that average (use_ema={optimizer.use_ema}, ema_momentum="
                             f"{optimizer.ema_momentum}): pass `ema_momentum=EMA_MOMENTUM`.")
    else:
        optimizer = keras.optimizers.Adam(recipe.LEARNING_RATE, **_ema_kwargs(ema))
    model.compile(optimizer=optimizer)
    part_log = PartLog(out / "parts.json")
    # Order matters: the recipe's callbacks add their logs first, then the epoch is saved
    # and logged, then the run may pause. With an average of the weights, `val_loss` is
    # measured on it (as `ValidationPSNR` is), and `fit` ends with it in the model.
    callbacks = [
        *([EvaluateWithEMA()] if optimizer.use_ema else []),
        *getattr(recipe, "callbacks", lambda: [])(),
        keras.callbacks.BackupAndRestore(str(out / "backup")),
        EpochLog(out / "log.csv"),
        part_log,
        PauseAtEpochEnd(None if budget_minutes is None else 60.0 * budget_minutes, str(out / "STOP")),
    ]
    if hasattr(recipe, "fit"):
        parameters = inspect.signature(recipe.fit).parameters
        extra = {"labels": (y_train, y_val)} if "labels" in parameters else {}
        if "checkpoint_dir" in parameters:  # a fit of several parts records its progress there
            extra["checkpoint_dir"] = out
        history = recipe.fit(model, x_train, x_val, epochs, callbacks, **extra)
    else:
        batches = datasets.ArrayBatches(x_train, batch_size=recipe.BATCH_SIZE, seed=recipe.SEED)
        history = model.fit(
            batches, validation_data=(x_val,), epochs=epochs, shuffle=False,
            callbacks=[SyncDatasetEpoch(batches), *callbacks], verbose=verbose,
        ).history
    part_log.finish()
    if not export_model:
        atomic_save(out / TRAINED_FILE, model.save)
        return None
    return _finish(recipe, model, out, epochs, history, num_eval_images, install, export_dir)


def _finish(recipe, model, out, epochs, history, num_eval_images, install, export_dir):
    """Exports a finished run with the parts and log in `out`, then removes `out`."""
    parts = json.loads((out / "parts.json").read_text()) if (out / "parts.json").is_file() else []
    history = {**(history or {}), **read_log(out / "log.csv")}  # the log spans every part of the run
    entry = export(recipe, model, sum(p["seconds"] for p in parts), epochs, history, num_eval_images,
                   parts=parts, install=install, out=export_dir)
    shutil.rmtree(out, ignore_errors=True)
    return entry


def export(recipe, model, train_seconds, epochs, history, num_eval_images=None, parts=None,
           install=False, out=None):
    """Packages `model`, measures the packaged file and writes its card, results, golden file
    and registry entry: into the staging folder `out` (default `outputs/zoo/<name>/`), and,
    with `install`, then into this source checkout's package, all files or none.

    Nothing of the package is touched until every file is written and measured: a failed or
    interrupted export leaves the installed zoo as it was. `parts` lists the pieces of a run
    that was paused and resumed (seconds, hardware, date of each), as `train` records them;
    the card gives their count and summed time.

    Returns:
        The `ModelEntry` (registered in this process when installed).
    """
    name = recipe.NAME
    checkout = (ROOT / "zoo").is_dir()
    if install and not checkout:
        raise ValueError(f"`install` replaces the packaged files of a source checkout; {ROOT} is not one "
                         "(no zoo/ folder). Received: install=True")
    stage = pathlib.Path(out or (ROOT if checkout else pathlib.Path.cwd()) / "outputs" / "zoo" / name)
    stage.mkdir(parents=True, exist_ok=True)
    packaged = stage / f"{name}.keras"
    weights_dtype = getattr(recipe, "WEIGHTS_DTYPE", None)
    digest = archives.package(model, packaged, weights_dtype=weights_dtype)

    reloaded = hub.load(str(packaged), compile=False)
    metrics, table, golden = recipe.evaluate(reloaded, num_images=num_eval_images)
    if weights_dtype == "float16":  # what storing in half precision costs, measured
        full_precision, _, _ = recipe.evaluate(model, num_images=num_eval_images)
        table += ("\n\nThe weights are stored in float16 and cast to float32 on load; the figures "
                  "above are those of the stored weights. Before the cast to float16: "
                  + ", ".join(f"{k} {v:g}" for k, v in full_precision.items()) + ".")
    golden_out = keras.ops.convert_to_numpy(golden_outputs(reloaded, golden))
    _save_golden(stage / "golden.npz", golden, golden_out)

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
    atomic_write(stage / registry.REGISTRY_FILE,
                 json.dumps({"entries": [entry.to_dict()]}, indent=2, ensure_ascii=False) + "\n")

    run = {
        "name": name,
        "epochs": epochs,
        "recipe_epochs": getattr(recipe, "EPOCHS", 0),
        "train_seconds": round(train_seconds, 1),
        "hardware": hardware(),
        "parts": parts or [],
        "images_seen": getattr(recipe, "IMAGES_PER_EPOCH", 0) * epochs or None,
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "history": {k: [None if v is None else float(v) for v in vals] for k, vals in history.items()},
        "metrics": metrics,
        "sha256": digest,
        "num_eval_images": num_eval_images or "all",
    }
    atomic_write(stage / "results.json", json.dumps(run, indent=2) + "\n")
    card = hub.model_card({**entry.to_dict(), "keras_version": keras.__version__}, eval_results=table)
    card = card.rstrip() + "\n\n" + _origin(recipe, run).strip() + "\n"
    atomic_write(stage / "README.md", card)
    if install:
        _install(stage, entry)
    return entry


def _install(stage, entry):
    """Puts a staged export in place in the source checkout: each file is first copied next
    to its target, then all are renamed over their targets; if a rename fails, the ones
    done are rolled back from copies of the previous files."""
    name = entry.name
    others = [e.to_dict() for e in registry.entries() if (e.packaged or e.revision) and e.name != name]
    full = {"entries": sorted(others + [entry.to_dict()], key=lambda e: e["name"])}
    atomic_write(stage / "registry.full.json", json.dumps(full, indent=2, ensure_ascii=False) + "\n")
    moves = [(stage / f"{name}.keras", WEIGHTS_DIR / f"{name}.keras"),
             (stage / "README.md", ROOT / "zoo" / name / "README.md"),
             (stage / "results.json", ROOT / "zoo" / name / "results.json"),
             (stage / "golden.npz", ROOT / "tests" / "golden" / f"{name}.npz"),
             (stage / "registry.full.json", WEIGHTS_DIR / registry.REGISTRY_FILE)]  # last
    ready, done = [], []
    try:
        for source, target in moves:
            target.parent.mkdir(parents=True, exist_ok=True)
            ready.append((atomic_write(target.with_name(f".{target.name}.new"), source.read_bytes()), target))
            if target.exists():
                shutil.copy2(target, stage / f"previous-{target.name}")
        for new, target in ready:
            os.replace(new, target)
            done.append(target)
    except BaseException:
        for target in done:
            backup = stage / f"previous-{target.name}"
            if backup.exists():
                os.replace(backup, target)
        for new, _ in ready:
            pathlib.Path(new).unlink(missing_ok=True)
        raise
    registry.register(entry, overwrite=True)


def _origin(recipe, run):
    """The card's last section: the training run, or the provenance of converted weights."""
    if hasattr(recipe, "provenance"):
        return recipe.provenance()
    epochs = run["epochs"]
    final = ", ".join(f"final {k} {[x for x in v if x is not None][-1]:.4f}" for k, v in run["history"].items())
    parts = run.get("parts") or []
    where = run["hardware"]
    if len(parts) > 1:
        machines = sorted({p["hardware"] for p in parts})
        where = f"{'; '.join(machines)}, in {len(parts)} parts (stopped and resumed from its checkpoint)"
    images = f", {run['images_seen']:,} training examples seen" if run.get("images_seen") else ""
    notes = "".join(f" Part {i}: {p['note']}." for i, p in enumerate(parts, start=1) if p.get("note"))
    ema = getattr(recipe, "EMA_MOMENTUM", None)
    if ema is not None:
        final += (f"; the weights are an exponential moving average of the trained ones (momentum "
                  f"{ema:g}), which the validation figures measure")
    staged = getattr(recipe, "STAGES", None)
    if staged and len(staged) == 1 and epochs == recipe.EPOCHS:
        final += f"; {staged[0].description}"
    elif staged and epochs == recipe.EPOCHS:
        spans, first = [], 1
        for stage in staged:
            spans.append(f"epochs {first}–{first + stage.epochs - 1}: {stage.description}")
            first += stage.epochs
        final += f"; in {len(staged)} stages, each with its own optimizer ({'; '.join(spans)})"
    text = (
        f"## Training run\n\nTrained with `keras-dae train zoo/{run['name']}` for {epochs} epochs"
        f"{'' if epochs == recipe.EPOCHS else f' (the recipe says {recipe.EPOCHS})'} "
        f"in {run['train_seconds'] / 60:.1f} min on {where}, Keras {run['keras_version']}{images}; {final}.{notes}"
    )
    return text + _validation_table(run["history"], getattr(recipe, "IMAGES_PER_EPOCH", None))


def _validation_table(history, images_per_epoch):
    """Each epoch's validation figures (the data every choice of the recipe is made on),
    against the training images seen."""
    keys = [k for k in history if k.startswith("val_")]
    if not keys or len(history[keys[0]]) < 2:
        return ""
    seen = (lambda e: f"{e * images_per_epoch:,}") if images_per_epoch else (lambda e: "")
    lines = ["", "", "Validation after each epoch (held-out training images, never the test set):", "",
             "| epoch | images seen | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
    for e in range(len(history[keys[0]])):
        cells = [f"{history[k][e]:.4g}" if e < len(history[k]) and history[k][e] is not None else ""
                 for k in keys]
        lines.append(f"| {e + 1} | {seen(e + 1)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def golden_outputs(model, golden):
    """What the golden-file test compares: the entry's outputs on its stored inputs
    (`x`, with `sigma` or `mask` where the entry takes one)."""
    x = golden["x"]
    if not hasattr(model, "denoise"):  # a classifier: its logits
        return model.predict(x, verbose=0)
    if "mask" in golden:
        return model.inpaint(x, golden["mask"])
    if "sigma" in golden:
        return model.denoise(x, sigma=golden["sigma"])
    return model.denoise(x)


def _save_golden(path, golden, outputs):
    arrays = {"outputs": np.asarray(outputs, "float32"), **{k: np.asarray(v) for k, v in golden.items()}}
    atomic_write(path, lambda f: np.savez_compressed(f, **arrays))
