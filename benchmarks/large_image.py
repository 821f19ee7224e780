"""A 4000×3000 photograph through a zoo denoiser, in tiles: wall time and peak memory.

    KERAS_BACKEND=tensorflow python benchmarks/large_image.py [--model dncnn-bsd400-gauss]
    KERAS_BACKEND=tensorflow python benchmarks/large_image.py --model dncnn-cbsd432-gauss

The image is BSD68's test001 (CBSD68's 101085, the same photograph in colour, for a colour
model) mirrored and repeated up to 4000×3000 (12 megapixels), with σ = 25 noise from NumPy;
`denoise` cuts it into 512×512 windows (the default above a megapixel). It checks, on a
1024×768 crop, that the tiled output equals the whole-image output within 1e-4, and prints
the time and the process's peak resident memory, which `benchmarks/results/large_image.json`
keeps (one result per model) and docs/cli.md's `large-image` block quotes.
"""

import argparse
import json
import os
import pathlib
import platform
import resource
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "large_image.json"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dncnn-bsd400-gauss")
    parser.add_argument("--size", type=int, nargs=2, default=(4000, 3000), metavar=("W", "H"))
    parser.add_argument("--from-results", action="store_true", help="only rewrite the docs/cli.md block")
    args = parser.parse_args(argv)
    if args.from_results:
        write_block(read_results())
        return 0

    import keras

    import keras_dae
    from keras_dae import datasets, evaluation
    from keras_dae.utils import atomic_write

    width, height = args.size
    model = keras_dae.load(args.model)
    color = model.example_shape[-1] == 3
    photo = datasets.load_image(os.path.join(datasets.image_set_dir("cbsd68" if color else "bsd68"),
                                             "101085.png" if color else "test001.png"), "rgb" if color else "grayscale")
    tiled = np.concatenate([photo, photo[:, ::-1]], 1)
    tiled = np.concatenate([tiled, tiled[::-1]], 0)
    reps = (-(-height // tiled.shape[0]), -(-width // tiled.shape[1]), 1)
    clean = np.tile(tiled, reps)[:height, :width]
    noisy = evaluation.add_gaussian_noise(clean[None], 25.0 / 255.0, seed=0)
    kwargs = {"sigma": 25.0 / 255.0} if model.conditioned else {}

    crop = noisy[:, :768, :1024]
    whole, windows = model.denoise(crop, **kwargs), model.denoise(crop, tile_size=256, **kwargs)
    agreement = float(np.abs(whole - windows).max())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    out = model.denoise(noisy, **kwargs)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    psnr = float(10 * np.log10(1.0 / np.mean((np.clip(out[0], 0, 1) - clean) ** 2)))
    result = {"model": args.model, "channels": clean.shape[-1], "size": [width, height], "seconds": round(seconds, 1),
              "peak_rss_mib": round(peak), "peak_rss_before_mib": round(before),
              "tiled_vs_whole_max_abs_diff": agreement, "psnr_db": round(psnr, 2),
              "backend": keras.backend.backend(), "keras": keras.__version__,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
              "command": f"KERAS_BACKEND={keras.backend.backend()} python benchmarks/large_image.py --model {args.model}",
              "date": time.strftime("%Y-%m-%d")}
    print(json.dumps(result, indent=2))
    results = {**read_results(), args.model: result}
    atomic_write(RESULTS, json.dumps(results, indent=2) + "\n")
    write_block(results)
    return 0


def read_results():
    """`{model: result}` (an older file held one result)."""
    if not RESULTS.is_file():
        return {}
    results = json.loads(RESULTS.read_text())
    return {results["model"]: results} if "model" in results else results


def write_block(results):
    """The marked `large-image` block of docs/cli.md: one paragraph per model measured."""
    from keras_dae.utils import replace_block

    paragraphs = []
    for result in results.values():
        width, height = result["size"]
        kind = "colour" if result.get("channels", 1) == 3 else "gray"
        paragraphs.append(
            f"A {width}×{height} {kind} photograph ({width * height / 1e6:.0f} megapixels) through "
            f"`{result['model']}` in 512×512 windows: {result['seconds']:.0f} s on {result['machine']} "
            f"({result['backend']}), peak resident memory {result['peak_rss_mib']:,} MiB for the whole "
            f"process ({result['peak_rss_before_mib']:,} MiB before the large image); tiled and "
            f"whole-image outputs of a 1024×768 crop differ by at most "
            f"{result['tiled_vs_whole_max_abs_diff']:.1g} (`{result['command']}`, {result['date']}).")
    replace_block(ROOT / "docs" / "cli.md", "large-image", "\n\n".join(paragraphs))


if __name__ == "__main__":
    raise SystemExit(main())
