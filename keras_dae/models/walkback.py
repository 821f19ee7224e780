"""`WalkbackDAE`: K corrupt–denoise steps per example (Bengio et al., 2013; §4.2)."""

import keras
from keras import ops

from keras_dae.models.base import DAE


@keras.saving.register_keras_serializable(package="keras_dae")
class WalkbackDAE(DAE):
    """Walkback training: starting from the clean x₀, K times corrupt the last
    reconstruction and denoise it, x̃_k ~ C(x̃ | x̂_{k−1}), x̂_k = r(x̃_k) (x̂₀ = x₀); the loss
    is Σ_k ℓ(x̂_k, x₀). Later steps start from the model's own mistakes, which teaches
    it to walk back from the spurious modes its sampling chain would visit.

    The first step is an ordinary DAE step, so `x_hat` (what metrics see) is x̂₁. With
    pairs (`fit(noisy, clean)`) a single step is taken on the given noisy inputs.

    Args:
        network: the denoising network.
        corruption: the corruption of every step.
        steps: int >= 1, K.
        stop_gradient_chain: bool; True treats each step's starting point as a constant
            (each step a plain DAE step on a self-generated input, as Bengio et al.), False
            backpropagates through the whole chain.
        **kwargs: the other `DAE` arguments (`loss`, `alpha`, `beta`, `value_range`, ...).

    Example:

    >>> model = keras_dae.models.WalkbackDAE(net, keras_dae.layers.MaskingNoise(0.3), steps=3)
    >>> model.compile(optimizer="adam")
    >>> model.fit(x_train, epochs=5)
    >>> samples = model.sample(16, steps=50)
    """

    def __init__(self, network, corruption=None, steps=3, stop_gradient_chain=True, **kwargs):
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"`steps` must be an int >= 1. Received: steps={steps!r}")
        super().__init__(network, corruption=corruption, **kwargs)
        self.steps = steps
        self.stop_gradient_chain = bool(stop_gradient_chain)

    def _corrupted_outputs(self, x, seed_generator):
        start, x_hats, masks, first = x, [], [], None
        for _ in range(self.steps):
            x_tilde, info = self._corrupt(start, seed_generator)
            outputs = self._outputs(x_tilde, info["sigma"], info["mask"])
            first = first or outputs
            x_hats.append(outputs["x_hat"])
            masks.append(outputs["mask"])
            start = ops.stop_gradient(outputs["x_hat"]) if self.stop_gradient_chain else outputs["x_hat"]
        return {**first, "x_hats": ops.stack(x_hats), "masks": ops.stack(masks)}

    def _per_sample_loss(self, x, outputs):
        if "x_hats" not in outputs:
            return super()._per_sample_loss(x, outputs)
        total = 0.0
        for k in range(self.steps):
            total = total + self._weighted(
                self._elementwise(outputs["x_hats"][k], x), outputs["masks"][k]
            )
        return total

    def get_config(self):
        return {**super().get_config(), "steps": self.steps,
                "stop_gradient_chain": self.stop_gradient_chain}
