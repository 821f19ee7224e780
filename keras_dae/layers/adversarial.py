"""Adversarial corruption: the worst perturbation in an ε-ball (FGSM / PGD)."""

import keras
from keras import ops

from keras_dae import backend
from keras_dae.layers.base import Corruption, _check_nonnegative, _per_sample

_NORMS = ("linf", "l2")


@keras.saving.register_keras_serializable(package="keras_dae")
class AdversarialNoise(Corruption):
    """Adversarial noise: the perturbation within an ε-ball that increases a loss.

    With `steps=1` this is FGSM (Goodfellow et al., 2015); with more steps, projected
    gradient ascent (PGD, Madry et al., 2018) from the clean input. The loss to attack is
    not part of the layer: whoever applies the layer passes it at call time (a denoising
    objective passes its own reconstruction loss), so the layer never holds a reference
    to the model that contains it and its configuration stays ε, steps, step size, norm.

    The gradient with respect to the input is taken by `keras_dae.backend.input_gradient`;
    the perturbation carries no gradient back to the model.

    Args:
        epsilon: float >= 0, the radius of the ball.
        steps: int >= 1, gradient-ascent steps.
        step_size: float > 0 or None; None means ε for one step and 2.5ε/steps for more.
        norm: `"linf"` (sign steps, clipped to [−ε, ε]) or `"l2"` (normalized steps,
            projected per sample onto the L2 ball of radius ε).
        seed: int or None, the seed of the layer's `SeedGenerator`.

    Call arguments:
        inputs: the clean tensor, any rank.
        training: bool, perturb only when True (else the identity).
        loss_fn: callable mapping a perturbed input to a scalar loss; required when
            perturbing.
        return_info: bool, also return `{"sigma": zeros, "mask": zeros}`.

    Example:

    >>> attack = keras_dae.layers.AdversarialNoise(epsilon=0.1, steps=3)
    >>> x_adv = attack(x, training=True,
    ...                loss_fn=lambda v: keras.ops.mean((net(v) - x) ** 2))
    """

    def __init__(self, epsilon, steps=1, step_size=None, norm="linf", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.epsilon = _check_nonnegative("epsilon", epsilon)
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"`steps` must be an int >= 1. Received: steps={steps!r}")
        if step_size is not None and (not isinstance(step_size, (int, float)) or step_size <= 0):
            raise ValueError(f"`step_size` must be None or > 0. Received: step_size={step_size!r}")
        if norm not in _NORMS:
            raise ValueError(f"`norm` must be one of {_NORMS}. Received: norm={norm!r}")
        self.steps = steps
        self.step_size = None if step_size is None else float(step_size)
        self.norm = norm

    @property
    def effective_step_size(self):
        if self.step_size is not None:
            return self.step_size
        return self.epsilon if self.steps == 1 else 2.5 * self.epsilon / self.steps

    def call(self, inputs, training=False, loss_fn=None, return_info=False):
        if not training:
            return (inputs, self.no_info(inputs)) if return_info else inputs
        x_adv = self.perturb(inputs, loss_fn)
        return (x_adv, self.no_info(inputs)) if return_info else x_adv

    def corrupt(self, x, seed=None, return_info=False, loss_fn=None):
        x = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        x_adv = self.perturb(x, loss_fn)
        return (x_adv, self.no_info(x)) if return_info else x_adv

    def corrupt_with(self, x, seed_generator):
        raise ValueError(
            "AdversarialNoise needs the loss to attack: call it with "
            "`training=True, loss_fn=...`."
        )

    def perturb(self, x, loss_fn):
        """Returns x + δ with δ in the ε-ball, ascending `loss_fn` from δ = 0."""
        if loss_fn is None or not callable(loss_fn):
            raise ValueError(
                "AdversarialNoise needs `loss_fn`, a callable mapping the perturbed input to "
                f"a scalar loss. Received: loss_fn={loss_fn!r}"
            )
        x = ops.stop_gradient(x)
        delta = ops.zeros_like(x)
        step = self.effective_step_size
        for _ in range(self.steps):
            grad = backend.input_gradient(lambda v: ops.cast(loss_fn(v), "float32"), x + delta)
            grad = ops.cast(grad, x.dtype)
            if self.norm == "linf":
                delta = ops.clip(delta + step * ops.sign(grad), -self.epsilon, self.epsilon)
            else:
                delta = _project_l2(delta + step * _unit_l2(grad), self.epsilon)
        return ops.stop_gradient(x + delta)

    def get_config(self):
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "steps": self.steps,
            "step_size": self.step_size,
            "norm": self.norm,
        }


def _l2_norm(v):
    axes = tuple(range(1, len(v.shape)))
    return ops.sqrt(ops.sum(ops.square(v), axis=axes))


def _unit_l2(v):
    return v / _per_sample(ops.maximum(_l2_norm(v), 1e-12), v)


def _project_l2(delta, radius):
    scale = ops.minimum(1.0, radius / ops.maximum(_l2_norm(delta), 1e-12))
    return delta * _per_sample(ops.cast(scale, delta.dtype), delta)
