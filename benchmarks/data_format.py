"""Does the image layout change how fast Keras trains a small U-Net? channels_last against
channels_first, on the active backend, in one run.

    KERAS_BACKEND=torch python benchmarks/data_format.py   # → results/data_format_<backend>.{json,md}

Keras' torch backend keeps Keras' default layout, channels_last, and transposes to
PyTorch's channels_first around every convolution; plain PyTorch (the speed peer,
`benchmarks/speed.py`) runs channels_first. Before keras-dae's networks learn the other
layout, this measures what it would buy: a bare Keras U-Net of the `unet-mnist-gauss` shape
(28×28×1 digits, widths 32-64-64, two 3×3 convolutions with GroupNorm and SiLU per level,
skip connections; no σ-conditioning, which is the same in both layouts), built once per
layout (`keras.config.set_image_data_format` before the layers), Adam on MSE, batch 64.
Each layout trains `--steps` batches per round after an untimed warm-up `fit`, the two in
turn, round after round; the best round of each is reported (images/s) and every round is
kept in the JSON. TensorFlow has no channels_first convolution on CPU: reported as such.
"""

import argparse
import os
import pathlib
import platform
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
FORMATS = ("channels_last", "channels_first")


def unet(data_format, widths=(32, 64, 64)):
    import keras
    from keras import layers

    keras.config.set_image_data_format(data_format)
    axis = -1 if data_format == "channels_last" else 1

    def block(x, width):
        for _ in range(2):
            x = layers.Conv2D(width, 3, padding="same")(x)
            x = layers.GroupNormalization(groups=8, axis=axis)(x)
            x = layers.Activation("silu")(x)
        return x

    inputs = keras.Input((28, 28, 1) if axis == -1 else (1, 28, 28))
    x, skips = inputs, []
    for i, width in enumerate(widths):
        x = block(x, width)
        if i < len(widths) - 1:
            skips.append(x)
            x = layers.MaxPooling2D()(x)
    for width, skip in zip(reversed(widths[:-1]), reversed(skips)):
        x = layers.UpSampling2D()(x)
        x = layers.Concatenate(axis=axis)([x, skip])
        x = block(x, width)
    outputs = layers.Conv2D(1, 1)(x)
    return keras.Model(inputs, outputs, name=f"unet_{data_format}")


def measure(args):
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    n = args.steps * args.batch_size
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = rng.standard_normal((n, 28, 28, 1), dtype=np.float32)
    models, rounds, notes = {}, {f: [] for f in FORMATS}, {}
    previous = keras.config.image_data_format()
    try:
        for data_format in FORMATS:
            if data_format == "channels_first" and keras.backend.backend() == "tensorflow" and not args.gpu:
                notes[data_format] = "TensorFlow has no channels_first convolution on CPU"
                continue
            model = unet(data_format)
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
            data = (x, y) if data_format == "channels_last" else (x.transpose(0, 3, 1, 2), y.transpose(0, 3, 1, 2))
            model.fit(*(a[: args.warmup * args.batch_size] for a in data), batch_size=args.batch_size, verbose=0)
            models[data_format] = (model, data)
    finally:
        keras.config.set_image_data_format(previous)
    for _ in range(args.repeats):
        for data_format, (model, data) in models.items():
            start = time.perf_counter()
            model.fit(*data, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
            rounds[data_format].append(n / (time.perf_counter() - start))
    params = {f: models[f][0].count_params() for f in models}
    return {"images_per_second": {f: max(r) for f, r in rounds.items() if r}, "rounds": rounds,
            "notes": notes, "params": params}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--gpu", action="store_true", help="a GPU run (TensorFlow's channels_first is tried)")
    parser.add_argument("--results", default=None, help="output path without extension")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    import keras

    from keras_dae.utils import write_results

    summary = measure(args)
    backend = keras.backend.backend()
    rates = summary["images_per_second"]
    base = rates.get("channels_last")
    lines = ["| layout | training images/s | vs channels_last |", "|---|---|---|"]
    for data_format in FORMATS:
        if data_format in rates:
            lines.append(f"| {data_format} | {rates[data_format]:.0f} | {rates[data_format] / base:.2f}× |")
        else:
            lines.append(f"| {data_format} | – | {summary['notes'][data_format]} |")
    summary.update(backend=backend, date=time.strftime("%Y-%m-%d %H:%M"), keras=keras.__version__,
                   machine=f"{platform.machine()}, {os.cpu_count()} CPU cores",
                   command=f"KERAS_BACKEND={backend} python benchmarks/data_format.py", **vars(args))
    lines += ["", f"Bare Keras U-Net of the `unet-mnist-gauss` shape ({next(iter(summary['params'].values())):,} "
              f"parameters), Adam on MSE, batch {args.batch_size}, best of {args.repeats} rounds of "
              f"{args.steps} steps, the layouts in turn; {summary['machine']}, keras {summary['keras']}, "
              f"{backend}. `{summary['command']}`, {summary['date']}."]
    markdown = "\n".join(lines)
    print(markdown)
    for path in write_results(args.results or ROOT / "benchmarks" / "results" / f"data_format_{backend}",
                              summary, markdown):
        print("wrote", path)


if __name__ == "__main__":
    main()
