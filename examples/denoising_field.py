"""The denoising field r(x̃) − x̃ around a 1-D manifold (a circle) in the plane (§2.2).

A DAE trained with Gaussian noise on points of the unit circle learns to move a noisy
point back towards the circle: the arrows r(x̃) − x̃ on a grid around it point to the
manifold, with length growing with the distance to it. The optimal field is known here
(E[x | x̃] is an average over the circle's angles, computed by quadrature): we print the
relative error of the learned field against it and the mean cosine between learned arrows
and the direction to the nearest point of the circle.

Run:
    python examples/denoising_field.py          # ~1 min on CPU
    python examples/denoising_field.py --fast   # seconds, for the tests
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
parser.add_argument("--out", default="outputs/examples/denoising_field.png")
parser.add_argument("--sigma", type=float, default=0.3, help="training noise level")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

num_train = 1_024 if args.fast else 50_000
epochs = 1 if args.fast else 30
grid_size = 21  # 21×21 arrows over [-2, 2]²


def optimal_step(x_tilde, sigma, num_angles=720):
    """E[x | x̃] − x̃ for x uniform on the unit circle: a posterior average over angles."""
    theta = np.linspace(0, 2 * np.pi, num_angles, endpoint=False)
    circle = np.stack([np.cos(theta), np.sin(theta)], axis=1)  # (A, 2)
    logits = -np.sum((x_tilde[:, None] - circle[None]) ** 2, axis=-1) / (2 * sigma**2)  # (n, A)
    w = np.exp(logits - logits.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    return w @ circle - x_tilde


keras_dae.set_random_seed(args.seed)
rng = np.random.default_rng(args.seed)
theta = rng.uniform(0, 2 * np.pi, num_train)
x_train = np.stack([np.cos(theta), np.sin(theta)], axis=1).astype("float32")  # (N, 2) on the circle

# A blind MLP with a linear output; value_range=None since the plane is unbounded.
network = keras_dae.networks.mlp((2, 64, 64), activation="silu", output_activation="linear")
corruption = keras_dae.layers.AdditiveGaussian(sigma=args.sigma, seed=args.seed)
model = keras_dae.models.DAE(network, corruption, value_range=None)
model.compile(optimizer=keras.optimizers.Adam(2e-3))
model.fit(x_train, epochs=epochs, batch_size=256, verbose=0)

ticks = np.linspace(-2, 2, grid_size, dtype="float32")
gx, gy = np.meshgrid(ticks, ticks)
grid = np.stack([gx.ravel(), gy.ravel()], axis=1)  # (grid_size², 2)
learned = model.denoise(grid) - grid  # r(x̃) − x̃
optimal = optimal_step(grid, args.sigma)

radius = np.linalg.norm(grid, axis=1)
to_circle = grid / np.maximum(radius, 1e-6)[:, None] - grid  # to the nearest point of the circle
away = np.abs(radius - 1) > 0.25  # where "towards the circle" is a clear direction
norms = np.linalg.norm(learned, axis=1) * np.linalg.norm(to_circle, axis=1)
cos = np.sum(learned * to_circle, axis=1) / (norms + 1e-12)
rel = float(np.sum((learned - optimal) ** 2) / np.sum(optimal**2))
print(f"sigma={args.sigma}  grid points={len(grid)}")
print(f"relative error vs optimal field   {rel:.4f}")
print(f"mean cos(arrow, to circle), |r-1|>0.25: learned {cos[away].mean():.4f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 5))
circle = np.stack([np.cos(np.linspace(0, 2 * np.pi, 200)), np.sin(np.linspace(0, 2 * np.pi, 200))], 1)
length_max = max(np.linalg.norm(learned, axis=1).max(), np.linalg.norm(optimal, axis=1).max())
for ax, field, title in [(axes[0], learned, f"learned r(x̃) − x̃, cos to circle {cos[away].mean():.2f}"),
                         (axes[1], optimal, f"optimal E[x|x̃] − x̃ (rel. error {rel:.3f})")]:
    ax.plot(circle[:, 0], circle[:, 1], "k-", lw=1)
    # Directions only (true lengths, up to ~1, would cross each other); colour = length.
    length = np.linalg.norm(field, axis=1)
    unit = 0.8 * (ticks[1] - ticks[0]) * field / np.maximum(length, 1e-9)[:, None]
    q = ax.quiver(grid[:, 0], grid[:, 1], unit[:, 0], unit[:, 1], length, angles="xy",
                  scale_units="xy", scale=1, width=0.004, cmap="viridis", clim=(0, length_max))
    fig.colorbar(q, ax=ax, shrink=0.8, label="‖r(x̃) − x̃‖")
    ax.set(xlim=(-2.1, 2.1), ylim=(-2.1, 2.1), aspect="equal", title=title)
fig.suptitle(f"Denoising field around the unit circle, σ = {args.sigma} ({keras.backend.backend()})")
fig.tight_layout()
print("wrote", save_figure(fig, args.out))
