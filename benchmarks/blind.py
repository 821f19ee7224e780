"""Blind denoising on files as users have them: the noise was clipped to the value range and
quantized to 8 bits when the file was saved. Per zoo entry and σ: PSNR with σ given and
blind (σ estimated per image by `model.estimate_sigma`, what `denoise(x)` does), their
difference, and the estimator's error against the true σ, per image.

    KERAS_BACKEND=tensorflow python benchmarks/blind.py dncnn-cbsd432-gauss --dataset cbsd68 --sigmas 15 25 50
    KERAS_BACKEND=tensorflow python benchmarks/blind.py dncnn-bsd400-gauss --dataset bsd68 --sigmas 15 25 50
    KERAS_BACKEND=jax python benchmarks/blind.py unet-mnist-gauss --dataset mnist --sigmas 0.1 0.3 0.5 --num-images 64

The noisy file: `round(clip(x + σ·n, 0, peak) · 255) / 255` with n from `default_rng(seed)`
(peak 255 for photo sets, 1 for MNIST); outputs are clipped (and rounded on 8-bit sets) as
in the protocol. `--split val` reads the validation digits (Keras sets only): choices are
made there; the test split is for the final table. Writes
`benchmarks/results/blind/<model>_<dataset>_<split>.{json,md}` and the `blind-table` block
of docs/evaluation.md from every test-split result there (`--from-results`: that block only).
"""

import argparse
import json
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def saved_file(clean, sigma, peak, seed):
    """What a user's file holds: the noisy image clipped to [0, peak] and rounded to 8 bits."""
    from keras_dae.evaluation import add_gaussian_noise

    noisy = add_gaussian_noise(clean, sigma, seed)
    quantize = lambda im: (np.round(np.clip(im / peak, 0, 1) * 255) / 255 * peak).astype("float32")
    return np.stack([quantize(im) for im in noisy]) if isinstance(noisy, np.ndarray) else [quantize(im) for im in noisy]


def measure(model, clean, sigma, peak, seed):
    from keras_dae.evaluation.common import row

    noisy = saved_file(clean, sigma, peak, seed)
    given, blind, estimates = [], [], []
    start = time.perf_counter()
    # Keras sets in batches of 256; photo sets image by image (they mix sizes).
    batches = ([noisy[i:i + 256] for i in range(0, len(noisy), 256)] if isinstance(noisy, np.ndarray)
               else [im[None] for im in noisy])
    for batch in batches:
        x = batch / peak
        s_hat = np.asarray(model.estimate_sigma(x), "float32")
        estimates.extend(s_hat * peak)
        given.extend(np.asarray(model.denoise(x, sigma=sigma / peak)) * peak)
        blind.extend(np.asarray(model.denoise(x, sigma=s_hat)) * peak)
    seconds = time.perf_counter() - start
    stack = (lambda v: np.stack(v)) if isinstance(clean, np.ndarray) else (lambda v: v)
    r_given = row("given", f"sigma={sigma:g}", clean, stack(given), peak)
    r_blind = row("blind", f"sigma={sigma:g}", clean, stack(blind), peak)
    ratio = np.asarray(estimates) / sigma
    return {
        "sigma": sigma,
        "psnr_given": r_given["metrics"]["psnr"],
        "psnr_blind": r_blind["metrics"]["psnr"],
        "blind_minus_given": r_blind["metrics"]["psnr"] - r_given["metrics"]["psnr"],
        "sigma_hat_over_sigma": {"median": float(np.median(ratio)), "min": float(ratio.min()),
                                 "max": float(ratio.max()),
                                 "mean_abs_error": float(np.mean(np.abs(ratio - 1)))},
        "worst_image_blind_minus_given": float(np.min(np.subtract(r_blind["per_image"]["psnr"],
                                                                  r_given["per_image"]["psnr"]))),
        "per_image": {"sigma_hat": np.round(np.asarray(estimates, "float64"), 4).tolist(),
                      "psnr_given": r_given["per_image"]["psnr"], "psnr_blind": r_blind["per_image"]["psnr"]},
        "seconds": round(seconds, 1),
    }


def to_markdown(rows, unit):
    lines = [f"| σ | σ given | blind | blind − given | worst image | σ̂/σ median (min–max) | mean abs(σ̂/σ − 1) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        e = r["sigma_hat_over_sigma"]
        lines.append(f"| {r['sigma']:g}{unit} | {r['psnr_given']:.2f} | {r['psnr_blind']:.2f} | "
                     f"{r['blind_minus_given']:+.2f} | {r['worst_image_blind_minus_given']:+.2f} | "
                     f"{e['median']:.3f} ({e['min']:.3f}–{e['max']:.3f}) | {e['mean_abs_error']:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="a σ-conditioned zoo entry")
    parser.add_argument("--dataset", help="mnist, bsd68, set12, cbsd68, kodak24, mcmaster")
    parser.add_argument("--sigmas", type=float, nargs="+", help="on the data scale (25, or 0.3)")
    parser.add_argument("--split", default="test", choices=("test", "val"))
    parser.add_argument("--num-images", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "blind"))
    parser.add_argument("--from-results", action="store_true", help="only rewrite the docs block")
    args = parser.parse_args(argv)
    if args.from_results:
        write_block(pathlib.Path(args.out))
        return 0
    if not (args.model and args.dataset and args.sigmas):
        parser.error("give a model, --dataset and --sigmas (or --from-results)")

    import keras

    import keras_dae
    from keras_dae.evaluation import load_eval_images

    model = keras_dae.load(args.model, compile=False)
    clean, peak = load_eval_images(args.dataset, args.split, args.num_images)
    rows = []
    for sigma in args.sigmas:
        rows.append(measure(model, clean, sigma, peak, args.seed))
        print(to_markdown(rows[-1:], "").splitlines()[-1], flush=True)
    unit = "/255" if peak == 255.0 else ""
    table = to_markdown(rows, unit)
    print(table)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = pathlib.Path(args.model).stem if args.model.endswith(".keras") else args.model
    stem = out / f"{name}_{args.dataset}_{args.split}"
    meta = {"model": name, "dataset": args.dataset, "split": args.split, "num_images": len(clean),
            "seed": args.seed, "backend": keras.backend.backend(), "keras_dae": keras_dae.__version__,
            "command": "python benchmarks/blind.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    stem.with_suffix(".json").write_text(json.dumps({**meta, "rows": rows}, indent=1) + "\n")
    stem.with_suffix(".md").write_text(
        f"{args.model} on {args.dataset} ({args.split}, {len(clean)} images), noise clipped and saved as "
        f"8 bits, seed {args.seed}, {meta['backend']}:\n\n{table}\n\n`{meta['command']}`\n")
    if args.split == "test" and out == ROOT / "benchmarks" / "results" / "blind":
        write_block(out)
    return 0


def write_block(folder):
    """docs/evaluation.md's `blind-table` block: one table per test-split result in `folder`."""
    from keras_dae.utils import replace_block

    parts = []
    for path in sorted(folder.glob("*_test.json")):
        result = json.loads(path.read_text())
        unit = "" if result["dataset"] in ("mnist", "fashion_mnist") else "/255"
        parts.append(f"`{result['model']}` on {result['dataset']} ({result['num_images']} test images, "
                     f"{result['backend']}; `{result['command']}`):\n\n{to_markdown(result['rows'], unit)}")
    replace_block(ROOT / "docs" / "evaluation.md", "blind-table", "\n\n".join(parts))


if __name__ == "__main__":
    sys.exit(main())
