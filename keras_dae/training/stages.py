"""Training in stages: one `fit` per stage, each with a fresh optimizer of its own (a warm
restart of the learning-rate schedule, a change of optimizer, an average of the weights
switched on), paused and resumed between and inside stages like a single run.

Epochs are numbered across the stages (stage k trains the epochs after those of stages
1 … k−1), so that callbacks see one run: a `CSVLogger` logs one row per epoch of it, a
`keras.callbacks.BackupAndRestore` resumes inside the stage it stopped in. At the end of
each stage the model's variables (weights and seed-generator states, not the optimizer,
which the next stage replaces) are recorded in `checkpoint_dir`; a later call with the
same folder continues after the last finished stage.

>>> stages = [Stage(20, lambda steps: warmup_cosine_adam(steps, 2e-3, 200)),
...           Stage(10, lambda steps: warmup_cosine_adam(steps, 5e-4, 200, ema_momentum=0.999))]
>>> history = fit_stages(model, batches, stages, callbacks=[backup, csv], checkpoint_dir="ckpt")
"""

import json
import os
import shutil

import keras
import numpy as np

from keras_dae.callbacks import EvaluateWithEMA
from keras_dae.utils import atomic_write

_STATE, _VARIABLES = "stages.json", "stages.npz"


class Stage:
    """One stage of a staged run.

    Args:
        epochs: int, the stage's epochs.
        optimizer: a callable `total_steps -> keras.optimizers.Optimizer`, called with the
            stage's own step count (its schedule spans the stage).
        description: a short text for the model card, e.g. "cosine from 2e-3".
        setup: None, or a callable `model -> None` that changes what the stage trains on
            before it starts (e.g. the corruption's σ distribution); it is run again when
            a later call resumes in or after this stage, so it must only set, not toggle.
    """

    def __init__(self, epochs, optimizer, description="", setup=None):
        if int(epochs) != epochs or epochs < 1:
            raise ValueError(f"`epochs` must be a positive integer. Received: epochs={epochs!r}")
        if not callable(optimizer):
            raise TypeError(f"`optimizer` must be a callable `total_steps -> optimizer`. "
                            f"Received: optimizer={optimizer!r}")
        if setup is not None and not callable(setup):
            raise TypeError(f"`setup` must be None or a callable `model -> None`. Received: setup={setup!r}")
        self.epochs, self.optimizer, self.description, self.setup = int(epochs), optimizer, description, setup

    def __repr__(self):
        return f"Stage({self.epochs}, {self.description!r})"


def scale(stages, epochs):
    """The stages shortened (or lengthened) to `epochs` in all, in proportion, each stage
    keeping at least one epoch while `epochs` allows; the stages as they are when `epochs`
    is their sum (a short trial run of a staged recipe: `keras-dae train --epochs 2`)."""
    total = sum(s.epochs for s in stages)
    if epochs == total:
        return list(stages)
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"`epochs` must be a positive integer. Received: epochs={epochs!r}")
    kept = stages[:epochs]  # fewer epochs than stages: the first stages, one epoch each
    counts = [max(1, s.epochs * epochs // total) for s in kept]
    order = sorted(range(len(kept)), key=lambda i: -kept[i].epochs)
    i = 0
    while sum(counts) != epochs:  # hand out (or take back) the remainder, largest stage first
        j = order[i % len(kept)]
        if sum(counts) < epochs:
            counts[j] += 1
        elif counts[j] > 1:
            counts[j] -= 1
        i += 1
    return [Stage(n, s.optimizer, s.description, s.setup) for n, s in zip(counts, kept)]


def fit_stages(model, data, stages, *, steps_per_epoch=None, callbacks=(), checkpoint_dir=None, **fit_kwargs):
    """Trains `model` on `data` stage by stage; see the module docstring.

    Args:
        model: a compiled or uncompiled Keras model; each stage compiles it with its optimizer.
        data: what `fit` accepts; `steps_per_epoch` defaults to `len(data)` (a `PyDataset`).
        stages: a list of `Stage`.
        steps_per_epoch: int, the optimizer steps of one epoch (sizes each stage's schedule).
        callbacks: Keras callbacks passed to every stage's `fit`.
        checkpoint_dir: the folder where finished stages are recorded; None: not recorded.
        **fit_kwargs: passed to `fit` (not `epochs` or `initial_epoch`).

    Returns:
        The history of every stage trained by this call, one list per metric.
    """
    if not stages:
        raise ValueError(f"`stages` must hold at least one `Stage`. Received: stages={stages!r}")
    steps_per_epoch = int(steps_per_epoch if steps_per_epoch is not None else len(data))
    callbacks = list(callbacks)
    plan = [s.epochs for s in stages]
    done = 0 if checkpoint_dir is None else finished_stages(model, checkpoint_dir, plan)
    for stage in stages[:done]:  # what the finished stages changed, in order
        if stage.setup is not None:
            stage.setup(model)
    history, first = {}, sum(plan[:done])
    for k, stage in enumerate(stages[done:], start=done):
        if stage.setup is not None:
            stage.setup(model)
        optimizer = stage.optimizer(stage.epochs * steps_per_epoch)
        model.compile(optimizer=optimizer)
        drop_backups_before(callbacks, first)
        average = [EvaluateWithEMA()] if optimizer.use_ema and not any(
            isinstance(c, EvaluateWithEMA) for c in callbacks) else []
        # Keras 3.15: a `BackupAndRestore` that restored an earlier `fit` of this model left
        # the epoch it restored in `model._initial_epoch`, which overrides `initial_epoch`
        # in every later `fit` (docs/upstream/backup_initial_epoch.py).
        model._initial_epoch = None
        run = model.fit(data, initial_epoch=first, epochs=first + stage.epochs,
                        callbacks=average + callbacks, **fit_kwargs)
        for key, values in run.history.items():
            history.setdefault(key, []).extend(values)
        first += stage.epochs
        if checkpoint_dir is not None:  # `fit` has returned: the average, if kept, is in the model
            record_stage(model, checkpoint_dir, k + 1, plan)
    return history


def record_stage(model, folder, stages_done, plan):
    """Records the model's variables after `stages_done` stages of `plan` (epochs per
    stage) in `folder`: the variables first, then the count, each written atomically."""
    arrays = [keras.ops.convert_to_numpy(v) for v in model.variables]
    atomic_write(os.path.join(folder, _VARIABLES), lambda f: np.savez(f, *arrays))
    atomic_write(os.path.join(folder, _STATE), json.dumps(
        {"stages_done": stages_done, "epochs": list(plan), "variables": len(arrays)}) + "\n")


def finished_stages(model, folder, plan):
    """The count of stages of `plan` an earlier call recorded in `folder` (their result
    loaded into `model`), or 0."""
    path = os.path.join(os.fspath(folder), _STATE)
    if not os.path.isfile(path):
        return 0
    with open(path) as f:
        record = json.load(f)
    done = int(record["stages_done"])
    if record["epochs"][:done] != list(plan)[:done] or done > len(plan):
        # The stages it finished must be this plan's first ones; later stages may differ
        # (a recipe given another stage continues a finished run).
        raise ValueError(f"{folder} holds a run that finished {done} stages of {record['epochs']} epochs, "
                         f"not the first stages of this plan; remove it to start afresh. Received: stages "
                         f"of {list(plan)} epochs")
    with np.load(os.path.join(os.fspath(folder), _VARIABLES), allow_pickle=False) as stored:
        arrays = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    variables = model.variables
    if len(arrays) != len(variables) or any(tuple(a.shape) != tuple(v.shape) for a, v in zip(arrays, variables)):
        raise ValueError(f"{folder} holds {len(arrays)} variables that do not fit this model's "
                         f"{len(variables)}: it was recorded from another model.")
    for variable, array in zip(variables, arrays):
        variable.assign(array)
    return done


def drop_backups_before(callbacks, first_epoch):
    """Removes a `BackupAndRestore` checkpoint left by an earlier stage or layer (its epoch
    count is at most `first_epoch`): it holds another optimizer's (or model's) state."""
    for callback in callbacks:
        if not isinstance(callback, keras.callbacks.BackupAndRestore):
            continue
        metadata = os.path.join(callback.backup_dir, "training_metadata.json")
        if os.path.isfile(metadata):
            with open(metadata) as f:
                if json.load(f)["epoch"] <= first_epoch:
                    shutil.rmtree(callback.backup_dir)
