"""sdae-mnist-mask: Vincent et al. (2010)'s stacked denoising autoencoder on MNIST,
greedily pretrained with masking noise (the unsupervised stage only; its supervised
fine-tuning is the representation-learning recipe).

Retrain and regenerate the card: `keras-dae train zoo/sdae-mnist-mask --install`.
"""

import pathlib

import keras
import numpy as np

from keras_dae import datasets, evaluation, layers, metrics, models, utils

NAME = "sdae-mnist-mask"
DATASET = "mnist"
NU = 0.25            # masking fraction ν of Vincent et al. (2010), Table 3's MNIST row
BACKEND = "jax"      # `keras-dae train` default: fastest for this MLP stack on 2 CPU cores
                     # (5,864 images/s vs 3,951 torch, 3,704 TensorFlow; RESULTS.md of 2026-12-01)
EPOCHS = 10          # per layer (Adam), chosen on the validation digits (benchmarks/results/
                     # choices_mnist_sdae_epochs.md): 30 reconstruct masked digits better (19.90
                     # vs 19.13 dB) but their top code probes no better (95.85 vs 96.06 %
                     # linear-probe accuracy) at twice the time; this entry is kept for its features
BATCH_SIZE = 128     # minibatches instead of the paper's online SGD, for CPU throughput
LEARNING_RATE = 1e-3 # Adam's default; each layer gets a fresh optimizer
SEED = 0             # weights, shuffling and masks
EVAL_SEED = 0        # the NumPy seed of the test masks (same on every backend)
PROBE_TRAIN = 10_000 # probe fitted on the first 10,000 training images (minutes, not hours)
PROBES = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "probe_mnist.md"

ENTRY = {
    "architecture": "MLP 784-1000-1000-1000, sigmoid, tied weights (2.8 M parameters)",
    "objective": "StackedDAE: greedy layer-wise DAE pretraining, cross-entropy (Vincent et al. 2010)",
    "corruption": f"MaskingNoise(rate={NU}) at every layer's input",
    "hf_repo": "keras-dae/sdae-mnist-mask",
    "license": "apache-2.0",
    "data_license": "CC BY-SA 3.0",
    "task": "feature-extraction",
    "description": (
        "The 3-layer stacked denoising autoencoder of Vincent et al. (2010) on MNIST, after "
        "greedy layer-wise pretraining with 25 % masking noise; its encoder is the base to "
        "fine-tune (keras_dae.load('sdae-mnist-mask', part='encoder'))."
    ),
}


def build(nu=NU, seed=SEED, widths=(784, 1000, 1000, 1000), name=NAME):
    """The stack; the arguments let the controls of `benchmarks/sdae_mnist.py` vary ν,
    the seed and (in its quick mode) the widths of this very recipe."""
    return models.StackedDAE(
        widths, activation="sigmoid", tied=True, loss="bce",
        corruption=layers.MaskingNoise(nu, seed=seed), input_shape=(28, 28, 1), name=name,
    )


def fit(model, x_train, x_val, epochs, callbacks, checkpoint_dir=None):
    """Greedy pretraining: layer k is a DAE on the clean codes of layers 1..k−1. Epochs are
    numbered across the layers (layer k: (k−1)·EPOCHS … k·EPOCHS − 1), so the run's log and
    checkpoint are one run's; a killed run resumes after its last finished epoch, inside the
    layer it stopped in. The batches keep `fit`'s own shuffling, as when the packaged weights
    were trained (`pretrain(seed=...)` would make a resumed run's batches those of an
    uninterrupted one, at the cost of retraining the entry)."""
    model.pretrain(
        x_train, epochs_per_layer=epochs, batch_size=BATCH_SIZE,
        optimizer=lambda: keras.optimizers.Adam(LEARNING_RATE), verbose=2,
        callbacks=callbacks, checkpoint_dir=checkpoint_dir,
    )
    return {}  # the run's history is its CSV log


def mask(x, seed=EVAL_SEED):
    keep = np.random.default_rng(seed).random(x.shape) >= NU
    return np.where(keep, x, 0.0).astype("float32")


def evaluate(model, num_images=None):
    x_test, y_test = datasets.load_mnist("test", num_images=num_images)
    x_train, y_train = datasets.load_mnist("train", num_images=PROBE_TRAIN)
    masked = mask(x_test)
    recon = np.clip(model.denoise(masked), 0.0, 1.0)
    psnr = {"masked input": float(metrics.psnr_numpy(x_test, masked).mean()),
            NAME: float(metrics.psnr_numpy(x_test, recon).mean())}
    probe = {
        "raw pixels": evaluation.linear_probe(lambda v: v.reshape(len(v), -1), x_train, y_train, x_test, y_test),
        f"{NAME} encoder (frozen, 1000-d)": evaluation.linear_probe(model.encoder, x_train, y_train, x_test, y_test),
    }
    table = "\n".join([
        f"| masked digits (ν = {NU}) | PSNR (dB) |", "|---|---|",
        *[f"| {k} | {v:.2f} |" for k, v in psnr.items()],
        "",
        "| linear probe (logistic regression) | test accuracy |", "|---|---|",
        *[f"| {k} | {100 * v:.2f} % |" for k, v in probe.items()],
        "",
        f"Masks drawn with NumPy (seed {EVAL_SEED}) on the MNIST test set ({len(x_test)} images); "
        f"the probe is fitted on the first {PROBE_TRAIN:,} training images, standardized features.",
        "",
        "Linear probes by training corruption, on the full training set (`python "
        "benchmarks/probe_mnist.py`, which rewrites this block):",
        "",
        utils.marked_block("mnist-probes", PROBES.read_text() if PROBES.is_file() else "Not run yet."),
    ])
    result = {f"psnr@mask={NU}": round(psnr[NAME], 3),
              "linear_probe_accuracy": round(list(probe.values())[1], 4),
              "raw_pixel_probe_accuracy": round(probe["raw pixels"], 4)}
    golden = {"x": mask(datasets.load_mnist("test", num_images=8)[0])}
    return result, table, golden
