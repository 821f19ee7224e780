"""The peers of `benchmarks/speed.py`: keras-dae's zoo networks written directly in PyTorch.

`UNet` is `keras_dae.networks.unet(..., sigma_conditioning="film")` layer for layer, in
`torch.nn` and channels first (NCHW): a 3×3 stem; per level residual blocks (GroupNorm →
SiLU → conv3 → GroupNorm → FiLM → SiLU → conv3 starting at zero, a 1×1 shortcut where
the channels change), a skip, a stride-2 conv3; a middle block; a decoder that concatenates
the skip, runs residual blocks, then upsamples (nearest ×2, conv3); GroupNorm → SiLU → a
conv3 output starting at zero. σ enters through the same embedding (sinusoidal features of
10·log σ with periods up to 100 → Linear → SiLU → Linear) and FiLM, h·(1 + γ) + β. Inputs
whose sides do not divide by 2^(depth − 1) are zero-padded and cropped back, as in Keras.

`TiedMLP` is `keras_dae.networks.mlp(widths, tied=True)`: sigmoid layers whose decoder uses
the transposed encoder kernels, each layer with its own decoder bias.

Same architecture, shapes and parameter count as the Keras networks (`check_param_count`);
not the same numbers: initializers and the stride-2 padding differ (Keras' `"same"` pads a
28-pixel side 0 before and 1 after, PyTorch's `padding=1` 1 on each side: same output size).
This file imports only torch, so it runs in any process.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

GROUPNORM_EPSILON = 1e-3  # Keras' GroupNormalization default


def groups_for(channels, groups=8):
    return math.gcd(int(channels), int(groups))


def pad_amounts(size, multiple):
    total = (-size) % multiple
    return (total // 2, total - total // 2)


class SigmaEmbedding(nn.Module):
    """σ (batch,) → (batch, dim): sinusoidal features of scale·log σ, then an MLP."""

    def __init__(self, dim=64, max_period=100.0, scale=10.0):
        super().__init__()
        half = dim // 2
        self.register_buffer("freqs", torch.exp(-math.log(max_period) * torch.arange(half) / half), persistent=False)
        self.scale = scale
        self.dense_1 = nn.Linear(dim, dim)
        self.dense_2 = nn.Linear(dim, dim)

    def forward(self, sigma):
        t = self.scale * torch.log(torch.clamp(sigma.reshape(-1), min=1e-12))
        angles = t[:, None] * self.freqs[None, :]  # (b, dim/2)
        e = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
        return self.dense_2(F.silu(self.dense_1(e)))


class FiLM(nn.Module):
    """h·(1 + γ(e)) + β(e), the projection starting at zero."""

    def __init__(self, channels, embedding_dim):
        super().__init__()
        self.projection = nn.Linear(embedding_dim, 2 * channels)
        nn.init.zeros_(self.projection.weight)
        nn.init.zeros_(self.projection.bias)

    def forward(self, h, e):
        gamma, beta = self.projection(e)[:, :, None, None].chunk(2, dim=1)  # (b, c, 1, 1) each
        return h * (1.0 + gamma) + beta


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, channels, embedding_dim, groups=8):
        super().__init__()
        self.shortcut = nn.Conv2d(in_channels, channels, 1) if in_channels != channels else nn.Identity()
        self.norm_1 = nn.GroupNorm(groups_for(in_channels, groups), in_channels, eps=GROUPNORM_EPSILON)
        self.conv_1 = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.norm_2 = nn.GroupNorm(groups_for(channels, groups), channels, eps=GROUPNORM_EPSILON)
        self.film = FiLM(channels, embedding_dim)
        self.conv_2 = nn.Conv2d(channels, channels, 3, padding=1)
        nn.init.zeros_(self.conv_2.weight)
        nn.init.zeros_(self.conv_2.bias)

    def forward(self, h, e):
        out = self.conv_1(F.silu(self.norm_1(h)))
        out = F.silu(self.film(self.norm_2(out), e))
        return self.shortcut(h) + self.conv_2(out)


class UNet(nn.Module):
    """The FiLM-conditioned U-Net of `keras_dae.networks.unet`, channels first.

    Args:
        input_shape: `(H, W, C)` as in Keras (the module itself takes `(b, C, H, W)`).
        widths, blocks_per_level, embedding_dim, groups: as `keras_dae.networks.unet`.

    Call arguments:
        x: `(b, C, H, W)`; sigma: `(b,)`. Returns the predicted unit noise, `(b, C, H, W)`.
    """

    def __init__(self, input_shape=(28, 28, 1), widths=(32, 64, 64), blocks_per_level=1, embedding_dim=64, groups=8):
        super().__init__()
        height, width, channels = input_shape
        multiple = 2 ** (len(widths) - 1)
        self.pads = (pad_amounts(height, multiple), pad_amounts(width, multiple))
        self.embedding = SigmaEmbedding(embedding_dim)
        self.stem = nn.Conv2d(channels, widths[0], 3, padding=1)
        self.down, self.downsample = nn.ModuleList(), nn.ModuleList()
        c = widths[0]
        for i, w in enumerate(widths):
            blocks = []
            for _ in range(blocks_per_level):
                blocks.append(ResidualBlock(c, w, embedding_dim, groups))
                c = w
            self.down.append(nn.ModuleList(blocks))
            if i < len(widths) - 1:
                self.downsample.append(nn.Conv2d(w, w, 3, stride=2, padding=1))
        self.middle = ResidualBlock(c, widths[-1], embedding_dim, groups)
        c = widths[-1]
        self.up, self.upsample = nn.ModuleList(), nn.ModuleList()
        for i in reversed(range(len(widths))):
            blocks, c = [], c + widths[i]  # concatenated skip
            for _ in range(blocks_per_level):
                blocks.append(ResidualBlock(c, widths[i], embedding_dim, groups))
                c = widths[i]
            self.up.append(nn.ModuleList(blocks))
            if i > 0:
                self.upsample.append(nn.Conv2d(c, widths[i - 1], 3, padding=1))
                c = widths[i - 1]
        self.output_norm = nn.GroupNorm(groups_for(widths[0], groups), widths[0], eps=GROUPNORM_EPSILON)
        self.output = nn.Conv2d(widths[0], channels, 3, padding=1)
        nn.init.zeros_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    def forward(self, x, sigma):
        (top, bottom), (left, right) = self.pads
        padded = top or bottom or left or right
        if padded:
            x = F.pad(x, (left, right, top, bottom))
        e = self.embedding(sigma)
        h = self.stem(x)
        skips = []
        for i, blocks in enumerate(self.down):
            for block in blocks:
                h = block(h, e)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.middle(h, e)
        for j, blocks in enumerate(self.up):
            h = torch.cat([h, skips[len(skips) - 1 - j]], dim=1)
            for block in blocks:
                h = block(h, e)
            if j < len(self.upsample):
                h = self.upsample[j](F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.output(F.silu(self.output_norm(h)))
        if padded:
            h = h[:, :, top:h.shape[2] - bottom, left:h.shape[3] - right]
        return h


class TiedMLP(nn.Module):
    """The tied-weight sigmoid autoencoder of `keras_dae.networks.mlp(widths, tied=True)`.

    Call arguments:
        x: `(b, widths[0])`. Returns the reconstruction in (0, 1), same shape.
    """

    def __init__(self, widths=(784, 1000, 1000, 1000)):
        super().__init__()
        self.kernels = nn.ParameterList()
        self.biases, self.transpose_biases = nn.ParameterList(), nn.ParameterList()
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            limit = math.sqrt(6.0 / (fan_in + fan_out))  # Glorot uniform, as Keras
            self.kernels.append(nn.Parameter(torch.empty(fan_in, fan_out).uniform_(-limit, limit)))
            self.biases.append(nn.Parameter(torch.zeros(fan_out)))
            self.transpose_biases.append(nn.Parameter(torch.zeros(fan_in)))

    def forward(self, x):
        h = x
        for kernel, bias in zip(self.kernels, self.biases):
            h = torch.sigmoid(h @ kernel + bias)
        for kernel, bias in zip(reversed(self.kernels), reversed(self.transpose_biases)):
            h = torch.sigmoid(h @ kernel.T + bias)
        return h


def param_count(module):
    return sum(p.numel() for p in module.parameters())


def check_param_count(module, keras_count):
    """Raises unless `module` has exactly `keras_count` parameters; returns the count."""
    count = param_count(module)
    if count != keras_count:
        raise AssertionError(f"{type(module).__name__} has {count:,} parameters, the Keras network "
                             f"{keras_count:,}: the peer is not the same architecture")
    return count
