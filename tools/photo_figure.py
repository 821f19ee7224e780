"""The README's before/after figures: a test photograph, noisy at σ = 25, denoised.

Usage: python tools/photo_figure.py [--model dncnn-bsd400-gauss] [--dataset bsd68] [--image test003.png]
       python tools/photo_figure.py --model dncnn-cbsd432-gauss --dataset kodak24 --image kodim23.png \
           --out docs/color_denoise.png
Writes the figure and prints the PSNR of each panel (the evaluation protocol: NumPy noise,
unclipped, on the 0–255 image; outputs clipped and rounded to 8 bits). A colour set is read
in RGB.
"""

import argparse
import os
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dncnn-bsd400-gauss")
    parser.add_argument("--dataset", default="bsd68", help="a test set: bsd68, set12, cbsd68, kodak24, mcmaster")
    parser.add_argument("--image", default="test003.png", help="a file name of that set")
    parser.add_argument("--sigma", type=float, default=25.0, help="noise σ on the 0–255 scale")
    parser.add_argument("--out", default=str(ROOT / "docs" / "photo_denoise.png"))
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import keras_dae
    from keras_dae import datasets, evaluation
    from keras_dae.metrics import psnr_numpy
    from keras_dae.plotting import save_figure

    color = args.dataset in evaluation.COLOR
    clean = datasets.load_image(os.path.join(datasets.image_set_dir(args.dataset), args.image),
                                "rgb" if color else "grayscale", normalize=False)
    noisy = evaluation.add_gaussian_noise(clean, args.sigma, seed=0)
    model = keras_dae.load(args.model)
    kwargs = {"sigma": args.sigma / 255.0} if model.conditioned else {}
    out = np.round(np.clip(model.denoise(noisy[None] / 255.0, **kwargs)[0] * 255.0, 0, 255))
    panels = [("clean", clean), (f"noisy, σ = {args.sigma:g}", noisy), (args.model, out)]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.6))
    for ax, (title, image) in zip(axes, panels):
        psnr = "" if image is clean else f" — {psnr_numpy(clean[None], image[None], 255.0)[0]:.2f} dB"
        if color:
            ax.imshow(np.clip(image, 0, 255).astype("uint8"))
        else:
            ax.imshow(np.clip(image[..., 0], 0, 255), cmap="gray", vmin=0, vmax=255)
        ax.set_title(title + psnr, fontsize=11)
        ax.axis("off")
        print(f"{title}{psnr}")
    fig.suptitle(f"{args.dataset.upper()} {args.image} (a photograph the model never saw), "
                 f"{'colour' if color else 'gray'}, {clean.shape[1]}×{clean.shape[0]}")
    fig.tight_layout()
    save_figure(fig, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
