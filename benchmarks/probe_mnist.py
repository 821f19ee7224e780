"""Which corruption teaches the most linearly separable features? Linear probes on MNIST.

The probe table of Vincent et al. (2010)'s comparison of corruptions, at the scale of the
zoo's `sdae-mnist-mask` recipe: one 784-1000 sigmoid DAE layer with tied weights (that
recipe's first layer: cross-entropy, Adam, its epochs and batch size) is trained on the
50,000 training images with each corruption — additive Gaussian, masking, salt-and-pepper,
none (a plain autoencoder) — and a logistic regression is fitted on its frozen,
standardized 1000-d code of the same 50,000 images and scored on the 10,000 test images.
Beside them: the packaged 3-layer `sdae-mnist-mask` encoder, and raw pixels with and
without standardization (the classic tutorials' logistic regression: 7.49 % test error).

    KERAS_BACKEND=jax python benchmarks/probe_mnist.py     # ~20 min on 2 CPU cores
    python benchmarks/probe_mnist.py --fast                # seconds (tests)

Writes `benchmarks/results/probe_mnist.{json,md}`.
"""

import argparse
import pathlib
import time

import keras_dae
from keras_dae import layers

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "probe_mnist"
# Strengths of the paper's MNIST comparisons: ν = 25 % masking and salt-and-pepper; σ = 0.3
# is the Gaussian noise of the zoo's probe example (pixels in [0, 1]).
CORRUPTIONS = {
    "gaussian": ("additive Gaussian, σ = 0.3", lambda seed: layers.AdditiveGaussian(sigma=0.3, seed=seed)),
    "masking": ("masking, ν = 0.25", lambda seed: layers.MaskingNoise(0.25, seed=seed)),
    "saltpepper": ("salt-and-pepper, 25 %", lambda seed: layers.SaltAndPepper(0.25, seed=seed)),
    "none": ("none (plain autoencoder)", lambda seed: layers.MaskingNoise(0.0, seed=seed)),
}


def train_encoder(corruption, x_train, recipe, epochs, seed=0, width=1000):
    """One DAE layer of the `sdae-mnist-mask` recipe (`recipe`), trained with `corruption`."""
    import keras

    from keras_dae import models

    keras_dae.set_random_seed(seed)  # the same initial weights for every corruption
    model = models.StackedDAE((784, width), activation="sigmoid", tied=True, loss="bce",
                              corruption=corruption, input_shape=(28, 28, 1))
    model.pretrain(x_train, epochs_per_layer=epochs, batch_size=recipe.BATCH_SIZE,
                   optimizer=lambda: keras.optimizers.Adam(recipe.LEARNING_RATE))
    return model.encoder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="tiny data, width and budget (tests)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", default=str(RESULTS), help="summary path without extension")
    args = parser.parse_args()

    import keras

    from keras_dae.zoo import hub
    from keras_dae.datasets import load_mnist
    from keras_dae.evaluation.probe import linear_probe
    from keras_dae.training import load_recipe
    from keras_dae.utils import write_results

    n_train, n_test = (600, 200) if args.fast else (None, None)
    x_train, y_train = load_mnist("train", num_images=n_train)
    x_test, y_test = load_mnist("test", num_images=n_test)
    max_iter = 100 if args.fast else 1000

    def probe(encoder, standardize=True):
        start = time.perf_counter()
        acc = linear_probe(encoder, x_train, y_train, x_test, y_test, max_iter=max_iter,
                           standardize=standardize)
        return acc, time.perf_counter() - start

    recipe = load_recipe(ROOT / "zoo" / "sdae-mnist-mask")
    epochs = 1 if args.fast else recipe.EPOCHS
    width = 32 if args.fast else 1000  # the recipe's first layer
    rows = {}
    for key, (label, make) in CORRUPTIONS.items():
        start = time.perf_counter()
        encoder = train_encoder(make(args.seed), x_train, recipe, epochs, args.seed, width)
        train_seconds = time.perf_counter() - start
        acc, probe_seconds = probe(encoder)
        rows[key] = {"features": f"DAE 784-{width}, corruption: {label}", "accuracy": acc,
                     "train_seconds": train_seconds, "probe_seconds": probe_seconds}
        print(f"{key}: {100 * acc:.2f} % ({train_seconds:.0f} s + probe {probe_seconds:.0f} s)", flush=True)
    if not args.fast:
        stack = hub.load(recipe.NAME, compile=False)
        acc, seconds = probe(stack.encoder)
        rows["sdae-mnist-mask"] = {"features": f"`{recipe.NAME}` (3 layers, masking ν = {recipe.NU}), top code",
                                   "accuracy": acc, "probe_seconds": seconds}
    for key, standardize in (("raw", True), ("raw-unstandardized", False)):
        acc, seconds = probe(lambda v: v.reshape(len(v), -1), standardize=standardize)
        rows[key] = {"features": "raw pixels" + ("" if standardize else ", not standardized"),
                     "accuracy": acc, "probe_seconds": seconds}

    lines = ["| features (frozen) | linear-probe test accuracy | test error |", "|---|---|---|"]
    lines += [f"| {r['features']} | {100 * r['accuracy']:.2f} % | {100 * (1 - r['accuracy']):.2f} % |"
              for r in rows.values()]
    lines += ["", f"Logistic regression (scikit-learn, lbfgs, {max_iter} iterations) on standardized "
              f"features of the {len(x_train):,} training images, scored on the {len(x_test):,} test "
              f"images. Each DAE layer: {epochs} epochs, Adam {recipe.LEARNING_RATE:g}, batch "
              f"{recipe.BATCH_SIZE}, cross-entropy, seed {args.seed}, same initial weights; "
              f"{keras.backend.backend()} backend. Classic reference: logistic regression on raw "
              f"pixels, 7.49 % test error (deeplearning.net tutorial)."]
    markdown = "\n".join(lines)
    print(markdown)
    summary = {"rows": rows, "epochs": epochs, "train_images": len(x_train), "test_images": len(x_test),
               "backend": keras.backend.backend(), "seed": args.seed}
    quoted_in = (ROOT / "docs" / "science.md", ROOT / "zoo" / recipe.NAME / "README.md")
    for path in write_results(args.results, summary, markdown, tag="mnist-probes",
                              quoted_in=quoted_in if pathlib.Path(args.results) == RESULTS else ()):
        print("wrote", path)


if __name__ == "__main__":
    main()
