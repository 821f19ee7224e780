"""sdae-mnist-mask-classifier: the zoo's stacked denoising autoencoder fine-tuned as an MNIST
digit classifier — Vincent et al. (2010)'s SDAE-3 (Table 3, MNIST row: 1.28 % test error).

The packaged `sdae-mnist-mask` (784-1000-1000-1000 sigmoid, greedy layer-wise pretraining
with 25 % masking noise) gets a `Dense(10)` head and the whole stack is fine-tuned with
SGD; the epoch with the best validation accuracy (the last 10,000 training images) is kept.
The controls (ν = 0 pretraining, no pretraining; 3 seeds each) are
`benchmarks/sdae_mnist.py`; its table is part of this card when it has been run.

Retrain and regenerate the card: `keras-dae train zoo/sdae-mnist-mask-classifier --install`.
"""

import pathlib

import numpy as np

from keras_dae import datasets, downstream, utils
from keras_dae.zoo import hub

NAME = "sdae-mnist-mask-classifier"
DATASET = "mnist"
PRETRAINED = "sdae-mnist-mask"  # the pretrained stack (its own recipe: zoo/sdae-mnist-mask)
BACKEND = "jax"      # `keras-dae train` default: the MLP stack trains fastest on JAX on 2 CPU
                     # cores (5,864 images/s vs 3,951 torch, 3,704 TensorFlow; RESULTS.md of 2026-12-01)
EPOCHS = 16          # fine-tuning; the training loss is flat (≈ 6e-4) from epoch 12 on
BATCH_SIZE = 4       # the paper fine-tunes online (batch 1); smaller batches select better on
                     # validation (benchmarks/choices_mnist.py finetune-batch: seed 0, best validation
                     # accuracy over the run, batch 64 / 16 / 8 / 4: 98.40 / 98.61 / 98.62 / 98.67 %);
                     # 16 epochs take 12 min on 2 cores with jax (batch 64: 1.6)
LEARNING_RATE = 0.025  # SGD, momentum 0.9, cosine decay to 0; batch 64 / 16 / 8 took 0.1 / 0.1 / 0.05
MOMENTUM = 0.9
SEED = 0             # the head's initialization and the shuffling
WEIGHTS_DTYPE = "float16"  # 11 MB instead of 22 MB of package; the card gives the cost, measured

ENTRY = {
    "architecture": "MLP 784-1000-1000-1000-10, sigmoid (2.8 M parameters)",
    "objective": ("SDAE-3: greedy DAE pretraining (masking ν = 0.25), then supervised fine-tuning "
                  f"of the whole stack (SGD {LEARNING_RATE:g}, momentum {MOMENTUM:g}, batch {BATCH_SIZE}, "
                  f"cosine decay over {EPOCHS} epochs, the best validation epoch kept)"),
    "corruption": "MaskingNoise(rate=0.25) in pretraining; none in fine-tuning",
    "hf_repo": "keras-dae/sdae-mnist-mask-classifier",
    "license": "apache-2.0",
    "data_license": "CC BY-SA 3.0",
    "task": "image-classification",
    "description": (
        "Classifies 28×28 MNIST digits in [0, 1] (`model.predict(x).argmax(-1)`): the "
        "stacked denoising autoencoder `sdae-mnist-mask` fine-tuned end to end under a "
        "softmax head, reproducing the SDAE-3 row of Vincent et al. (2010), Table 3."
    ),
}
BENCHMARK = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "sdae_mnist.md"


def build():
    encoder = hub.load(PRETRAINED, part="encoder")
    return downstream.classifier(encoder, num_classes=10, name=NAME.replace("-", "_"))


def fit(model, x_train, x_val, epochs, callbacks, labels, learning_rate=LEARNING_RATE,
        batch_size=BATCH_SIZE, verbose=2, checkpoint_dir=None):
    """Fine-tunes `model` (also the benchmark's, for every condition and seed; its
    randomly initialized control gets its own `learning_rate` and `batch_size`). With
    `train`'s callbacks and checkpoint folder, a killed run resumes after its last finished
    epoch and still ends with the best validation epoch of the whole run."""
    y_train, y_val = labels
    history = downstream.fine_tune(model, x_train, y_train, x_val, y_val, epochs=epochs,
                                   learning_rate=learning_rate, momentum=MOMENTUM,
                                   batch_size=batch_size, verbose=verbose, callbacks=callbacks,
                                   checkpoint_dir=checkpoint_dir)
    return {"val_accuracy": history.history["val_accuracy"], "loss": history.history["loss"],
            "best_epoch": [history.best_epoch]}


def evaluate(model, num_images=None):
    x_test, y_test = datasets.load_mnist("test", num_images=num_images)
    errors = int(np.sum(np.argmax(model.predict(x_test, batch_size=1000, verbose=0), -1) != y_test))
    error = 100 * errors / len(y_test)
    rows = ["| MNIST test set | test error |", "|---|---|",
            f"| {NAME} | **{error:.2f} %** ({errors} of {len(y_test):,}) |",
            "| Vincent et al. (2010): SDAE-3 / SAE-3 / DBN-3 / SVM-rbf | 1.28 / 1.40 / 1.24 / 1.40 % |"]
    table = "\n".join(rows)
    # The controls: `python benchmarks/sdae_mnist.py` rewrites this block when it reruns.
    controls = BENCHMARK.read_text().strip() if BENCHMARK.is_file() else "Not run yet."
    table += ("\n\nControls, same architecture and pretraining budget, 3 seeds each (`python "
              "benchmarks/sdae_mnist.py`):\n\n" + utils.marked_block("sdae-mnist-controls", controls))
    golden = {"x": x_test[:8]}
    return {"test_error_percent": round(error, 3)}, table, golden

