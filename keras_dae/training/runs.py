"""A training run in progress: its checkpoint folder, its log, its parts, and pausing it.

`keras_dae.training.train` keeps a run's resumable state in one folder (by default
`zoo/<name>/checkpoint/`, small enough to commit so that the run continues on another
machine):

- `backup/`: `keras.callbacks.BackupAndRestore`'s weights, optimizer and seed-generator
  states at the last finished epoch;
- `log.csv`: one row per epoch of the whole run (`EpochLog`);
- `parts.json`: one entry per process that trained (`PartLog`): wall time, hardware, date;
- `stages.json`/`stages.npz`: the model after each finished stage (`keras_dae.training.stages`).

A finished run exports its entry and removes the folder; `keras_dae.training.reopen` puts it
back from the installed entry, so that a recipe given another stage continues where the export left off.
"""

import csv
import io
import json
import os
import pathlib
import platform
import time

import keras

from keras_dae.utils import atomic_write


class TrainingPaused(Exception):
    """Raised by `train` when a run stops at an epoch boundary before its last epoch; the
    checkpoint is kept, and the same `train` call (on this machine or on a fresh clone
    holding the checkpoint) resumes it."""


def hardware():
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, {keras.backend.backend()} backend"


def checkpoint_dir(recipe):
    """Where a run's resumable state lives: `zoo/<name>/checkpoint/` beside the recipe
    (weights, optimizer and seed-generator state, epoch, the CSV log and one line per part
    of the run). Small enough to commit, so that a run continues on another machine;
    removed when the run finishes."""
    return pathlib.Path(recipe.PATH).parent / "checkpoint" if hasattr(recipe, "PATH") else \
        pathlib.Path("outputs") / "zoo" / recipe.NAME / "checkpoint"


class PauseAtEpochEnd(keras.callbacks.Callback):
    """Stops `fit` cleanly after an epoch whose checkpoint has been written, when a wall-clock
    budget would not fit another epoch or when a stop file exists (`touch <checkpoint>/STOP`).

    Place it after `keras.callbacks.BackupAndRestore` so that the epoch is saved first. It
    raises `TrainingPaused` rather than setting `stop_training`, so that `BackupAndRestore`
    does not delete the checkpoint as it does at the end of a finished run.
    """

    def __init__(self, budget_seconds=None, stop_file=None):
        super().__init__()
        self.budget_seconds, self.stop_file = budget_seconds, stop_file
        self._start = self._epoch_start = None
        self._longest = 0.0

    def on_train_begin(self, logs=None):
        if self._start is None:  # the budget spans every `fit` of a run (one per layer in greedy pretraining)
            self._start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self._longest = max(self._longest, now - self._epoch_start)
        if epoch + 1 >= self.params.get("epochs", epoch + 2):
            return
        if self.stop_file is not None and os.path.exists(self.stop_file):
            os.remove(self.stop_file)
            raise TrainingPaused(f"stopped after epoch {epoch + 1} ({self.stop_file} found)")
        if self.budget_seconds is not None and now - self._start + self._longest > self.budget_seconds:
            raise TrainingPaused(f"stopped after epoch {epoch + 1}: another epoch would pass "
                                 f"the budget of {self.budget_seconds / 60:.0f} min")


class PartLog(keras.callbacks.Callback):
    """Keeps `<out>/parts.json` current at every epoch end: one entry per process that
    trained (its wall time, hardware, epochs reached), so that a run killed mid-epoch still
    counts the epochs it finished, and the card can sum the parts of a resumed run."""

    def __init__(self, path):
        super().__init__()
        self.path, self._start = pathlib.Path(path), time.perf_counter()
        self.parts = json.loads(self.path.read_text()) if self.path.is_file() else []
        self.parts.append({"seconds": 0.0, "hardware": hardware(), "finished": False,
                           "date": time.strftime("%Y-%m-%d %H:%M")})

    def _write(self, **fields):
        self.parts[-1].update(seconds=round(time.perf_counter() - self._start, 1), **fields)
        atomic_write(self.path, json.dumps(self.parts, indent=2) + "\n")
        return self.parts

    def on_epoch_end(self, epoch, logs=None):
        self._write(epochs=epoch + 1)

    def finish(self):
        """Marks this part as the one that completed the run; returns every part."""
        return self._write(finished=True)


class EpochLog(keras.callbacks.Callback):
    """The run's CSV log, one row per epoch of every part (`epoch` counted from 0, as
    `keras.callbacks.CSVLogger`). Unlike `CSVLogger(append=True)`, a part that logs other
    columns than the earlier ones (a stage that starts keeping an average of the weights
    adds `val_raw_psnr@…`) widens the header instead of writing its values under the old
    one; each epoch rewrites the file whole, atomically, so a kill never leaves half a row.
    """

    def __init__(self, path):
        super().__init__()
        self.path = pathlib.Path(path)

    def on_epoch_end(self, epoch, logs=None):
        rows = {int(r["epoch"]): r for r in _rows(self.path)}
        rows[epoch] = {"epoch": epoch, **{k: _cell(v) for k, v in (logs or {}).items()}}
        _write_log(self.path, [rows[e] for e in sorted(rows)])


def _write_log(path, rows):
    """Writes `rows` (dicts with an `epoch`) as the CSV log, atomically, under the union of
    their columns in order of appearance; a value a row lacks is left blank."""
    columns = ["epoch"] + list(dict.fromkeys(k for r in rows for k in r if k != "epoch"))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, text.getvalue())


def _cell(value):
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return str(value)


def _rows(path):
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_log(path):
    """The log of every part of a run as a history dict in epoch order: one value per epoch
    for every column, None for the epochs a column was not logged in (a value `CSVLogger`
    writes as "NA", or none at all)."""
    rows = sorted({int(r["epoch"]): r for r in _rows(pathlib.Path(path))}.values(), key=lambda r: int(r["epoch"]))
    keys = list(dict.fromkeys(k for r in rows for k in r if k and k != "epoch"))
    history = {k: [float(r[k]) if r.get(k) not in (None, "", "NA") else None for r in rows] for k in keys}
    return {k: v for k, v in history.items() if any(x is not None for x in v)}
