"""Keras 3.15.1, torch backend: `UpSampling2D` (nearest) repeats the tensor twice.

`keras.layers.UpSampling2D` calls `ops.repeat` along the height and then the width, which on
torch is `unsqueeze`, `expand` and `reshape` each time: two full copies forward, and a
backward of each that sums the repeated gradient back. Nearest upsampling by an
integer factor is a single kernel in PyTorch, `torch.nn.functional.interpolate`, which also
takes the NCHW view of Keras' NHWC tensor as it is (its channels_last strides) and returns
channels_last strides, so the NHWC result is contiguous. This script checks that the values
are equal and times forward + backward of both at the two upsamplings of the zoo's U-Net.

    KERAS_BACKEND=torch python docs/upstream/torch_upsampling_repeats.py

prints (2 CPU cores, PyTorch 2.13, beside a training run): the same values, a contiguous
output, and forward + backward at 7×7×64 → 14×14 of 0.45 ms for Keras' layer and 0.13 ms for
interpolate; at 14×14×64 → 28×28, 2.17 ms and 0.52 ms (medians of 50).
"""

import os
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import torch  # noqa: E402

layer = keras.layers.UpSampling2D(2)


def by_keras(x):
    return layer(x)


def by_interpolate(x):
    y = torch.nn.functional.interpolate(x.movedim(-1, 1), scale_factor=2, mode="nearest")
    return y.movedim(1, -1)


for shape in ((64, 7, 7, 64), (64, 14, 14, 64)):
    x0 = torch.randn(shape)
    print(f"{shape}: same values: {torch.equal(by_keras(x0), by_interpolate(x0))}; "
          f"interpolate's NHWC output contiguous: {by_interpolate(x0).is_contiguous()}")
    for name, fn in (("keras.layers.UpSampling2D", by_keras), ("interpolate", by_interpolate)):
        x = x0.clone().requires_grad_(True)
        grad = torch.randn(fn(x).shape)
        times = []
        for _ in range(50):
            start = time.perf_counter()
            fn(x).backward(grad)
            times.append(time.perf_counter() - start)
        print(f"  {name}: forward + backward {1e3 * sorted(times)[25]:.2f} ms (median of 50)")
