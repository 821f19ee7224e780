"""Encoders downstream: a classifier from a zoo name, the linear probe, McNemar's test.

A DAE's `encoder` is a plain `keras.Model`, so the Keras way works as is:

```python
encoder = keras_dae.load("sdae-mnist-mask", part="encoder")
clf = keras.Sequential([encoder, keras.layers.Dense(10)])
```

`classifier` does the same from a name, a path or a model, and can freeze the encoder;
`linear_probe` scores frozen features with a logistic regression; `mcnemar` tells whether
two classifiers' test errors differ beyond chance (paired, on the same test images).
"""

import json
import math
import os

import keras
import numpy as np

from keras_dae import backend
from keras_dae.evaluation.probe import linear_probe as linear_probe
from keras_dae.networks.mlp import TiedDense
from keras_dae.utils import atomic_save, atomic_write

__all__ = ["classifier", "fine_tune", "linear_probe", "mcnemar"]


def classifier(encoder, num_classes=10, trainable=True, dropout=0.0, name=None):
    """A classifier: a DAE's encoder, then one `Dense(num_classes)` layer giving logits.

    Args:
        encoder: a `keras.Model` (e.g. `model.encoder`), or anything `keras_dae.load`
            accepts (a zoo name, `hf://org/repo`, a local file), whose encoder is used.
        num_classes: int, the number of classes (the logits' width).
        trainable: False freezes the encoder (only the head trains: a linear probe
            trained by `fit`); True fine-tunes the whole stack. Either way the decoding
            biases of tied layers (`networks.TiedDense`), which the encoder does not use,
            are frozen: they would get no gradient.
        dropout: float in [0, 1), dropout on the features before the head.
        name: the model's name (default: `"<encoder name>_classifier"`).

    Returns:
        An uncompiled `keras.Sequential`; compile it with
        `loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)`.

    Example:

    >>> clf = keras_dae.downstream.classifier("sdae-mnist-mask", num_classes=10)
    >>> clf.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    ...             metrics=["accuracy"])
    >>> clf.fit(x_train, y_train, epochs=10)
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"`num_classes` must be an int ≥ 2. Received: num_classes={num_classes!r}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout!r}")
    if not isinstance(encoder, keras.Model):
        from keras_dae.zoo.hub import load

        encoder = load(encoder, part="encoder")
    encoder.trainable = bool(trainable)
    for layer in encoder._flatten_layers():
        if isinstance(layer, TiedDense):
            layer.transpose_bias.trainable = False
    layers = [encoder]
    if dropout:
        layers.append(keras.layers.Dropout(float(dropout), name="dropout"))
    layers.append(keras.layers.Dense(num_classes, name="logits"))
    return keras.Sequential(layers, name=name or f"{encoder.name}_classifier")


def mcnemar(y_true, pred_a, pred_b):
    """McNemar's exact test: do two classifiers err on the same test set at different rates?

    Only the images exactly one of them gets wrong count: `b` (A right, B wrong) and `c`
    (A wrong, B right). Under the null hypothesis each of those `b + c` images is a fair
    coin, so the two-sided p-value is the binomial tail of `min(b, c)`.

    Args:
        y_true: true labels, shape `(N,)`.
        pred_a, pred_b: predicted labels of A and B on the same `N` images.

    Returns:
        A dict: `b`, `c`, `errors_a`, `errors_b` (counts) and `p_value`.

    Example:
    >>> mcnemar(y_test, clf_a.predict(x).argmax(-1), clf_b.predict(x).argmax(-1))["p_value"]
    """
    y_true, pred_a, pred_b = (np.asarray(v).reshape(-1) for v in (y_true, pred_a, pred_b))
    if not len(y_true) == len(pred_a) == len(pred_b):
        raise ValueError(
            "`y_true`, `pred_a` and `pred_b` must have the same length. Received lengths "
            f"{len(y_true)}, {len(pred_a)} and {len(pred_b)}"
        )
    right_a, right_b = pred_a == y_true, pred_b == y_true
    b, c = int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))
    return {"b": b, "c": c, "errors_a": int(np.sum(~right_a)), "errors_b": int(np.sum(~right_b)),
            "p_value": _binomial_two_sided(min(b, c), b + c)}


def _binomial_two_sided(k, n):
    """P(X ≤ k or X ≥ n − k) for X ~ Binomial(n, 1/2), k ≤ n/2; exact, in log space."""
    if n == 0:
        return 1.0
    log_half_n = n * math.log(0.5)
    tail = sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + log_half_n)
               for i in range(k + 1))
    return float(min(1.0, 2.0 * tail))


def fine_tune(model, x_train, y_train, x_val, y_val, epochs=20, learning_rate=0.1, momentum=0.9,
              batch_size=64, verbose=0, callbacks=None, checkpoint_dir=None):
    """Supervised fine-tuning with model selection on a validation set (Vincent et al. 2010).

    SGD with momentum, the learning rate decaying to 0 on a cosine over `epochs`; after
    every epoch the validation accuracy is measured, and the weights of the best epoch are
    restored at the end (the paper's early stopping, without stopping early).

    Args:
        model: a classifier giving logits (e.g. from `classifier`); compiled here.
        x_train, y_train: training images and integer labels.
        x_val, y_val: validation images and labels (for model selection only).
        epochs: int, the fine-tuning budget.
        learning_rate: float, the initial SGD learning rate.
        momentum: float, SGD momentum.
        batch_size: int.
        verbose: `fit` verbosity.
        callbacks: more Keras callbacks for `fit` (e.g. `BackupAndRestore`, `CSVLogger`).
        checkpoint_dir: a folder where the best epoch's weights and score are kept (written
            atomically when an epoch beats them) rather than in memory, so that a run
            resumed by a `BackupAndRestore` in `callbacks` still ends with the best epoch
            of the whole run.

    Returns:
        The `History`; `history.history["val_accuracy"]` is the selection curve (of the
        epochs this call ran) and `history.best_epoch` (1-based) the epoch whose weights
        the model now holds.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive int. Received: epochs={epochs!r}")
    steps = epochs * -(-len(x_train) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    model.compile(optimizer=keras.optimizers.SGD(schedule, momentum=momentum),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    backend.build_optimizer(model)
    best = _KeepBest(checkpoint_dir)
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
                        batch_size=batch_size, callbacks=[best, *(callbacks or [])], verbose=verbose)
    best.restore()
    history.best_epoch = best.epoch
    return history


class _KeepBest(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the highest `val_accuracy` (the first of equals),
    in memory or, with `folder`, in `best.weights.h5` and `best.json` there; `restore()`
    puts them back into the model."""

    def __init__(self, folder=None):
        super().__init__()
        self.folder = None if folder is None else os.fspath(folder)
        self.epoch, self.score, self._weights = None, -np.inf, None
        if self.folder is not None and os.path.isfile(self._path("best.json")):
            with open(self._path("best.json")) as f:
                record = json.load(f)
            self.epoch, self.score = record["epoch"], record["val_accuracy"]

    def _path(self, name):
        return os.path.join(self.folder, name)

    def on_epoch_end(self, epoch, logs=None):
        score = float((logs or {}).get("val_accuracy", -np.inf))
        if score <= self.score:
            return
        self.epoch, self.score = epoch + 1, score
        if self.folder is None:
            self._weights = self.model.get_weights()
            return
        atomic_save(self._path("best.weights.h5"), self.model.save_weights)
        atomic_write(self._path("best.json"), json.dumps({"epoch": self.epoch, "val_accuracy": score}) + "\n")

    def restore(self):
        if self._weights is not None:
            self.model.set_weights(self._weights)
        elif self.folder is not None and os.path.isfile(self._path("best.weights.h5")):
            self.model.load_weights(self._path("best.weights.h5"))
