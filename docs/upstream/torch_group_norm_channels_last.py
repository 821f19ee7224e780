"""PyTorch 2.13 (CPU): the backward of `torch.nn.functional.group_norm` segfaults when the
input is channels_last-strided and needs no gradient while γ and β do.

Found when keras-dae's `GroupNormalization` started calling PyTorch's fused kernel on the
channels-first *view* of Keras' channels-last tensors (`torch.movedim(x, -1, 1)`, no copy):
a model whose first layer is the GroupNorm (the network's input needs no gradient) crashed
the process in `loss.backward()`. The same input made contiguous, or the same view with
`requires_grad=True`, is fine. No Keras involved: this script crashes the interpreter with
`channels_last` (exit status 139) and prints "ok" with `contiguous`.

    python docs/upstream/torch_group_norm_channels_last.py channels_last   # segfault
    python docs/upstream/torch_group_norm_channels_last.py contiguous      # ok
"""

import sys

import torch

layout = sys.argv[1] if len(sys.argv) > 1 else "channels_last"
x = torch.randn(2, 6, 6, 8).movedim(-1, 1)  # (N, C, H, W) view of NHWC memory
if layout == "contiguous":
    x = x.contiguous()
gamma = torch.randn(8, requires_grad=True)
beta = torch.randn(8, requires_grad=True)
torch.nn.functional.group_norm(x, 4, gamma, beta, 1e-3).square().sum().backward()
print("ok", layout, torch.__version__)
