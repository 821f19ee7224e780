"""`ScoreDAE`: denoising score matching over many noise levels (Song & Ermon, 2019)."""

import keras

from keras_dae.layers import AdditiveGaussian
from keras_dae.models.residual import ResidualDAE


@keras.saving.register_keras_serializable(package="keras_dae")
class ScoreDAE(ResidualDAE):
    """A noise-conditional score network trained by denoising score matching (§3.2).

    σ is drawn per example (log-uniformly by default) and the σ²-weighted DSM loss of
    Song & Ermon (2019), ½ σ² ||s_θ(x̃, σ) − (x − x̃)/σ²||², is minimized in its
    equivalent ε form: the network predicts ε̂ with s_θ = −ε̂/σ, and
    σ² ||s_θ + ε/σ||² = ||ε̂ − ε||². The denoiser is Tweedie's x̃ + σ² s_θ = x̃ − σ ε̂, the
    score `score(x, sigma)`; `sample` runs annealed Langevin dynamics (1,000 steps over
    10 levels by default, NCSN's).

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
