"""Training callbacks: the progressive noise schedule (§6.2), validation PSNR per σ (and
inside the mask, for inpainting), validation on the moving average of the weights, and the
epoch sync that lets a resumed run draw the data an uninterrupted one would have."""

import contextlib

import keras
import numpy as np

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


def _averaging_optimizer(model):
    """The model's optimizer when it keeps a moving average of the weights and has taken a
    step (the average exists), else None."""
    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # a LossScaleOptimizer's
    averages = getattr(optimizer, "_model_variables_moving_average", None)
    return optimizer if getattr(optimizer, "use_ema", False) and averages else None


def unshare_averages(model):
    """Gives the optimizer's moving averages of the weights their own buffers: `fit` ends by
    assigning them to the weights, and on JAX the two then share arrays that the next
    `predict` donates, deleting the averages (docs/upstream/jax_ema_shared_buffers.py).
    `DAE.fit` calls it when it returns."""
    optimizer = _averaging_optimizer(model)
    for average in optimizer._model_variables_moving_average if optimizer is not None else ():
        average.assign(keras.ops.convert_to_numpy(average))


@contextlib.contextmanager
def ema_weights(model):
    """Puts the optimizer's moving average of the weights into `model` for the duration of
    the `with` block, then the trained weights back (a no-op when the optimizer keeps no
    average, `use_ema=False`, or has taken no step yet).

    >>> model.compile(optimizer=keras.optimizers.Adam(1e-3, use_ema=True, ema_momentum=0.999))
    >>> with ema_weights(model):
    ...     x_hat = model.denoise(x_noisy)
    """
    optimizer = _averaging_optimizer(model)
    if optimizer is None:
        yield model
        return
    averages, variables = optimizer._model_variables_moving_average, optimizer._trainable_variables
    trained = [keras.ops.convert_to_numpy(v) for v in variables]
    for variable, average in zip(variables, averages):
        # A copy: on JAX a step donates the buffers of the model's variables, and a buffer
        # shared with the average would be deleted with them.
        variable.assign(keras.ops.convert_to_numpy(average))
    try:
        yield model
    finally:
        for variable, value in zip(variables, trained):
            variable.assign(value)


class EvaluateWithEMA(keras.callbacks.Callback):
    """Evaluates (`val_loss` in `fit`, `evaluate`) on the optimizer's moving average of the
    weights, the weights `fit` ends with. Unlike `keras.callbacks.SwapEMAWeights` it copies
    rather than swaps, so an interruption never leaves the average in place of the weights.
    """

    def on_test_begin(self, logs=None):
        self._scope = ema_weights(self.model)
        self._scope.__enter__()

    def on_test_end(self, logs=None):
        scope, self._scope = getattr(self, "_scope", None), None
        if scope is not None:
            scope.__exit__(None, None, None)


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


class ValidationPSNR(keras.callbacks.Callback):
    """Logs the model's PSNR on held-out images at fixed noise levels after every epoch,
    under the evaluation protocol (`keras_dae.evaluation`): NumPy noise from `seed`,
    unclipped; outputs clipped (and rounded on 8-bit data); PSNR per image, averaged.
    The values appear in the logs as `val_psnr@sigma=<σ>` (CSV log, `History`), for model
    selection on validation data.

    Args:
        images: clean validation images, an array `(N, H, W, C)` or a list of `(H, W, C)`
            arrays on the data scale (`[0, 1]`, or `[0, 255]` with `max_val=255`).
        sigmas: noise levels on the data scale.
        seed: the seed of the noise (the same noisy images every epoch).
        max_val: the data's peak value, 1 or 255 (255: outputs rounded to 8 bits).
        blind: also log `val_blind_psnr@sigma=<σ>`, with σ estimated by the model.

    When the optimizer keeps a moving average of the weights (`use_ema=True`), the PSNR is
    that of the average (what `fit` ends with), and `val_raw_psnr@sigma=<σ>` logs the
    weights being trained beside it, so one run measures what the average gains.

    Example:

    >>> model.fit(patches, epochs=10, callbacks=[ValidationPSNR(val_images, (15, 25, 50), max_val=255)])
    """

    def __init__(self, images, sigmas, seed=1, max_val=1.0, blind=False):
        super().__init__()
        from keras_dae import evaluation

        if max_val not in (1.0, 255.0):
            raise ValueError(f"`max_val` must be 1 or 255. Received: max_val={max_val!r}")
        self.clean = [np.asarray(im, "float32") for im in images]
        self.sigmas, self.max_val, self.blind = tuple(float(s) for s in sigmas), float(max_val), blind
        self.noisy = {s: evaluation.add_gaussian_noise(self.clean, s, seed) for s in self.sigmas}

    def _psnr(self, noisy, sigma):
        from keras_dae.metrics import psnr_numpy

        kwargs = {} if sigma is None else {"sigma": sigma / self.max_val}
        # Images of one size (e.g. digits) go through in one call, others one by one.
        if len({im.shape for im in self.clean}) == 1:
            groups = [(np.stack(self.clean), np.stack(noisy))]
        else:
            groups = [(clean[None], x[None]) for clean, x in zip(self.clean, noisy)]
        values = []
        for clean, x in groups:
            out = np.clip(self.model.denoise(x / self.max_val, **kwargs) * self.max_val, 0, self.max_val)
            if self.max_val == 255.0:
                out = np.round(out)
            values.extend(psnr_numpy(clean, out, self.max_val))
        return float(np.mean(values))

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if _averaging_optimizer(self.model) is not None:
            # The weights being trained, beside their average: what the average gains.
            for s in self.sigmas:
                logs[f"val_raw_psnr@sigma={s:g}"] = self._psnr(self.noisy[s], s)
        with ema_weights(self.model):  # what `fit` ends with, when the optimizer keeps an average
            for s in self.sigmas:
                logs[f"val_psnr@sigma={s:g}"] = self._psnr(self.noisy[s], s)
                if self.blind:
                    logs[f"val_blind_psnr@sigma={s:g}"] = self._psnr(self.noisy[s], None)


class ValidationInpaintingPSNR(keras.callbacks.Callback):
    """Logs the model's PSNR inside the mask on held-out images after every epoch, under
    the inpainting protocol (`keras_dae.evaluation.evaluate_inpainting`: the same seeded
    masks each epoch, outputs clipped, PSNR from the error over all masked pixels), as
    `val_psnr_masked@mask=<kind>` in the logs (CSV log, `History`).

    Args:
        images: clean validation images `(N, H, W, C)` in [0, 1].
        masks: mask kinds of `keras_dae.evaluation.make_masks` (e.g. `"block12"`, `"random50"`).
        seed: the seed of the masks.

    Example:

    >>> model.fit(x, epochs=3, callbacks=[ValidationInpaintingPSNR(x_val[:500], ("block12",))])
    """

    def __init__(self, images, masks=("block12", "random50"), seed=1):
        super().__init__()
        from keras_dae import evaluation

        self.clean = np.asarray(images, "float32")
        self.masks = {kind: evaluation.make_masks(kind, self.clean.shape, seed) for kind in masks}

    def on_epoch_end(self, epoch, logs=None):
        from keras_dae.metrics import psnr_masked_numpy

        if logs is None:
            return
        with ema_weights(self.model):
            for kind, mask in self.masks.items():
                out = np.clip(self.model.inpaint(self.clean, mask), 0.0, 1.0)
                logs[f"val_psnr_masked@mask={kind}"] = float(psnr_masked_numpy(self.clean, out, mask, pooled=True))


class SyncDatasetEpoch(keras.callbacks.Callback):
    """Tells a dataset with `set_epoch(epoch)` (`keras_dae.datasets.ArrayBatches`,
    `ImagePatchDataset`) which epoch begins, so that a run resumed at epoch k by
    `keras.callbacks.BackupAndRestore` draws epoch k's batches, not epoch 0's again.

    Args:
        dataset: the dataset passed to `fit`.
    """

    def __init__(self, dataset):
        super().__init__()
        if not callable(getattr(dataset, "set_epoch", None)):
            raise ValueError(f"`dataset` must have a `set_epoch` method. Received: dataset={dataset!r}")
        self.dataset = dataset

    def on_epoch_begin(self, epoch, logs=None):
        self.dataset.set_epoch(epoch)
