"""Load a zoo model, train it a little more, save it, and publish it to a Hugging Face Hub.

`keras_dae.load("dae-mnist-saltpepper")` returns the packaged, compiled salt-and-pepper
denoiser (no network needed); `fit` continues its training on MNIST; the result is saved
as a local `.keras` file and, when a Hub endpoint is given, published with
`keras_dae.publish(model, "hf://<org>/<repo>")`, then loaded back from there to check it.
Prints PSNR on salt-and-pepper test digits before and after, and draws noisy / before /
after digits.

huggingface_hub reads `HF_ENDPOINT` once, when Keras imports it, so `--hub-endpoint` is
put into the environment before `keras` is imported. Without an endpoint nothing is
uploaded. The token is huggingface_hub's (e.g. `HF_TOKEN`).

Run:
    python examples/load_train_publish.py --fast                       # no upload
    python examples/load_train_publish.py --hub-endpoint https://huggingface.co --repo me/dae-mnist-sp
"""

import argparse
import os
import pathlib

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="tiny data and budget (tests)")
parser.add_argument("--out", default="outputs/examples/load_train_publish.png")
parser.add_argument("--save", default=None, help="the .keras file (default: beside --out)")
parser.add_argument("--hub-endpoint", default=None, help="e.g. https://huggingface.co; none: no upload")
parser.add_argument("--repo", default="keras-dae-examples/dae-mnist-saltpepper-more", help="org/repo")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
if args.hub_endpoint:
    os.environ["HF_ENDPOINT"] = args.hub_endpoint.rstrip("/")  # before keras imports huggingface_hub

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_dae  # noqa: E402
from keras_dae.datasets import load_mnist  # noqa: E402
from keras_dae.metrics import psnr_numpy  # noqa: E402
from keras_dae.plotting import save_figure  # noqa: E402

num_train = 512 if args.fast else 20_000
num_test = 256 if args.fast else 2_000
epochs = 1 if args.fast else 3


keras_dae.set_random_seed(args.seed)
# The zoo model was trained on the first 50,000 training images: continue on the last ones.
x_train, _ = load_mnist("train")
x_train = x_train[-num_train:]
x_test, _ = load_mnist("test", num_images=num_test)

# Packaged and compiled for fine-tuning (Adam at 1e-4: the weights ship without optimizer
# state, and a fresh Adam at 1e-3 would first undo part of the training): fit works at once.
model = keras_dae.load("dae-mnist-saltpepper")
noisy = keras.ops.convert_to_numpy(model.corruption.corrupt(x_test, seed=1))  # its own noise, fixed
before = model.denoise(noisy)
model.fit(x_train, epochs=epochs, batch_size=128, verbose=0)
after = model.denoise(noisy)

print(f"PSNR (dB) on {num_test} test digits with the model's salt-and-pepper noise "
      f"(rate {model.corruption.rate})")
for name, images in [("noisy input", noisy), ("zoo model", before), (f"+{epochs} epoch(s)", after)]:
    print(f"  {name:<14} {psnr_numpy(x_test, images).mean():.2f}")

save = pathlib.Path(args.save or pathlib.Path(args.out).with_suffix(".keras"))
save.parent.mkdir(parents=True, exist_ok=True)
model.save(save)
print("saved", save)
if args.hub_endpoint:
    sha = keras_dae.publish(model, f"hf://{args.repo}")
    print(f"published hf://{args.repo}@{sha} to {args.hub_endpoint}")
    reloaded = keras_dae.load(f"hf://{args.repo}@{sha}")
    print("reloaded from the Hub; max |difference| of outputs:",
          float(np.abs(reloaded.denoise(noisy) - after).max()))
else:
    print("no --hub-endpoint given: not publishing")

n = 8
rows = [("clean", x_test[:n]), ("noisy", noisy[:n]), ("zoo model", before[:n]), ("fine-tuned", after[:n])]
fig, axes = plt.subplots(len(rows), 1, figsize=(n * 0.9, len(rows) * 1.0))
for ax, (label, images) in zip(axes, rows):
    ax.imshow(np.concatenate(list(images[..., 0]), axis=1), cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
fig.suptitle(f"dae-mnist-saltpepper before / after more training ({keras.backend.backend()})", fontsize=9)
fig.tight_layout()
print("wrote", save_figure(fig, args.out))
