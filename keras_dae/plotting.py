"""Image grids for the demo and the examples, with Pillow only (a core dependency)."""

import pathlib

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from keras_dae.utils import atomic_write


def to_uint8(images, value_range=(0.0, 1.0)):
    """Float images in `value_range` (clipped) as uint8, `(n, h, w)` or `(n, h, w, c)`."""
    low, high = value_range
    x = (np.asarray(images, "float32") - low) / (high - low)
    x = np.clip(np.round(x * 255.0), 0, 255).astype("uint8")
    return x[..., 0] if x.ndim == 4 and x.shape[-1] == 1 else x


def image_grid(rows, labels=None, scale=3, pad=2, label_width=None, value_range=(0.0, 1.0)):
    """One row of images per entry of `rows`, each labelled on the left.

    Args:
        rows: a list of arrays `(n, h, w[, c])`, all with the same `h, w`.
        labels: one string per row, or None.
        scale: int, nearest-neighbour upscaling (28×28 digits are small).
        pad: pixels between images.
        label_width: pixels reserved for the labels (default: fits the longest).
        value_range: the range mapped to black..white.

    Returns:
        A `PIL.Image`.
    """
    rows = [to_uint8(r, value_range) for r in rows]
    font = ImageFont.load_default()
    labels = labels or [""] * len(rows)
    if label_width is None:
        label_width = max((int(font.getlength(t)) for t in labels), default=0) + 8
    h, w = rows[0].shape[1:3]
    cell_h, cell_w = h * scale + pad, w * scale + pad
    width = label_width + max(len(r) for r in rows) * cell_w + pad
    mode = "RGB" if any(r.ndim == 4 for r in rows) else "L"
    canvas = Image.new(mode, (width, len(rows) * cell_h + pad), color="white" if mode == "RGB" else 255)
    draw = ImageDraw.Draw(canvas)
    for i, (row, text) in enumerate(zip(rows, labels)):
        top = pad + i * cell_h
        draw.text((4, top + cell_h // 2 - 6), text, fill="black" if mode == "RGB" else 0, font=font)
        for j, image in enumerate(row):
            tile = Image.fromarray(image).resize((w * scale, h * scale), Image.NEAREST)
            canvas.paste(tile.convert(mode), (label_width + j * cell_w, top))
    return canvas


def save_image_atomic(image, path):
    """Saves a `PIL.Image` through a temporary file, so no half-written file is left."""
    path = pathlib.Path(path)
    kind = (path.suffix.lstrip(".") or "png").upper().replace("JPG", "JPEG")
    return atomic_write(path, lambda f: image.save(f, format=kind))


def save_figure(fig, path, dpi=110):
    """Saves a matplotlib figure as PNG through a temporary file, so no half-written
    file is left."""
    return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi))
