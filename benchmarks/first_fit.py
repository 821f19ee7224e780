"""The first `fit` of a model, as keras-dae runs it and as Keras alone would: the seconds from
`fit` to the end of its first epoch, for fresh models, alternating the two ways in one process.

    KERAS_BACKEND=tensorflow python benchmarks/first_fit.py   # → results/first_fit_<backend>.json

Most of a first `fit` is tracing (TensorFlow, JAX) the train step. keras-dae's `fit` builds the
optimizer before it (`keras_dae.backend.build_optimizer`); Keras' TensorFlow trainer, without a
distribution strategy, creates the optimizer's variables inside the first trace instead (a
run-once `tf.cond` for each). On JAX and torch both ways are the same, built before tracing.
The model: a residual U-Net DAE (widths 16, 32, FiLM σ-conditioning) on 64 random 28×28
images, batches of 16, Adam; each way on its own fresh model, `--repeats` times.
"""

import argparse
import json
import pathlib
import statistics
import time

import keras
import numpy as np

from keras_dae import layers, models, networks
from keras_dae.utils import atomic_write

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def first_fit_seconds(way, widths, images):
    """Seconds of the first one-epoch `fit` of a fresh model, `way` "keras-dae" or "keras"."""
    net = networks.unet((28, 28, 1), widths=widths, sigma_conditioning="film", embedding_dim=32)
    model = models.ResidualDAE(net, layers.AdditiveGaussian(sigma_range=(0.05, 0.3), seed=0))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = np.random.default_rng(0).random((images, 28, 28, 1), "float32")
    fit = model.fit if way == "keras-dae" else lambda *a, **k: keras.Model.fit(model, *a, **k)
    start = time.perf_counter()
    fit(x, epochs=1, batch_size=16, verbose=0)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh models per way (default 3)")
    parser.add_argument("--widths", default="16,32", help="the U-Net's widths (default 16,32)")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1. Received: --repeats {args.repeats}")
    widths = tuple(int(w) for w in args.widths.split(","))
    runs = {"keras-dae": [], "keras": []}
    for _ in range(args.repeats):
        for way in runs:  # alternated: the machine's speed drifts
            keras.utils.clear_session()
            runs[way].append(round(first_fit_seconds(way, widths, args.images), 2))
    medians = {way: statistics.median(v) for way, v in runs.items()}
    result = {"backend": keras.backend.backend(), "widths": list(widths), "images": args.images,
              "seconds": runs, "median_seconds": medians,
              "keras_over_keras_dae": round(medians["keras"] / medians["keras-dae"], 2)}
    path = atomic_write(args.out / f"first_fit_{result['backend']}.json", json.dumps(result, indent=2) + "\n")
    print(f"first fit, median of {args.repeats}: keras-dae {medians['keras-dae']:.1f} s, Keras alone "
          f"{medians['keras']:.1f} s ({result['keras_over_keras_dae']}×); wrote {path}")
    return result


if __name__ == "__main__":
    main()
