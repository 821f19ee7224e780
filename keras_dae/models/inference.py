"""What a trained denoiser offers its users: `denoise`, `inpaint`, `estimate_sigma`, `score`,
`sample`, and the checks that keep bad input from reaching a traced function.

Every entry point validates its input before Keras sees it (a failed trace can leave a
loaded JAX model unusable): shape and channels against the network, finite values, a
non-empty batch, the value range, σ. A single example without the batch axis is accepted
and answered without one.
"""

import warnings

import numpy as np
from keras import ops

from keras_dae import noise_level, tiling
from keras_dae.layers import AdditiveGaussian
from keras_dae.models import sampling


class InferenceMixin:
    """The inference API shared by the objectives (`keras_dae.models.DAE` and its subclasses)."""

    @property
    def example_shape(self):
        """The shape of one example the model takes, without the batch axis (e.g.
        `(28, 28, 1)`; `None` for an axis of any size)."""
        return tuple(self.network.inputs[0].shape[1:])

    def _check_input(self, x, name="x_noisy"):
        """`(x as a float32 batch, single)`: the input checked against the network, with a
        batch axis added when `x` is one example (`single`)."""
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as e:
            raise ValueError(f"`{name}` must be an array of numbers. Received: {type(x).__name__} ({e})") from None
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise ValueError(f"`{name}` must be an array of numbers. Received: dtype {x.dtype}")
        want = self.example_shape
        single = x.ndim == len(want)
        batch = x[None] if single else x
        fits = batch.ndim == len(want) + 1 and all(w is None or w == g for w, g in zip(want, batch.shape[1:]))
        if not fits:
            shape = "(batch, " + ", ".join("any" if w is None else str(w) for w in want) + ")"
            raise ValueError(f"`{name}` must have shape {shape} or one example without the batch axis. "
                             f"Received: {name} of shape {x.shape}")
        if batch.shape[0] == 0 or batch.size == 0:
            raise ValueError(f"`{name}` is empty. Received: {name} of shape {x.shape}")
        if np.issubdtype(batch.dtype, np.floating) and not np.all(np.isfinite(batch)):
            bad = int(np.sum(~np.isfinite(batch)))
            raise ValueError(f"`{name}` must be finite. Received: {name} with {bad} NaN or infinite "
                             f"value(s) among {batch.size}")
        return batch, single

    def _check_range(self, x, sigma, name="x_noisy"):
        if self.value_range is None:
            return
        low, high = self.value_range
        if np.issubdtype(x.dtype, np.integer) and high - low <= 1.0:
            raise ValueError(
                f"`{name}` must be floats in the model's value_range {self.value_range}; integer "
                f"data (e.g. uint8 0–255 images) must be scaled first. Received: {name} of dtype "
                f"{x.dtype} with min={x.min()}, max={x.max()}"
            )
        noise = float(np.max(sigma)) if sigma is not None else self._max_sigma()
        margin = 0.5 * (high - low) + 6.0 * noise
        if x.size and (x.min() < low - margin or x.max() > high + margin):
            raise ValueError(
                f"`{name}` must be in the model's value_range {self.value_range} (noisy data may "
                f"overshoot it by up to {margin:.3g}; pass `sigma=` for stronger noise). "
                f"Received: {name} with min={x.min():.4g}, max={x.max():.4g}, dtype={x.dtype}"
            )

    def _max_sigma(self):
        if isinstance(self.corruption, AdditiveGaussian):
            return float(ops.convert_to_numpy(self.corruption.sigma_max))
        return 0.0

    def _sigma_array(self, sigma, n, required):
        if sigma is None:
            if required:
                raise ValueError(
                    f"{type(self).__name__} is conditioned on the noise level: pass `sigma`, a "
                    f"scalar or one value per example, in the units of value_range "
                    f"{self.value_range}. Received: sigma=None"
                )
            return None
        try:
            s = np.asarray(sigma, dtype="float32").reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(f"`sigma` must be a number or an array of numbers. Received: sigma={sigma!r}") from None
        if s.size == 1:
            s = np.full((n,), s[0], "float32")
        if s.shape != (n,) or not np.all(np.isfinite(s)) or np.any(s < 0):
            raise ValueError(
                f"`sigma` must be a scalar or {n} finite values >= 0. Received: sigma of shape "
                f"{np.shape(sigma)}, values {s[:4].tolist()}{' …' if s.size > 4 else ''}"
            )
        return s

    def _prepare(self, x, sigma, name="x_noisy"):
        """`(network inputs, σ array)` of an already checked batch `x`."""
        s = self._sigma_array(sigma, len(x), required=self.conditioned)
        self._check_range(x, s, name)
        if self.conditioned and s is not None and isinstance(self.corruption, AdditiveGaussian):
            low, high = (float(ops.convert_to_numpy(v)) for v in (self.corruption.sigma_min, self.corruption.sigma_max))
            if s.size and (s.min() < low * (1 - 1e-4) or s.max() > high * (1 + 1e-4)):
                warnings.warn(
                    f"{self.name} was trained for σ in [{low:.4g}, {high:.4g}]; `sigma` from "
                    f"{s.min():.4g} to {s.max():.4g} lies outside it, where the network has never "
                    "been tried.", stacklevel=3)
        x = x.astype("float32")
        return ([x, s] if self.conditioned else x), s

    def denoise(self, x_noisy, sigma=None, batch_size=256, tile_size=None, progress=None):
        """Denoises `x_noisy` (never corrupts); returns a numpy array.

        A fully convolutional network (e.g. `networks.dncnn`) takes images of any size:
        those over about a megapixel (or all, with `tile_size`) go through in overlapping
        windows whose overlap covers the receptive field, so the output equals the
        whole-image output while memory stays bounded (`keras_dae.tiling`).

        Args:
            x_noisy: array of noisy examples in the model's value range (noise may
                overshoot it).
            sigma: the noise level, a scalar or one per example, in the units of the value
                range. Blind networks ignore it. A σ-conditioned model given no σ
                estimates it per example with `estimate_sigma` (Gaussian noise; costs a
                second pass).
            batch_size: int.
            tile_size: None (whole images up to `tiling.DEFAULT_MAX_PIXELS`, else windows
                of `tiling.DEFAULT_TILE`) or the window side to use for every image.
            progress: optional callable `(done, total)` called as windows finish, when the
                images go through in windows (blind use: once per pass of the model).

        Example:

        >>> clean = model.denoise(noisy_images, sigma=0.3)
        >>> clean = model.denoise(noisy_images)  # σ estimated per image
        >>> big = model.denoise(photo_4000x3000[None], sigma=25 / 255)  # in 512×512 windows
        """
        x, single = self._check_input(x_noisy, "x_noisy")
        if self.conditioned and sigma is None:
            # estimate_sigma checks the range with its first guess; the refined σ̂ of a
            # poorly fitting model may be far smaller, so it is not checked again.
            sigma = self.estimate_sigma(x, batch_size=batch_size, tile_size=tile_size, progress=progress)
            out = self._run(x.astype("float32"), sigma, batch_size, tile_size, progress)
        else:
            inputs, s = self._prepare(x, sigma)
            out = self._run(inputs[0] if self.conditioned else inputs, s, batch_size, tile_size, progress)
        return out[0] if single else out

    def _run(self, x, sigma, batch_size, tile_size=None, progress=None):
        """The network's inference output on prepared inputs, whole or in windows."""
        radius = tiling.receptive_radius(self.network) if x.ndim == 4 else None
        if radius is None or (tile_size is None and x.shape[1] * x.shape[2] <= tiling.DEFAULT_MAX_PIXELS):
            inputs = [x, sigma] if self.conditioned else x
            if len(x) <= batch_size:  # one batch: without predict's per-call set-up (50 → 6 ms on TF)
                return np.asarray(self.predict_on_batch(inputs))
            return np.asarray(self.predict(inputs, batch_size=batch_size, verbose=0))
        tile = tile_size or tiling.DEFAULT_TILE
        per_call = max(1, tiling.DEFAULT_MAX_PIXELS // (tile * tile))

        def predict(*inputs):
            return self.predict(list(inputs) if self.conditioned else inputs[0], batch_size=per_call, verbose=0)

        return tiling.predict_tiled(predict, x, sigma if self.conditioned else None, tile=tile,
                                    radius=radius, batch_size=per_call, progress=progress)

    def inpaint(self, x, mask, sigma=None, batch_size=256):
        """Fills the elements where `mask` is 1 and keeps the others; returns numpy.

        The masked elements are zeroed (the masking corruption's fill), the model
        reconstructs the whole input, and its output replaces only the masked elements.

        Args:
            x: array of examples in the model's value range (masked values are ignored).
            mask: array broadcastable to `x`, 1 (or True) where the element is missing.
            sigma: passed to σ-conditioned networks (default: the lowest σ the model was
                trained with, the closest it knows to no additive noise).
            batch_size: int.

        Example:

        >>> filled = model.inpaint(digits, block_mask)
        """
        x, single = self._check_input(x, "x")
        x = x.astype("float32")
        try:
            mask = np.broadcast_to(np.asarray(mask, dtype="float32"), x.shape[1:] if single else x.shape)
        except ValueError:
            raise ValueError(f"`mask` must broadcast to the shape of `x`, {x.shape[1:] if single else x.shape}. "
                             f"Received: mask of shape {np.shape(mask)}") from None
        mask = np.broadcast_to(mask, x.shape)
        if np.any((mask != 0) & (mask != 1)):
            raise ValueError("`mask` must hold 0 (keep) and 1 (missing). Received: values "
                             f"{np.unique(mask)[:5]}")
        masked = x * (1.0 - mask)
        filled = masked + mask * self._fill(masked, np.ascontiguousarray(mask), sigma, batch_size)
        return filled[0] if single else filled

    def _fill(self, masked, mask, sigma, batch_size):
        """The reconstruction of zero-filled `masked` examples (a plain denoiser does not
        see the mask: the masked pixels are, to it, one more kind of noise)."""
        if self.conditioned and sigma is None:
            sigma = self.sigma_for_features
        return self.denoise(masked, sigma=sigma, batch_size=batch_size)

    def estimate_sigma(self, x_noisy, batch_size=256, tile_size=None, refinements=1, progress=None):
        """Per-example σ of additive Gaussian noise in `x_noisy`, for blind use; also on
        files whose noise was clipped to the value range when they were saved.

        A first guess from the finest wavelet coefficients of the unclipped pixels
        (`noise_level.wavelet_sigma`; for inputs other than images `(N, H, W, C)`, the
        robust deviation of the input's differences) is refined `refinements` times: the
        model denoises with the current σ̂, and σ̂ becomes the σ under which what it removed
        is most likely, pixels clipped at an end of the value range counted as clipped
        (`noise_level.censored_sigma`). Each refinement costs one pass of the model; more
        than one drifts low on photographs (the median rule's fixed point: −21 % at σ = 15
        against −5 % after one, on train400's held-out crops), so one is the default.
        """
        x, single = self._check_input(x_noisy, "x_noisy")
        x = x.astype("float32")
        value_range = self.value_range
        if x.ndim == 4:
            sigma = noise_level.wavelet_sigma(x, value_range)
        else:
            flat = x.reshape(len(x), -1)
            sigma = np.median(np.abs(np.diff(flat, axis=1)), axis=1) / (0.6745 * np.sqrt(2.0))
        sigma = np.maximum(sigma, 1e-4).astype("float32")
        self._prepare(x, sigma)  # the range check, with the first guess
        for _ in range(refinements):
            x_hat = self._run(x, sigma, batch_size, tile_size, progress)
            sigma = np.maximum(noise_level.censored_sigma(x, x_hat, value_range), 1e-4).astype("float32")
        return sigma[0] if single else sigma

    def _score_batch(self, x, sigma):
        """Tweedie's score estimate (D(x, σ) − x) / σ² on a batch; numpy in, numpy out."""
        x_hat = self.predict_on_batch([x, sigma] if self.conditioned else x)
        s2 = np.square(sigma).reshape((-1,) + (1,) * (x.ndim - 1))
        return (np.asarray(x_hat) - x) / s2

    def score(self, x, sigma, batch_size=1024):
        """The score ∇ log p_σ(x) by Tweedie's formula, (D(x, σ) − x) / σ² (§9.2).

        Meaningful for Gaussian corruption; σ (scalar or one per example) is required.
        """
        x, single = self._check_input(x, "x")
        x = x.astype("float32")
        s = self._sigma_array(sigma, len(x), required=True)
        scores = np.concatenate([
            self._score_batch(x[i:i + batch_size], s[i:i + batch_size])
            for i in range(0, len(x), batch_size)
        ])
        return scores[0] if single else scores

    # Sampling: annealed Langevin from the Tweedie score for σ-conditioned Gaussian denoisers,
    # the walkback chain for the others. `self.sampling` holds the model's chosen settings.

    @property
    def sampling(self):
        """The settings `sample` uses (a dict of `SAMPLING_KEYS`), or None for the defaults."""
        return getattr(self, "_sampling_settings", None)

    @sampling.setter
    def sampling(self, value):
        self._sampling_settings = check_sampling(value)

    @property
    def samples_by_langevin(self):
        """True when `sample` runs annealed Langevin dynamics by default: the network is
        σ-conditioned and trained on additive Gaussian noise, so Tweedie's formula gives the
        score at every σ it was trained on."""
        return self.conditioned and isinstance(self.corruption, AdditiveGaussian)

    def default_sigmas(self, num=None):
        """The Langevin noise levels: `self.sampling`'s `sigma_max`, `sigma_min` and `levels`
        where set, else the geometric ladder over the corruption's σ range (its lowest σ
        floored at 1e-3 × its highest) in 10 levels."""
        settings = self.sampling or {}
        high = settings.get("sigma_max") or float(ops.convert_to_numpy(self.corruption.sigma_max))
        low = settings.get("sigma_min") or max(float(ops.convert_to_numpy(self.corruption.sigma_min)), 1e-3 * high)
        return sampling.geometric_sigmas(high, low, num or settings.get("levels") or LANGEVIN_DEFAULTS["levels"])

    def sample(self, n, steps=None, seed=0, x_init=None, return_chain=False, *, sampler=None,
               sigmas=None, steps_per_sigma=None, step_size=None, denoise_final=None, init_mean=None):
        """Samples from the distribution the model has learned, in its value range.

        σ-conditioned Gaussian denoisers (`samples_by_langevin`) run annealed Langevin
        dynamics with Tweedie's score (`keras_dae.models.sampling.annealed_langevin`; Song &
        Ermon, 2019), with the settings in `model.sampling` (a zoo entry's are chosen on
        validation digits and set by `keras_dae.load`) or NCSN's (10 levels over the trained σ
        range, 100 steps each, ε = 2e-5). The others run the walkback / GSN chain (Bengio et
        al., 2013): alternate the model's corruption and its denoiser from uniform noise.

        Args:
            n: int, the number of samples.
            steps: int, model evaluations in all (Langevin: spread evenly over the levels);
                default: the sampler's own (walkback: 100).
            seed: int, the seed of the initialization and of every draw.
            x_init: optional array of `n` starting points.
            return_chain: bool, also return every step's samples (walkback only).
            sampler: keyword, `"langevin"` or `"walkback"` to override the model's own.
            sigmas, steps_per_sigma, step_size, denoise_final, init_mean: keywords, the
                Langevin settings (see `annealed_langevin`), overriding `model.sampling`.

        Returns:
            A float32 array `(n, *example_shape)` (and the chain `(steps, n, ...)`); Langevin
            samples are clipped to the value range.
        """
        _check_count("n", n)
        if steps is not None:
            _check_count("steps", steps)
        settings = {**LANGEVIN_DEFAULTS, **(self.sampling or {})}
        sampler = sampler or settings.get("sampler") or ("langevin" if self.samples_by_langevin else "walkback")
        if sampler not in SAMPLERS:
            raise ValueError(f"`sampler` must be one of {SAMPLERS}. Received: sampler={sampler!r}")
        if x_init is None and None in self.example_shape:
            raise ValueError(
                f"{self.name} takes images of any size {self.example_shape}: pass `x_init`, "
                "`n` starting images of the size wanted, to sample from it."
            )
        shape = (n,) + (self.example_shape if x_init is None else np.shape(x_init)[1:])
        value_range = self.value_range or (-1.0, 1.0)
        if sampler == "walkback":
            denoise = lambda v, s: self.predict_on_batch([v, s] if self.conditioned else v)  # noqa: E731
            return sampling.gsn_chain(
                denoise, self.corruption, shape, steps=steps or 100, seed=seed, x_init=x_init,
                value_range=value_range, return_chain=return_chain,
            )
        if not self.samples_by_langevin:
            raise ValueError(
                "Langevin sampling needs a σ-conditioned network trained on AdditiveGaussian "
                f"noise. Received: sampler='langevin' for a {type(self.corruption).__name__} model"
                + ("" if self.conditioned else " whose network takes no σ")
            )
        if return_chain:
            raise ValueError("`return_chain` applies to the walkback sampler only. Received: "
                             "return_chain=True with sampler='langevin'")
        sigmas = self.default_sigmas() if sigmas is None else sigmas
        if steps_per_sigma is None:
            steps_per_sigma = settings["steps_per_sigma"] if steps is None else max(1, int(steps) // len(sigmas))
        score = lambda x, s: self._score_batch(ops.convert_to_numpy(x), s)  # noqa: E731
        x = sampling.annealed_langevin(
            score, shape, sigmas, steps_per_sigma=steps_per_sigma,
            step_size=settings["step_size"] if step_size is None else step_size, seed=seed,
            x_init=x_init, value_range=value_range,
            denoise_final=settings["denoise_final"] if denoise_final is None else denoise_final,
            init_mean=settings.get("init_mean") if init_mean is None else init_mean,
        )
        return x if self.value_range is None else np.clip(x, *self.value_range)


SAMPLERS = ("langevin", "walkback")
# NCSN's MNIST settings (Song & Ermon, 2019): 10 levels, 100 steps per level, ε = 2e-5.
LANGEVIN_DEFAULTS = {"levels": 10, "steps_per_sigma": 100, "step_size": 2e-5, "denoise_final": True}
SAMPLING_KEYS = ("sampler", "sigma_max", "sigma_min", "levels", "steps_per_sigma", "step_size",
                 "denoise_final", "init_mean")


def check_sampling(sampling_settings):
    """`sampling_settings` (a dict of `SAMPLING_KEYS`, or None) checked, as a plain dict."""
    if sampling_settings is None:
        return None
    if not isinstance(sampling_settings, dict):
        raise ValueError(f"`sampling` must be a dict or None. Received: sampling={sampling_settings!r}")
    unknown = sorted(set(sampling_settings) - set(SAMPLING_KEYS))
    if unknown:
        raise ValueError(f"`sampling` keys must be among {SAMPLING_KEYS}. Received: unknown keys {unknown}")
    if sampling_settings.get("sampler", "langevin") not in SAMPLERS:
        raise ValueError(f"`sampling['sampler']` must be one of {SAMPLERS}. "
                         f"Received: {sampling_settings['sampler']!r}")
    return dict(sampling_settings)


def _check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
