"""The evaluation protocol: one table of a model beside the noisy input and classical denoisers.

Gaussian denoising protocol (`evaluate`):

1. Clean images: MNIST-like sets in [0, 1] (peak 1); natural grayscale sets (`"bsd68"`,
   `"set12"`) in [0, 255] (peak 255). `sigma` is given on that same scale.
2. Noise: `n = np.random.default_rng(seed).standard_normal(x.shape)` (float64, one image after
   the other for sets of mixed sizes; the same `n` for every sigma), `noisy = x + sigma * n`,
   cast to float32 and NOT clipped. NumPy draws it, so the noisy images are identical
   whichever Keras backend runs.
3. Every method sees the noisy images on the [0, 1] scale with `sigma` on that scale
   (`x / 255`, `sigma / 255` for natural images): models through
   `model.denoise(noisy, sigma=sigma)`, classical ones through `keras_dae.evaluation.baselines`. Outputs
   are brought back to the data scale and clipped to the valid range; the noisy row is not.
   On natural (8-bit) sets the outputs are also rounded to integers, as the paper's
   protocol saves them as 8-bit images (Zhang et al., 2017).
4. PSNR (peak 1 or 255) and SSIM (Gaussian window, see `keras_dae.metrics`) are computed per
   image in float64 and averaged.
5. Each classical parameter is chosen per sigma on validation images (MNIST: the first
   `val_images` of the validation split, at most 100 for BM3D; natural images: the last 20
   images of train400), with noise from `default_rng(seed + 1)`, never on the test set.
   The Wiener/PCA estimator is fitted on the training split (whole images) or on train400
   patches (8x8).
6. BM3D runs on the first `bm3d_images` test images; every row states its image count.
   Classical rows are cached on disk (`$KERAS_DAE_CACHE`, else `~/.cache/keras_dae/eval`),
   keyed by data set, split, sigma, seed, image count, parameter grid and package versions.

The inpainting protocol (`evaluate_inpainting`, `make_masks`) is in `keras_dae.evaluation.inpainting`
and the linear probe (`linear_probe`) in `keras_dae.evaluation.probe`; both are also reached from here.
The table `evaluate` and `evaluate_inpainting` return, `EvaluationResult`, is in `keras_dae.evaluation.results`.
"""

import argparse
import os
import sys
import time

import numpy as np

from keras_dae import datasets
from keras_dae.evaluation import baselines as baselines_lib
from keras_dae.evaluation.common import (COLOR, KERAS_SETS, add_gaussian_noise, apply, cache_dir, cached,
                                         load_eval_images, resolve, row, weights_fingerprint)
from keras_dae.evaluation.results import EvaluationResult, published_table, versions

PROTOCOL_VERSION = 1
DEFAULT_BASELINES = ("bm3d", "nlm", "tv", "wavelet", "wiener")


def _fit_wiener(dataset, max_val):
    if dataset in KERAS_SETS:
        return baselines_lib.WienerDenoiser().fit(datasets.load_keras_dataset(dataset)[0])
    train = [im / max_val for im in datasets.load_image_folder("train400", normalize=False)]
    return baselines_lib.WienerDenoiser(patch_size=8).fit(train)


def _validation_images(dataset, num):
    if dataset in KERAS_SETS:
        return datasets.load_keras_dataset(dataset, "val", num_images=num)[0]
    if dataset in COLOR:  # the last images of CBSD432, which the colour entry holds out
        paths = datasets.list_images(datasets.image_set_dir("cbsd432"))
        return [datasets.load_image(p, "rgb", normalize=False) for p in paths[-min(num, 20):]]
    paths = datasets.list_images(os.path.join(datasets.data_root(), "gray", "train400"))
    return [datasets.load_image(p, normalize=False) for p in paths[-min(num, 20):]]


def evaluate(model_or_name=None, dataset="mnist", corruption="gaussian", sigmas=(0.1, 0.3, 0.5),
             seed=0, num_images=None, baselines=DEFAULT_BASELINES, split="test",
             bm3d_images=1000, val_images=200, batch_size=256, use_cache=True, verbose=True,
             cache_model_rows=False):
    """Evaluates a denoiser against the noisy input and classical denoisers (see module doc).

    Args:
        model_or_name: an object with `denoise(x_noisy, sigma=...)` (images in [0, 1]), a
            zoo name resolved through `keras_dae.load`, or `None` for the reference rows only.
        dataset: `"mnist"`, `"fashion_mnist"`, `"cifar10"`, `"cifar100"`, `"bsd68"`, `"set12"`,
            or a colour set: `"cbsd68"`, `"kodak24"`, `"mcmaster"` (RGB; CBM3D as `"bm3d"`).
        corruption: `"gaussian"`, or `"inpainting"` (runs `evaluate_inpainting`).
        sigmas: noise levels on the data scale (e.g. 0.1 for MNIST, 25 for BSD68).
        seed: seed of the noise.
        num_images: evaluate the first `num_images` images only.
        baselines: classical rows, a subset of `("bm3d", "nlm", "tv", "wavelet", "wiener")`.
        split: data split to evaluate on.
        bm3d_images: BM3D runs on this many first images (it is slow).
        val_images: validation images for choosing classical parameters.
        batch_size: batch size for the model.
        use_cache: read and write cached classical rows.
        verbose: print progress and the final table.
        cache_model_rows: also cache the model's rows, keyed by the SHA-256 of its weights
            (`weights_fingerprint`), the protocol, the data and the keras-dae version, so that
            a long measurement stopped midway resumes (a zoo export's, across sessions with
            `$KERAS_DAE_CACHE` in the checkpoint folder). Off by default: a change to the
            code of `denoise` within one version would not show.

    Returns:
        An `EvaluationResult`.

    Example:
    >>> result = evaluate(my_model, "mnist", sigmas=(0.1, 0.3, 0.5), seed=0)
    >>> result.save("results", "mnist-gaussian")
    """
    if corruption == "inpainting":
        from keras_dae.evaluation.inpainting import evaluate_inpainting

        return evaluate_inpainting(model_or_name, dataset, seed=seed, num_images=num_images,
                                   split=split, use_cache=use_cache, verbose=verbose)
    if corruption != "gaussian":
        raise ValueError("`corruption` must be 'gaussian' or 'inpainting'. "
                         f"Received: corruption={corruption!r}")
    allowed = ("bm3d",) if dataset in COLOR else baselines_lib.METHODS
    unknown = [b for b in baselines if b not in allowed]
    if unknown:
        raise ValueError(f"`baselines` must be among {allowed} on {dataset!r}"
                         f"{' (colour: CBM3D only)' if dataset in COLOR else ''}. "
                         f"Received: baselines={tuple(baselines)}")
    for sigma in sigmas:
        if not sigma > 0:
            raise ValueError(f"`sigmas` must be positive. Received: sigma={sigma}")
    log = print if verbose else (lambda *a, **k: None)
    clean, max_val = load_eval_images(dataset, split, num_images)
    model, model_label = resolve(model_or_name) if model_or_name is not None else (None, None)
    directory = cache_dir() if use_cache else None
    fitted = {}
    fingerprint = backend = None  # what identifies the model's rows in the cache, when cached
    if model is not None and cache_model_rows:
        import keras

        fingerprint, backend = weights_fingerprint(model), keras.backend.backend()
    val = _validation_images(dataset, val_images) if baselines else None
    val_scale = 255.0 if isinstance(val, list) else 1.0
    rows = []
    for sigma in sigmas:
        cond = f"sigma={sigma:g}"
        noisy = add_gaussian_noise(clean, sigma, seed)
        rows.append(row("noisy", cond, clean, noisy, max_val, clip=False))
        log(f"{cond}: noisy input {rows[-1]['metrics']['psnr']:.2f} dB")
        if model is not None:
            def run_model(noisy=noisy, sigma=sigma, cond=cond):
                start = time.perf_counter()
                out = apply(lambda b: model.denoise(b, sigma=sigma / max_val), noisy, max_val, batch_size)
                return row(model_label, cond, clean, out, max_val, seconds=time.perf_counter() - start)

            key = {"protocol": PROTOCOL_VERSION, "dataset": dataset, "split": split, "sigma": sigma,
                   "seed": seed, "num_images": len(clean), "method": model_label, "weights": fingerprint,
                   "keras_dae": versions().get("keras-dae"), "backend": backend}
            rows.append(cached(directory if fingerprint else None, key, run_model))
            log(f"{cond}: {model_label} {rows[-1]['metrics']['psnr']:.2f} dB")
        for name in baselines:
            n = min(len(clean), bm3d_images) if name == "bm3d" else len(clean)
            n_val = min(len(val), 100) if name == "bm3d" else len(val)
            key = {"protocol": PROTOCOL_VERSION, "dataset": dataset, "split": split,
                   "sigma": sigma, "seed": seed, "num_images": n, "method": name,
                   "grid": baselines_lib.GRIDS[name], "val_images": n_val,
                   "versions": {k: v for k, v in versions().items() if k != "keras"}}
            if max_val == 255.0:
                key["rounded"] = True

            def compute(name=name, n=n, n_val=n_val):
                start = time.perf_counter()
                u = sigma / max_val
                v_clean = [im / val_scale for im in val[:n_val]]
                v_clean = np.stack(v_clean) if isinstance(val, np.ndarray) else v_clean
                v_noisy = add_gaussian_noise(v_clean, u, seed + 1)
                if name == "wiener" and not fitted:
                    fitted["wiener"] = _fit_wiener(dataset, max_val)
                wiener = fitted.get("wiener")
                params, _ = baselines_lib.tune(name, v_clean, v_noisy, u, wiener=wiener)
                out = apply(lambda b: baselines_lib.denoise(name, b, u, wiener=wiener,
                                                             **params), noisy[:n], max_val)
                return row(name, cond, clean[:n], out, max_val, params,
                            time.perf_counter() - start)

            rows.append(cached(directory, key, compute))
            log(f"{cond}: {name} {rows[-1]['metrics']['psnr']:.2f} dB "
                f"({rows[-1]['num_images']} images, {rows[-1]['params']})")
    rounding = " and rounded to 8 bits" if max_val == 255.0 else ""
    meta = {"protocol": f"Additive white Gaussian noise, unclipped; outputs clipped{rounding}.",
            "dataset": dataset, "split": split, "corruption": corruption, "seed": seed,
            "sigmas": list(sigmas), "num_images": len(clean), "max_val": max_val,
            "model": model_label, "versions": versions()}
    result = EvaluationResult(rows, meta)
    log(result.to_markdown())
    return result


def main(argv=None):
    """Command line: `python -m keras_dae.evaluation [MODEL] --dataset mnist ...`."""
    parser = argparse.ArgumentParser(prog="keras_dae.evaluation", description=(
        "Evaluate a denoising model beside the noisy input and classical denoisers."))
    parser.add_argument("model", nargs="?", default=None,
                        help="zoo name (via keras_dae.load); omit for the reference rows only")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--corruption", default="gaussian", choices=("gaussian", "inpainting"))
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0.1, 0.3, 0.5])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-images", type=int, default=None)
    parser.add_argument("--baselines", nargs="*", default=list(DEFAULT_BASELINES))
    parser.add_argument("--bm3d-images", type=int, default=1000)
    parser.add_argument("--val-images", type=int, default=200)
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--output-dir", default=None, help="write <name>.json and <name>.md")
    parser.add_argument("--name", default="evaluation")
    args = parser.parse_args(argv)
    result = evaluate(args.model, args.dataset, args.corruption, tuple(args.sigmas), args.seed,
                      args.num_images, tuple(args.baselines), bm3d_images=args.bm3d_images,
                      val_images=args.val_images, use_cache=not args.no_cache)
    if published_table(result, args.dataset):
        print("\n" + published_table(result, args.dataset))
    if args.output_dir:
        for path in result.save(args.output_dir, args.name):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
