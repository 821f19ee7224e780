"""`ScoreDAE`: denoising score matching over many noise levels (Song & Ermon, 2019)."""

import keras

from keras_dae.models import sampling
from keras_dae.layers import AdditiveGaussian
from keras_dae.models.inference import _check_count
from keras_dae.models.residual import ResidualDAE


@keras.saving.register_keras_serializable(package="keras_dae")
class ScoreDAE(ResidualDAE):
    """A noise-conditional score network trained by denoising score matching (§3.2).

    σ is drawn per example (log-uniformly by default) and the σ²-weighted DSM loss of
    Song & Ermon (2019), ½ σ² ||s_θ(x̃, σ) − (x − x̃)/σ²||², is minimized in its
    equivalent ε form: the network predicts ε̂ with s_θ = −ε̂/σ, and
    σ² ||s_θ + ε/σ||² = ||ε̂ − ε||². The denoiser is Tweedie's x̃ + σ² s_θ = x̃ − σ ε̂, the
    score `score(x, sigma)`; `sample` runs annealed Langevin dynamics.

    Args:
        network: a σ-conditioned `keras.Model` (`[x, sigma]` in) with a linear output.
        corruption: an `AdditiveGaussian`; defaults to σ log-uniform in
            [0.01, 1] × the value range's width.
        **kwargs: the other `DAE` arguments (`value_range`, `eval_seed`, ...).

    Example:

    >>> net = keras_dae.networks.unet((28, 28, 1), sigma_conditioning="film")
    >>> model = keras_dae.models.ScoreDAE(net)
    >>> model.compile(optimizer="adam")
    >>> model.fit(x_train, epochs=40)
    >>> images = model.sample(16)
    """

    def __init__(self, network, corruption=None, value_range=(0.0, 1.0), **kwargs):
        width = 1.0 if value_range is None else value_range[1] - value_range[0]
        if corruption is None:
            corruption = AdditiveGaussian(
                sigma_range=(0.01 * width, 1.0 * width), sigma_distribution="log_uniform"
            )
        super().__init__(network, corruption=corruption, value_range=value_range, **kwargs)
        if not self.conditioned:
            raise ValueError(
                "ScoreDAE needs a σ-conditioned network (inputs `[x, sigma]`), e.g. "
                "keras_dae.networks.unet(sigma_conditioning='film'). Received: a network "
                f"with {len(self.network.inputs)} input(s)"
            )

    def default_sigmas(self, num=10):
        """The geometric ladder from the corruption's largest σ to its smallest."""
        high = float(keras.ops.convert_to_numpy(self.corruption.sigma_max))
        low = max(float(keras.ops.convert_to_numpy(self.corruption.sigma_min)), 1e-3 * high)
        return sampling.geometric_sigmas(high, low, num)

    def sample(self, n, steps=1000, seed=0, x_init=None, *, sigmas=None, steps_per_sigma=None,
               step_size=2e-5, denoise_final=True):
        """Samples by annealed Langevin dynamics from the learned score
        (`keras_dae.models.sampling.annealed_langevin`). The common arguments mean what they mean
        for every objective's `sample` (`DAE.sample`): `n` samples, `steps` evaluations of
        the model in all, `seed`, `x_init`.

        Args:
            n: int, the number of samples.
            steps: int, Langevin steps in all, spread evenly over the noise levels.
            seed: int.
            x_init: optional starting points.
            sigmas: keyword, decreasing noise levels; defaults to `default_sigmas(10)`.
            steps_per_sigma: keyword, Langevin steps per level (overrides `steps`).
            step_size: keyword, ε, the step at the smallest level.
            denoise_final: keyword, end with a Tweedie denoising step.
        """
        _check_count("n", n)
        _check_count("steps", steps)
        sigmas = self.default_sigmas() if sigmas is None else sigmas
        if steps_per_sigma is None:
            steps_per_sigma = max(1, int(steps) // len(sigmas))
        shape = (n,) + self.example_shape
        score_fn = lambda x, s: self._score_batch(keras.ops.convert_to_numpy(x), s)  # noqa: E731
        return sampling.annealed_langevin(
            score_fn, shape, sigmas, steps_per_sigma=steps_per_sigma, step_size=step_size,
            seed=seed, x_init=x_init, value_range=self.value_range or (-1.0, 1.0),
            denoise_final=denoise_final,
        )
