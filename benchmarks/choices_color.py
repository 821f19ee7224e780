"""Choices of the colour entry `dncnn-cbsd432-gauss`, measured on validation images only (the
last 32 CBSD432 images, held out of its training; never CBSD68, Kodak24 or McMaster).

    KERAS_BACKEND=tensorflow python benchmarks/choices_color.py opponent

`opponent`: the gray entry `dncnn-bsd400-gauss` on a colour image, channel by channel in RGB
against channel by channel in the opponent colour space (`keras_dae.layers.color.OPPONENT`,
each channel at its own σ): the start `networks.opponent_color` gives the colour entry.
Every 4th held-out image, central 160×160 crops, noise from `default_rng(0)`, PSNR over the
three channels with peak 1, outputs clipped.
"""

import argparse
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def opponent(crop=160, step=4):
    import keras_dae
    from keras_dae import datasets
    from keras_dae.layers.color import OPPONENT, OPPONENT_NOISE, OPPONENT_OFFSET
    from keras_dae.metrics import psnr_numpy

    gray = keras_dae.load("dncnn-bsd400-gauss")
    images = datasets.load_image_folder("cbsd432", color_mode="rgb")[400:432:step]
    clean = np.stack([im[:crop, :crop] for im in images])
    t, offset, scale = np.asarray(OPPONENT), np.asarray(OPPONENT_OFFSET), np.asarray(OPPONENT_NOISE)

    def per_channel(x, sigmas):
        return np.stack([gray.denoise(x[..., c:c + 1], sigma=s)[..., 0] for c, s in enumerate(sigmas)], -1)

    print("| σ | RGB channel by channel | opponent channel by channel | gain |\n|---|---|---|---|")
    for sigma in (15, 25, 50):
        noisy = (clean + sigma / 255 * np.random.default_rng(0).standard_normal(clean.shape)).astype("float32")
        rgb = per_channel(noisy, [sigma / 255] * 3)
        opp = per_channel((noisy @ t.T + offset).astype("float32"), sigma / 255 * scale)
        back = (opp - offset) @ np.linalg.inv(t).T
        a, b = (psnr_numpy(clean, np.clip(out, 0, 1), 1.0).mean() for out in (rgb, back))
        print(f"| {sigma} | {a:.2f} | {b:.2f} | {b - a:+.2f} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("comparison", choices=("opponent",))
    args = parser.parse_args(argv)
    {"opponent": opponent}[args.comparison]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
