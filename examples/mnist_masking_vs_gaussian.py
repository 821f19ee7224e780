"""Masking noise against Gaussian noise: two DAEs on MNIST, same network and budget.

One DAE is trained to fill in pixels zeroed by `MaskingNoise`, the other to remove
`AdditiveGaussian` noise. Each is then tested on both corruptions: a 2×2 table of PSNR
(dB) of the denoised test digits against the clean ones, beside the PSNR of the corrupted
input itself. A DAE does best on the corruption it was trained on; the grid shows what each
makes of the other's noise.

Run:
    python examples/mnist_masking_vs_gaussian.py          # ~2 min on CPU
    python examples/mnist_masking_vs_gaussian.py --fast   # seconds, for the tests
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_dae  # noqa: E402
from keras_dae.datasets import load_mnist  # noqa: E402
from keras_dae.metrics import psnr_numpy  # noqa: E402
from keras_dae.plotting import save_figure  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="tiny data and budget (tests)")
parser.add_argument("--out", default="outputs/examples/mnist_masking_vs_gaussian.png")
parser.add_argument("--mask-rate", type=float, default=0.5)
parser.add_argument("--sigma", type=float, default=0.5)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

num_train = 512 if args.fast else 20_000
num_test = 200 if args.fast else 2_000
epochs = 1 if args.fast else 10


keras_dae.set_random_seed(args.seed)
x_train, _ = load_mnist("train", num_images=num_train)
x_test, _ = load_mnist("test", num_images=num_test)

corruptions = {
    "masking": lambda: keras_dae.layers.MaskingNoise(args.mask_rate, seed=args.seed),
    "gaussian": lambda: keras_dae.layers.AdditiveGaussian(sigma=args.sigma, seed=args.seed),
}
# The fixed noisy test sets, one per corruption (seeded: the same for both models).
noisy = {name: np.asarray(keras.ops.convert_to_numpy(make().corrupt(x_test, seed=1)))
         for name, make in corruptions.items()}

models = {}
for name, make in corruptions.items():
    # The same small MLP for both: 784-512-128 (ReLU), sigmoid output, cross-entropy.
    network = keras_dae.networks.mlp((784, 512, 128), activation="relu", output_activation="sigmoid",
                                     input_shape=(28, 28, 1))
    model = keras_dae.models.DAE(network, make(), loss="bce")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x_train, epochs=epochs, batch_size=128, verbose=0)
    models[name] = model

# The 2×2 table: rows = trained on, columns = tested on.
# `sigma` tells `denoise` how far Gaussian noise may overshoot [0, 1] (blind nets ignore it).
sigma_of = {"masking": None, "gaussian": args.sigma}
denoised = {(m, c): models[m].denoise(noisy[c], sigma=sigma_of[c]) for m in models for c in noisy}
print(f"PSNR (dB) on {num_test} MNIST test digits; masking rate {args.mask_rate}, Gaussian σ {args.sigma}")
print(f"{'trained on / tested on':<24}" + "".join(f"{c:>10}" for c in noisy))
print(f"{'(noisy input)':<24}" + "".join(f"{psnr_numpy(x_test, np.clip(noisy[c], 0, 1)).mean():10.2f}"
                                        for c in noisy))
for m in models:
    print(f"{m:<24}" + "".join(f"{psnr_numpy(x_test, denoised[m, c]).mean():10.2f}" for c in noisy))

# The grid: for each corruption, the noisy digits then each model's output.
n = 8
rows = [("clean", x_test[:n])]
for c in noisy:
    rows.append((f"{c} input", np.clip(noisy[c][:n], 0, 1)))
    rows += [(f"{m} DAE", denoised[m, c][:n]) for m in models]
fig, axes = plt.subplots(len(rows), 1, figsize=(n * 1.0 + 1.0, len(rows) * 1.0))
for ax, (label, images) in zip(axes, rows):
    ax.imshow(np.concatenate(list(images[..., 0]), axis=1), cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
fig.suptitle(f"Masking vs Gaussian DAE on MNIST ({keras.backend.backend()})", fontsize=9)
fig.tight_layout()
print("wrote", save_figure(fig, args.out))
