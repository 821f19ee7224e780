"""Training callbacks: the progressive noise schedule (§6.2)."""

import keras

from keras_dae.layers import AdditiveGaussian, Compose


def _find_gaussian(layer):
    if isinstance(layer, AdditiveGaussian):
        return layer
    if isinstance(layer, Compose):
        for sub in layer.corruptions:
            found = _find_gaussian(sub)
            if found is not None:
                return found
    return None


class NoiseSchedule(keras.callbacks.Callback):
    """Changes the σ of an `AdditiveGaussian` corruption at the start of every epoch.

    The default is the linear ramp of §6.2, σ_t = σ₀ + (t / T)(σ_max − σ₀) for epoch
    t = 0 … T, constant after T: learn easy denoising first, then harder. A custom
    `schedule(epoch)` may return a float (fixed σ) or a `(low, high)` range. σ lives in
    the layer's variables, so the change reaches a compiled `fit` on every backend. The σ
    in force is logged as `sigma` (or `sigma_min`, `sigma_max` for a range).

    Args:
        sigma_start: float, σ₀ (ignored if `schedule` is given).
        sigma_end: float, σ_max.
        epochs: int, T, the epochs the ramp lasts.
        schedule: optional callable `epoch -> sigma | (low, high)`.
        layer: the `AdditiveGaussian` to drive; defaults to the model's `corruption` (or
            the first `AdditiveGaussian` inside a `Compose`).
        verbose: int, print the σ of each epoch when > 0.

    Example:

    >>> model.fit(x, epochs=20, callbacks=[
    ...     keras_dae.callbacks.NoiseSchedule(sigma_start=0.05, sigma_end=0.5, epochs=10)])
    """

    def __init__(self, sigma_start=None, sigma_end=None, epochs=None, schedule=None,
                 layer=None, verbose=0):
        super().__init__()
        if schedule is None:
            if sigma_start is None or sigma_end is None or not isinstance(epochs, int) or epochs < 1:
                raise ValueError(
                    "Pass `schedule`, or `sigma_start`, `sigma_end` and `epochs` >= 1. Received: "
                    f"sigma_start={sigma_start!r}, sigma_end={sigma_end!r}, epochs={epochs!r}"
                )
            if sigma_start < 0 or sigma_end < 0:
                raise ValueError(
                    f"σ must be >= 0. Received: sigma_start={sigma_start!r}, sigma_end={sigma_end!r}"
                )
        elif not callable(schedule):
            raise ValueError(f"`schedule` must be callable. Received: schedule={schedule!r}")
        self.sigma_start, self.sigma_end, self.epochs = sigma_start, sigma_end, epochs
        self.schedule = schedule
        self.layer = layer
        self.verbose = verbose
        self.current = None

    def sigma_at(self, epoch):
        """The σ (or `(low, high)`) of `epoch` (0-based)."""
        if self.schedule is not None:
            return self.schedule(epoch)
        t = min(epoch / self.epochs, 1.0)
        return self.sigma_start + t * (self.sigma_end - self.sigma_start)

    def _target(self):
        layer = self.layer or _find_gaussian(getattr(self.model, "corruption", None))
        if layer is None:
            raise ValueError(
                "NoiseSchedule found no AdditiveGaussian to drive: pass `layer=`. Received: "
                f"model.corruption={getattr(self.model, 'corruption', None)!r}"
            )
        return layer

    def on_epoch_begin(self, epoch, logs=None):
        value = self.sigma_at(epoch)
        if isinstance(value, (tuple, list)):
            self._target().set_sigma(sigma_range=tuple(value))
        else:
            self._target().set_sigma(sigma=float(value))
        self.current = value
        if self.verbose:
            print(f"NoiseSchedule: epoch {epoch + 1}, sigma={value}")

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if isinstance(self.current, (tuple, list)):
            logs["sigma_min"], logs["sigma_max"] = float(self.current[0]), float(self.current[1])
        else:
            logs["sigma"] = float(self.current)
