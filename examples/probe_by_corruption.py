"""Which corruption teaches the best features? Linear probes of DAE encoders on MNIST (§7.1).

Four autoencoders with the same MLP (784-512-128) and the same budget are trained with
Gaussian noise, masking noise, salt-and-pepper noise and no corruption at all (a plain
autoencoder: `fit(x, x)` adds no noise). A logistic regression on each frozen encoder's
code (`keras_dae.evaluation.linear_probe`) measures how linearly separable the digits are
in it; raw pixels are the reference. Prints a table and draws a bar chart.

Run:
    python examples/probe_by_corruption.py          # ~3 min on CPU
    python examples/probe_by_corruption.py --fast   # seconds, for the tests
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import keras  # noqa: E402

import keras_dae  # noqa: E402
from keras_dae.datasets import load_mnist  # noqa: E402
from keras_dae.evaluation.probe import linear_probe  # noqa: E402
from keras_dae.plotting import save_figure  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="tiny data and budget (tests)")
parser.add_argument("--out", default="outputs/examples/probe_by_corruption.png")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

num_train = 512 if args.fast else 20_000  # DAE training images
num_probe = 256 if args.fast else 10_000  # probe training images (a subset of those)
num_test = 256 if args.fast else 5_000
epochs = 1 if args.fast else 10
max_iter = 100 if args.fast else 1_000  # logistic-regression solver iterations


keras_dae.set_random_seed(args.seed)
x_train, y_train = load_mnist("train", num_images=num_train)
x_test, y_test = load_mnist("test", num_images=num_test)

corruptions = {  # None: a plain autoencoder
    "gaussian σ=0.3": keras_dae.layers.AdditiveGaussian(sigma=0.3, seed=args.seed),
    "masking 0.3": keras_dae.layers.MaskingNoise(0.3, seed=args.seed),
    "salt&pepper 0.2": keras_dae.layers.SaltAndPepper(0.2, seed=args.seed),
    "none (plain AE)": None,
}
accuracy = {}
for name, corruption in corruptions.items():
    keras_dae.set_random_seed(args.seed)  # the same initial weights for every encoder
    network = keras_dae.networks.mlp((784, 512, 128), activation="relu", output_activation="sigmoid",
                                     input_shape=(28, 28, 1))
    model = keras_dae.models.DAE(network, corruption, loss="bce")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    if corruption is None:
        model.fit(x_train, x_train, epochs=epochs, batch_size=128, verbose=0)  # pairs: no noise added
    else:
        model.fit(x_train, epochs=epochs, batch_size=128, verbose=0)
    accuracy[name] = linear_probe(model.encoder, x_train[:num_probe], y_train[:num_probe],
                                  x_test, y_test, max_iter=max_iter)
accuracy["raw pixels"] = linear_probe(lambda x: x, x_train[:num_probe], y_train[:num_probe],
                                      x_test, y_test, max_iter=max_iter)

print(f"linear-probe test accuracy ({num_probe} probe / {num_test} test images, "
      f"encoders trained on {num_train} for {epochs} epochs)")
for name, acc in accuracy.items():
    print(f"  {name:<18} {acc:.4f}")

fig, ax = plt.subplots(figsize=(7, 4))
bars = ax.bar(list(accuracy), list(accuracy.values()), color=["C0", "C1", "C2", "C3", "gray"])
ax.bar_label(bars, fmt="%.3f")
low = min(accuracy.values())
ax.set(ylim=(max(0.0, low - 0.1), 1.0), ylabel="linear-probe test accuracy",
       title=f"MNIST features by training corruption, MLP 784-512-128 ({keras.backend.backend()})")
ax.tick_params(axis="x", labelsize=8)
fig.tight_layout()
print("wrote", save_figure(fig, args.out))
