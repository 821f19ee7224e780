"""Walkback training against standard DAE training, judged by the samples of the GSN chain (§4).

Two DAEs with the same MLP, corruption and number of epochs on MNIST: one trained the
usual way (one corrupt–denoise step per example), one with `WalkbackDAE` (K steps, each
starting from the model's own last reconstruction; K× the forward passes per update).
Both are sampled with their `sample` method, the walkback / GSN chain of alternating
corruption and denoising started from uniform noise. Sample quality, two numbers:
  - confidence: a small MLP classifier's mean max-softmax probability on the samples
    (digit-like samples get confident predictions);
  - NN distance: the mean L2 distance from each sample to its nearest training image.
Real test digits and uniform noise are the references. Also draws a grid of samples.

Run:
    python examples/walkback_vs_standard.py          # ~3 min on CPU
    python examples/walkback_vs_standard.py --fast   # seconds, for the tests
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_dae  # noqa: E402
from keras_dae.datasets import load_mnist  # noqa: E402
from keras_dae.plotting import save_figure  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="tiny data and budget (tests)")
parser.add_argument("--out", default="outputs/examples/walkback_vs_standard.png")
parser.add_argument("--walkback-steps", type=int, default=3, help="K, corrupt–denoise steps per example")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

num_train = 512 if args.fast else 20_000
epochs = 1 if args.fast else 10
num_samples = 16 if args.fast else 64
chain_steps = 5 if args.fast else 100  # corrupt–denoise steps of the sampling chain


def tile(images, cols=8):
    """(n, 28, 28, 1) → one (rows·28, cols·28) image."""
    rows = [np.concatenate(list(images[i:i + cols, ..., 0]), axis=1) for i in range(0, len(images), cols)]
    return np.concatenate(rows, axis=0)


keras_dae.set_random_seed(args.seed)
x_train, y_train = load_mnist("train", num_images=num_train)
x_test, _ = load_mnist("test", num_images=num_samples)

# The judge: a small MLP classifier trained on the same images.
classifier = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                               keras.layers.Dense(256, activation="relu"), keras.layers.Dense(10)])
classifier.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
classifier.fit(x_train, y_train, epochs=max(epochs // 2, 1), batch_size=128, verbose=0)


def quality(images):
    """(mean max-softmax confidence, mean L2 distance to the nearest training image)."""
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(classifier.predict(images, verbose=0)))
    a, b = images.reshape(len(images), -1), x_train.reshape(len(x_train), -1)
    d2 = (a**2).sum(1)[:, None] + (b**2).sum(1)[None] - 2 * a @ b.T  # (n, N) squared distances
    return float(probs.max(1).mean()), float(np.sqrt(np.maximum(d2.min(1), 0)).mean())


samples = {}
for name in ("standard", "walkback"):
    keras_dae.set_random_seed(args.seed)  # the same initial weights for both
    network = keras_dae.networks.mlp((784, 512, 128), activation="relu", output_activation="sigmoid",
                                     input_shape=(28, 28, 1))
    # Salt-and-pepper, the corruption of Bengio et al. (2013)'s MNIST chains.
    corruption = keras_dae.layers.SaltAndPepper(0.3, seed=args.seed)
    if name == "standard":
        model = keras_dae.models.DAE(network, corruption, loss="bce")
    else:
        model = keras_dae.models.WalkbackDAE(network, corruption, steps=args.walkback_steps, loss="bce")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x_train, epochs=epochs, batch_size=128, verbose=0)
    samples[name] = model.sample(num_samples, steps=chain_steps, seed=args.seed)

rng = np.random.default_rng(args.seed)
references = {"real test digits": x_test, "uniform noise": rng.uniform(size=x_test.shape).astype("float32")}
print(f"{num_samples} samples after {chain_steps} chain steps; {epochs} epochs on {num_train} images")
print(f"{'':<18}{'confidence':>12}{'NN distance':>13}")
for name, images in {**samples, **references}.items():
    conf, nn = quality(images)
    print(f"{name:<18}{conf:12.4f}{nn:13.3f}")

fig, axes = plt.subplots(1, 2, figsize=(9, 0.6 * num_samples / 8 + 1.5))
for ax, (name, images) in zip(axes, samples.items()):
    conf, nn = quality(images)
    ax.imshow(tile(images), cmap="gray", vmin=0, vmax=1)
    ax.set(xticks=[], yticks=[], title=f"{name}: confidence {conf:.2f}, NN dist {nn:.2f}")
fig.suptitle(f"GSN-chain samples, {chain_steps} steps, walkback K={args.walkback_steps} "
             f"({keras.backend.backend()})", fontsize=10)
fig.tight_layout()
print("wrote", save_figure(fig, args.out))
