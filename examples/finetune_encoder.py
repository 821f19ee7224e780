"""Fine-tune a pretrained DAE encoder as a digit classifier, against a random start (§8.1).

The encoder of the zoo's stacked DAE (`keras_dae.load("sdae-mnist-mask").encoder`, Vincent
et al. 2010's 784-1000-1000-1000 sigmoid stack, greedy layer-wise pretrained with masking
noise; packaged, no network needed) gets a `Dense(10)` head and is fine-tuned end to end
on a few labelled MNIST digits. The same classifier on a randomly initialised encoder of the
same architecture, with the same data, optimizer and epochs, is the baseline. Prints
test accuracy per epoch and plots both curves. With `--encoder pretrain` the stack is
pretrained here, greedily, on the training images instead of loaded.

Run:
    python examples/finetune_encoder.py          # ~3 min on CPU
    python examples/finetune_encoder.py --fast   # seconds, for the tests
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import keras  # noqa: E402

import keras_dae  # noqa: E402
from keras_dae.datasets import load_mnist  # noqa: E402
from keras_dae.plotting import save_figure  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="tiny data and budget (tests)")
parser.add_argument("--out", default="outputs/examples/finetune_encoder.png")
parser.add_argument("--encoder", choices=("zoo", "pretrain"), default="zoo",
                    help="load sdae-mnist-mask, or pretrain a StackedDAE here")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

num_labelled = 256 if args.fast else 5_000  # few labels: where pretraining helps most
num_test = 256 if args.fast else 10_000
epochs = 1 if args.fast else 10


keras_dae.set_random_seed(args.seed)
x_train, y_train = load_mnist("train", num_images=num_labelled)
x_test, y_test = load_mnist("test", num_images=num_test)

zoo = keras_dae.load("sdae-mnist-mask")
# The same architecture, freshly initialised (read from the zoo model, so they match).
architecture = dict(widths=zoo.widths, activation=zoo.activation, tied=zoo.tied, input_shape=zoo.input_shape_)
if args.encoder == "pretrain":
    zoo = keras_dae.models.StackedDAE(**architecture)
    zoo.pretrain(x_train, epochs_per_layer=1 if args.fast else 5)
encoders = {f"pretrained ({args.encoder})": zoo.encoder,
            "random init": keras_dae.models.StackedDAE(**architecture).encoder}

curves = {}
for name, encoder in encoders.items():
    keras_dae.set_random_seed(args.seed)  # the same head initialisation for both
    classifier = keras.Sequential([encoder, keras.layers.Dense(10)])
    classifier.compile(optimizer=keras.optimizers.Adam(3e-4),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                       metrics=["accuracy"])
    before = classifier.evaluate(x_test, y_test, verbose=0)[1]  # the untrained head
    history = classifier.fit(x_train, y_train, epochs=epochs, batch_size=64,
                             validation_data=(x_test, y_test), verbose=0)
    curves[name] = [before] + history.history["val_accuracy"]

print(f"test accuracy ({num_test} images) after fine-tuning on {num_labelled} labelled images")
print(f"{'epoch':>5}" + "".join(f"{name:>22}" for name in curves))
for epoch in range(epochs + 1):
    print(f"{epoch:5d}" + "".join(f"{c[epoch]:22.4f}" for c in curves.values()))

fig, ax = plt.subplots(figsize=(6, 4))
for name, curve in curves.items():
    ax.plot(range(epochs + 1), curve, marker="o", label=f"{name}: {curve[-1]:.3f}")
ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1),
       title=f"Fine-tuning 784-1000-1000-1000 + Dense(10), {num_labelled} labels ({keras.backend.backend()})")
ax.title.set_fontsize(9)
ax.legend()
fig.tight_layout()
print("wrote", save_figure(fig, args.out))
