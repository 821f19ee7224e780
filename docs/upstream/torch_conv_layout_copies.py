"""Keras 3.15.1, torch backend: `keras.ops.conv` copies a channels_last input twice on its
way to PyTorch's convolution.

`_transpose_spatial_inputs` permutes NHWC to NCHW and calls `.contiguous()` (a copy into
NCHW memory); `_maybe_convert_to_channels_last` then copies it back into channels_last
memory for oneDNN. The NCHW view of a contiguous NHWC tensor already has channels_last
strides, so neither copy is needed: `torch.nn.functional.conv2d(x.movedim(-1, 1), ...)`
gives the same values, and its output's NHWC view is contiguous. This script counts the
`aten::copy_` calls and the bytes they move in one forward call of each (same input,
kernel and output) and times forward + backward of both.

    KERAS_BACKEND=torch python docs/upstream/torch_conv_layout_copies.py

prints (2 CPU cores, PyTorch 2.13): keras.ops.conv: 3 copies, 12.9 MB (the input twice,
the kernel once); the view: 1 copy, 0.0 MB (the kernel, inside PyTorch); and the times
(beside other work: 116 ms and 99 ms).
"""

import os
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

x0 = torch.randn(64, 28, 28, 32)  # NHWC, as Keras holds images
kernel = torch.randn(3, 3, 32, 32, requires_grad=True)  # HWIO, as Keras holds kernels


def by_keras(x):
    return keras.ops.conv(x, kernel, padding="same")


def by_view(x):
    y = torch.nn.functional.conv2d(x.movedim(-1, 1), kernel.permute(3, 2, 0, 1), padding=1)
    return y.movedim(1, -1)


results = {}
for name, fn in (("keras.ops.conv", by_keras), ("the view", by_view)):
    x = x0.clone().requires_grad_(True)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        y = fn(x)
    copies = [e for e in prof.events() if e.name == "aten::copy_"]
    nbytes = sum(4 * torch.Size(e.input_shapes[0]).numel() for e in copies)
    times = []
    for _ in range(20):
        start = time.perf_counter()
        fn(x).square().sum().backward()
        times.append(time.perf_counter() - start)
    results[name] = y.detach()
    print(f"{name}: {len(copies)} copies, {nbytes / 1e6:.1f} MB; output contiguous: {y.is_contiguous()}; "
          f"forward + backward {1e3 * sorted(times)[10]:.1f} ms (median of 20)")
print("same values:", torch.allclose(results["keras.ops.conv"], results["the view"], atol=1e-4))
