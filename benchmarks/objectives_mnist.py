"""Each objective of keras_dae.models trained on an MNIST subset, against TV and Wiener.

The issue's "done when": every objective trains on real data with its loss falling and a
denoised PSNR above the best classical denoiser's on the same noisy test images.

    KERAS_BACKEND=jax python benchmarks/objectives_mnist.py --epochs 8

writes benchmarks/results/objectives_mnist_<backend>.json.
"""

import argparse
import json
import os
import pathlib
import time

import keras
import numpy as np

import keras_dae
from keras_dae.evaluation import baselines
from keras_dae import layers, models, networks
from keras_dae.datasets import load_mnist
from keras_dae.metrics import psnr_numpy

SIGMA = 0.3  # the middle of the zoo's σ = 0.1 / 0.3 / 0.5 protocol


def unet(conditioning):
    # A small U-Net (~0.1 M parameters) so that CPU runs take minutes, not hours.
    return networks.unet((28, 28, 1), widths=(16, 32, 32), sigma_conditioning=conditioning,
                         embedding_dim=32, output_activation="linear")


def objectives():
    gauss = lambda: layers.AdditiveGaussian(sigma=SIGMA, seed=0)  # noqa: E731
    return {
        "DAE": lambda: models.DAE(unet(None), gauss()),
        "ResidualDAE": lambda: models.ResidualDAE(
            unet("film"), layers.AdditiveGaussian(sigma_range=(0.05, 0.5), seed=0)),
        "WalkbackDAE": lambda: models.WalkbackDAE(unet(None), gauss(), steps=2),
        "ScoreDAE": lambda: models.ScoreDAE(unet("film"), layers.AdditiveGaussian(
            sigma_range=(0.01, 1.0), sigma_distribution="log_uniform", seed=0)),
        # Vincent et al. (2010)'s sigmoid/tied/cross-entropy stack, here with Gaussian noise.
        "StackedDAE": lambda: models.StackedDAE((784, 500, 250), corruption=gauss(),
                                                input_shape=(28, 28, 1)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--stacked-epochs", type=int, default=40,
                        help="the MLP stack is ~30x cheaper per epoch than the U-Nets")
    parser.add_argument("--stacked-train", type=int, default=20000,
                        help="the fully connected stack needs more images than the U-Nets")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    keras_dae.set_random_seed(0)
    x_train, _ = load_mnist("train", num_images=args.train)
    x_val, _ = load_mnist("val", num_images=100)
    x_test, _ = load_mnist("test", num_images=args.test)
    noise = lambda x, seed: (x + SIGMA * np.random.default_rng(seed).standard_normal(x.shape)).astype("float32")  # noqa: E731
    noisy_val, noisy_test = noise(x_val, 1), noise(x_test, 2)
    psnr = lambda out: float(np.mean(psnr_numpy(x_test, np.clip(out, 0.0, 1.0))))  # noqa: E731

    results = {"backend": keras.backend.backend(), "sigma": SIGMA, "train_images": args.train,
               "test_images": args.test, "epochs": args.epochs, "noisy_psnr": psnr(noisy_test)}
    wiener = baselines.WienerDenoiser().fit(x_train)
    for name in ("tv", "wiener"):
        params, _ = baselines.tune(name, x_val, noisy_val, SIGMA, wiener=wiener)
        results[f"{name}_psnr"] = psnr(baselines.denoise(name, noisy_test, SIGMA, wiener=wiener, **params))
        results[f"{name}_params"] = params
    best_classical = max(results["tv_psnr"], results["wiener_psnr"])
    print(json.dumps(results), flush=True)

    for name, build in objectives().items():
        if args.only and name not in args.only:
            continue
        start = time.time()
        model = build()
        epochs, x_fit = args.epochs, x_train
        if name == "StackedDAE":
            x_fit = load_mnist("train", num_images=args.stacked_train)[0]
            model.pretrain(x_fit, epochs_per_layer=5, optimizer=lambda: keras.optimizers.Adam(1e-3))
            epochs = args.stacked_epochs
        model.compile(optimizer=keras.optimizers.Adam(2e-3 if name != "StackedDAE" else 1e-3))
        history = model.fit(x_fit, epochs=epochs, batch_size=64, verbose=0,
                            validation_data=(x_val,))
        value = psnr(model.denoise(noisy_test, sigma=SIGMA))
        results[name] = {
            "loss_first": history.history["loss"][0], "loss_last": history.history["loss"][-1],
            "val_loss": history.history["val_loss"], "psnr": value,
            "beats_best_classical": value > best_classical,
            "epochs": epochs, "train_images": len(x_fit), "seconds": round(time.time() - start, 1),
            "parameters": model.count_params(),
        }
        print(name, json.dumps(results[name]), flush=True)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"objectives_mnist_{keras.backend.backend()}.json"
    if args.only and path.exists():
        results = {**json.loads(path.read_text()), **{k: results[k] for k in args.only if k in results}}
    path.write_text(json.dumps(results, indent=2))
    print("wrote", path)


if __name__ == "__main__":
    os.environ.setdefault("KERAS_DAE_DATA", str(pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"))
    main()
