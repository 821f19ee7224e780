"""dncnn-bsd400-gauss25: the authors' DnCNN-S for σ = 25, converted from PyTorch, not trained here.

Convert, measure and regenerate the card: `keras-dae train zoo/dncnn-bsd400-gauss25 --install` (a recipe
with `convert()` instead of `build()`/`fit()`: no training happens). The source is the MIT-licensed
`dncnn_25.pth` of the KAIR toolbox (cszn/KAIR, `model_zoo/dncnn_25.pth`), read from
`$KERAS_DAE_DATA/checkpoints/kair-dncnn/`; its licence is `LICENSE-weights` beside this file.
"""

import hashlib
import pathlib

import numpy as np

from keras_dae import datasets, evaluation, layers, models, networks

NAME = "dncnn-bsd400-gauss25"
DATASET = "bsd400"
SIGMA = 25.0         # the noise level of this DnCNN-S model, on the 0–255 scale
SIGMAS = (SIGMA,)    # measured at the model's own σ, as in the paper's table
EVAL_SEED = 0        # the NumPy seed of the test noise (same on every backend)
SOURCE = "checkpoints/kair-dncnn/dncnn_25.pth"
SOURCE_SHA256 = "0451a70de9b672ae037270498fbb1c17a1c1c4403785df586ff65df5b858e5b0"
DEPTH, FILTERS = 17, 64  # DnCNN-S: 17 convolutions of 64 channels (555,137 parameters)

ENTRY = {
    "architecture": "DnCNN-S, 17 convolutions 3×3 of 64 channels, ReLU, batch norm folded "
                    "(0.56 M parameters); fully convolutional, any image size",
    "objective": "ResidualDAE (blind): predicts the noise x̃ − x; denoised x̃ − r̂",
    "corruption": "AdditiveGaussian, σ = 25/255 (25 on the 0–255 scale), unclipped",
    "hf_repo": "keras-dae/dncnn-bsd400-gauss25",
    "license": "mit",
    "data_license": "research use (BSD images as distributed with DnCNN)",
    "task": "denoising",
    "description": (
        "Removes additive white Gaussian noise of σ = 25 (on the 0–255 scale) from grayscale "
        "photographs of any size, in [0, 1]: `model.denoise(noisy)`. The published DnCNN-S "
        "weights of Zhang et al. (2017), converted from the authors' PyTorch release (KAIR, "
        "MIT licence) and verified on BSD68; not trained by keras-dae."
    ),
}

PROVENANCE = """## Provenance

These weights were **converted, not trained** by keras-dae. Source: `dncnn_25.pth` of the
authors' PyTorch toolbox KAIR (github.com/cszn/KAIR, `model_zoo/dncnn_25.pth`, commit
fc1732f4a4514e42ce15e5b3a1e18c828af47a1e; SHA-256 `{sha}`), the DnCNN-S model of K. Zhang,
W. Zuo, Y. Chen, D. Meng and L. Zhang, "Beyond a Gaussian Denoiser: Residual Learning of Deep
CNN for Image Denoising", IEEE TIP 2017, trained by its authors on 400 BSD crops (180×180) at
σ = 25. Conversion (`keras-dae train zoo/dncnn-bsd400-gauss25`): the state dict is read with
`torch.load(..., weights_only=True)` (no pickle), each OIHW kernel is transposed to Keras' HWIO,
batch norm is already folded into the convolutions. The figures above were measured on the
converted model (the paper's: 29.23 dB on BSD68 at σ = 25).

## Licence of the weights

MIT, as released by the authors (the licence text travels with the weights):

```
{license}
```
"""


def source_path():
    return pathlib.Path(datasets.data_root()) / SOURCE


def read_state_dict(path):
    """The PyTorch state dict as NumPy arrays, read without unpickling arbitrary objects."""
    import torch

    data = pathlib.Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SOURCE_SHA256:
        raise ValueError(f"{path} is not the published dncnn_25.pth: SHA-256 {digest}, "
                         f"expected {SOURCE_SHA256}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.numpy() for k, v in state.items()}


def build():
    network = networks.dncnn(channels=1, depth=DEPTH, filters=FILTERS)
    return models.ResidualDAE(network, layers.AdditiveGaussian(sigma=SIGMA / 255.0),
                              value_range=(0.0, 1.0), name=NAME)


def convert():
    """The model with the published weights: KAIR's `model.{2i}` is our `conv_{i}`."""
    state = read_state_dict(source_path())
    model = build()
    for i in range(DEPTH):
        kernel = state[f"model.{2 * i}.weight"].transpose(2, 3, 1, 0)  # OIHW → HWIO
        model.network.get_layer(f"conv_{i}").set_weights([kernel, state[f"model.{2 * i}.bias"]])
    return model


def provenance():
    license_text = (pathlib.Path(__file__).parent / "LICENSE-weights").read_text().strip()
    return PROVENANCE.format(sha=SOURCE_SHA256, license=license_text)


def evaluate(model, num_images=None):
    results = {s: evaluation.evaluate(model, s, sigmas=SIGMAS, seed=EVAL_SEED, num_images=num_images,
                                      baselines=(), batch_size=1, verbose=False)
               for s in ("bsd68", "set12")}
    metrics, tables = {}, []
    for dataset, result in results.items():
        metrics[f"{dataset}_psnr@sigma={SIGMA:g}"] = round(result.value(model.name, f"sigma={SIGMA:g}"), 3)
        tables.append(f"**{dataset.upper()}**\n\n{result.to_markdown()}")
    table = "\n\n".join(tables)
    clean = datasets.load_image_folder("set12", num_images=2)
    crops = np.stack([im[100:164, 100:164] for im in clean])  # two 64×64 crops, σ = 25
    golden = {"x": evaluation.add_gaussian_noise(crops, SIGMA / 255.0, EVAL_SEED).astype("float32")}
    return metrics, table, golden

