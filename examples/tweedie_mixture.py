"""Tweedie's formula (§9.2) checked numerically on a 2-D Gaussian mixture.

For x̃ = x + σε the optimal denoiser satisfies r*(x̃) − x̃ = σ² ∇ log p_σ(x̃). For a
Gaussian mixture p_σ is again a mixture (each component's variance grows by σ²), so the
right-hand side is exact. We train one σ-conditioned `ScoreDAE` on samples of the mixture
and compare its learned r(x̃) − x̃ with σ² ∇ log p_σ(x̃) at several σ: a scatter of learned
against exact components (on the y = x line when the DAE is optimal) and the relative error
‖learned − exact‖² / ‖exact‖².

Run:
    python examples/tweedie_mixture.py            # ~1 min on CPU
    python examples/tweedie_mixture.py --fast     # a few seconds, for the tests
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_dae  # noqa: E402
from keras_dae.plotting import save_figure  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="tiny data and budget (tests)")
parser.add_argument("--out", default="outputs/examples/tweedie_mixture.png")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

num_train = 1_024 if args.fast else 50_000
epochs = 1 if args.fast else 40
sigmas = (0.1, 0.3, 0.6)  # small, medium, large against the modes' spread below

# The mixture: 8 isotropic Gaussians (std 0.1) evenly spaced on the unit circle.
K, COMPONENT_STD = 8, 0.1
angles = 2 * np.pi * np.arange(K) / K
means = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype("float32")  # (K, 2)


def sample_mixture(n, rng):
    k = rng.integers(0, K, size=n)
    return (means[k] + COMPONENT_STD * rng.standard_normal((n, 2))).astype("float32")


def exact_tweedie_step(x_tilde, sigma):
    """σ² ∇ log p_σ(x̃) for the mixture smoothed by N(0, σ²I): Σ_k w_k(x̃) σ²(μ_k − x̃)/v."""
    v = COMPONENT_STD**2 + sigma**2  # each component's variance after smoothing
    diff = means[None, :, :] - x_tilde[:, None, :]  # (n, K, 2)
    logits = -0.5 * np.sum(diff**2, axis=-1) / v  # equal weights, equal variances
    w = np.exp(logits - logits.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)  # (n, K) posterior over components
    return sigma**2 * np.einsum("nk,nkd->nd", w, diff) / v


keras_dae.set_random_seed(args.seed)
rng = np.random.default_rng(args.seed)
x_train = sample_mixture(num_train, rng)

# One network for every σ: FiLM conditioning on σ, linear output (it predicts the noise ε).
network = keras_dae.networks.mlp((2, 128, 128), activation="silu", output_activation="linear",
                                 sigma_conditioning="film")
# σ log-uniform over a range that covers the σ we test; value_range=None: unbounded data.
corruption = keras_dae.layers.AdditiveGaussian(sigma_range=(0.05, 1.0), sigma_distribution="log_uniform",
                                               seed=args.seed)
model = keras_dae.models.ScoreDAE(network, corruption, value_range=None)
model.compile(optimizer=keras.optimizers.Adam(2e-3))
model.fit(x_train, epochs=epochs, batch_size=256, verbose=0)

fig, axes = plt.subplots(1, len(sigmas), figsize=(4.2 * len(sigmas), 4.2))
print(f"{'sigma':>6} {'relative error':>15}")
for ax, sigma in zip(axes, sigmas):
    clean = sample_mixture(500 if args.fast else 4_000, rng)
    x_tilde = (clean + sigma * rng.standard_normal(clean.shape)).astype("float32")
    learned = model.denoise(x_tilde, sigma=sigma) - x_tilde  # r(x̃) − x̃
    exact = exact_tweedie_step(x_tilde, sigma)  # σ² ∇ log p_σ(x̃)
    rel = float(np.sum((learned - exact) ** 2) / np.sum(exact**2))
    print(f"{sigma:6.2f} {rel:15.4f}")
    lim = 1.05 * np.abs(exact).max()
    ax.scatter(exact.ravel(), learned.ravel(), s=2, alpha=0.3)
    ax.plot([-lim, lim], [-lim, lim], "k--", lw=1, label="y = x")
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal",
           title=f"σ = {sigma}: relative error {rel:.3f}",
           xlabel="exact σ² ∇log p_σ(x̃) (both components)", ylabel="learned r(x̃) − x̃")
    ax.legend(loc="upper left")
fig.suptitle(f"Tweedie on an 8-component mixture, ScoreDAE ({keras.backend.backend()})")
fig.tight_layout()
print("wrote", save_figure(fig, args.out))
