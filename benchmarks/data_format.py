"""Does the image layout, the GroupNorm kernel, the convolution's copies or the upsampling
change how fast Keras trains a small U-Net? channels_last against channels_first, and Keras'
GroupNormalization, Conv2D and UpSampling2D against keras-dae's (a fused kernel, no layout
copies, one kernel instead of two repeats, where the backend needs them), on the active
backend, in one run.

    KERAS_BACKEND=torch python benchmarks/data_format.py   # → results/data_format_<backend>.{json,md}

Keras' torch backend keeps Keras' default layout, channels_last, and transposes to
PyTorch's channels_first around every convolution; plain PyTorch (the speed peer,
`benchmarks/speed.py`) runs channels_first. Before keras-dae's networks learn the other
layout, this measures what it would buy: a bare Keras U-Net of the `unet-mnist-gauss` shape
(28×28×1 digits, widths 32-64-64, two 3×3 convolutions with GroupNorm and SiLU per level,
skip connections; no σ-conditioning, which is the same in both layouts), built once per
variant (`keras.config.set_image_data_format` before the layers), Adam on MSE, batch 64.
The variants: channels_last and channels_first with Keras' layers; channels_last with
`keras_dae.layers.GroupNormalization` (PyTorch's fused kernel on torch); and channels_last with
both it and `keras_dae.layers.Conv2D` (on torch, none of the two copies Keras' backend makes of
every convolution's input); and with these and `keras_dae.layers.UpSampling2D` (on torch,
one interpolation kernel instead of two `ops.repeat` copies and their sums). On JAX and
TensorFlow these layers run Keras' own code, so there the last three variants measure
nothing but noise. Each variant trains `--steps` batches per round after an untimed warm-up
`fit`, the variants in turn, round after round; the best round of each is reported
(images/s) and every round is kept in the JSON. TensorFlow has no channels_first convolution on CPU: reported as such.
"""

import argparse
import os
import pathlib
import platform
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
VARIANTS = {  # name: (layout, keras-dae's GroupNormalization, Conv2D, UpSampling2D)
    "channels_last": ("channels_last", False, False, False),
    "channels_first": ("channels_first", False, False, False),
    "channels_last, fused GroupNorm": ("channels_last", True, False, False),
    "channels_last, fused GroupNorm, copy-free Conv2D": ("channels_last", True, True, False),
    "channels_last, fused GroupNorm, copy-free Conv2D, one-kernel UpSampling2D": ("channels_last", True, True, True),
}


def unet(data_format, widths=(32, 64, 64), fused_norm=False, fast_conv=False, fast_upsampling=False):
    import keras
    from keras import layers

    from keras_dae.layers import Conv2D, GroupNormalization, UpSampling2D

    keras.config.set_image_data_format(data_format)
    axis = -1 if data_format == "channels_last" else 1
    norm = GroupNormalization if fused_norm else layers.GroupNormalization
    conv = Conv2D if fast_conv else layers.Conv2D
    upsampling = UpSampling2D if fast_upsampling else layers.UpSampling2D

    def block(x, width):
        for _ in range(2):
            x = conv(width, 3, padding="same")(x)
            x = norm(groups=8, axis=axis)(x)
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
        x = upsampling()(x)
        x = layers.Concatenate(axis=axis)([x, skip])
        x = block(x, width)
    outputs = conv(1, 1)(x)
    return keras.Model(inputs, outputs, name=f"unet_{data_format}")


def measure(args):
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    n = args.steps * args.batch_size
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = rng.standard_normal((n, 28, 28, 1), dtype=np.float32)
    models, rounds, notes = {}, {v: [] for v in VARIANTS}, {}
    previous = keras.config.image_data_format()
    try:
        for variant, (data_format, fused_norm, fast_conv, fast_upsampling) in VARIANTS.items():
            if data_format == "channels_first" and keras.backend.backend() == "tensorflow" and not args.gpu:
                notes[variant] = "TensorFlow has no channels_first convolution on CPU"
                continue
            model = unet(data_format, fused_norm=fused_norm, fast_conv=fast_conv, fast_upsampling=fast_upsampling)
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
            data = (x, y) if data_format == "channels_last" else (x.transpose(0, 3, 1, 2), y.transpose(0, 3, 1, 2))
            model.fit(*(a[: args.warmup * args.batch_size] for a in data), batch_size=args.batch_size, verbose=0)
            models[variant] = (model, data)
    finally:
        keras.config.set_image_data_format(previous)
    for _ in range(args.repeats):
        for variant, (model, data) in models.items():
            start = time.perf_counter()
            model.fit(*data, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
            rounds[variant].append(n / (time.perf_counter() - start))
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
    lines = ["| variant | training images/s | vs channels_last |", "|---|---|---|"]
    for variant in VARIANTS:
        if variant in rates:
            lines.append(f"| {variant} | {rates[variant]:.0f} | {rates[variant] / base:.2f}× |")
        else:
            lines.append(f"| {variant} | – | {summary['notes'][variant]} |")
    summary.update(backend=backend, date=time.strftime("%Y-%m-%d %H:%M"), keras=keras.__version__,
                   machine=f"{platform.machine()}, {os.cpu_count()} CPU cores",
                   command=f"KERAS_BACKEND={backend} python benchmarks/data_format.py", **vars(args))
    lines += ["", f"Bare Keras U-Net of the `unet-mnist-gauss` shape ({next(iter(summary['params'].values())):,} "
              f"parameters), Adam on MSE, batch {args.batch_size}, best of {args.repeats} rounds of "
              f"{args.steps} steps, the variants in turn; {summary['machine']}, keras {summary['keras']}, "
              f"{backend}. `{summary['command']}`, {summary['date']}."]
    markdown = "\n".join(lines)
    print(markdown)
    for path in write_results(args.results or ROOT / "benchmarks" / "results" / f"data_format_{backend}",
                              summary, markdown):
        print("wrote", path)


if __name__ == "__main__":
    main()
