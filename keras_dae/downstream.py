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

import math

import keras
import numpy as np

from keras_dae.probe import linear_probe as linear_probe

__all__ = ["classifier", "fine_tune", "linear_probe", "mcnemar"]


def classifier(encoder, num_classes=10, trainable=True, dropout=0.0, name=None):
    """A classifier: a DAE's encoder, then one `Dense(num_classes)` layer giving logits.

    Args:
        encoder: a `keras.Model` (e.g. `model.encoder`), or anything `keras_dae.load`
            accepts (a zoo name, `hf://org/repo`, a local file), whose encoder is used.
        num_classes: int, the number of classes (the logits' width).
        trainable: False freezes the encoder (only the head trains: a linear probe
            trained by `fit`); True fine-tunes the whole stack.
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
        from keras_dae.hub import load

        encoder = load(encoder, part="encoder")
    encoder.trainable = bool(trainable)
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
              batch_size=64, verbose=0):
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

    Returns:
        The `History`; `history.history["val_accuracy"]` is the selection curve and
        `history.best_epoch` (1-based) the epoch whose weights the model now holds.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive int. Received: epochs={epochs!r}")
    steps = epochs * -(-len(x_train) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    model.compile(optimizer=keras.optimizers.SGD(schedule, momentum=momentum),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    best = keras.callbacks.EarlyStopping("val_accuracy", mode="max", patience=epochs,
                                         restore_best_weights=True)
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
                        batch_size=batch_size, callbacks=[best], verbose=verbose)
    history.best_epoch = int(np.argmax(history.history["val_accuracy"])) + 1
    return history
