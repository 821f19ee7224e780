"""Image files in and out for the CLI: PNG, JPEG, TIFF and NPY, one file or a folder.

Images are float32 `(H, W, C)` in [0, 1] in memory. PNG/JPEG/TIFF are read with Pillow
(8- or 16-bit, gray or color; an alpha channel is dropped), and written back at the bit
depth they were read with (`read_image(..., return_bits=True)`; JPEG is 8-bit only).
`.npy` files hold one image `(H, W)` or `(H, W, C)`, floats in [0, 1] or integers 0–255; a
stack `(N, H, W[, C])` is read as N images. Every file is written through a temporary file
and renamed, so an interrupted run leaves no partial output.
"""

import pathlib

import numpy as np

from keras_dae.utils import atomic_write

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".npy")


def list_images(path):
    """The image files at `path`: the file itself, or a folder's images, sorted."""
    path = pathlib.Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"no PNG, JPEG, TIFF or NPY images in folder {str(path)!r}")
        return files
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {str(path)!r}")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"unsupported image file {str(path)!r}: expected one of "
                         f"{', '.join(IMAGE_SUFFIXES)}")
    return [path]


def read_image(path, return_bits=False):
    """One file as a float32 array `(H, W, C)` in [0, 1] (or `(N, H, W, C)` for an NPY
    stack); with `return_bits`, also the file's bit depth (8 or 16; 32 for NPY floats)."""
    path = pathlib.Path(path)
    if path.suffix.lower() == ".npy":
        try:
            x = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read {str(path)!r} as a NumPy array: {e}") from None
        x = _to_float(x, path)
        return (x, 32) if return_bits else x
    from PIL import Image, UnidentifiedImageError

    bits = 8
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                x, bits = np.asarray(im, dtype="float32") / 65535.0, 16
            elif im.mode in ("L", "1", "LA"):
                x = np.asarray(im.convert("L"), dtype="float32") / 255.0
            else:
                x = np.asarray(im.convert("RGB"), dtype="float32") / 255.0
                if np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 0], x[..., 2]):
                    x = x[..., 0]  # a gray image stored as RGB or palette
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"cannot read image {str(path)!r}: {e}") from None
    x = x[..., None] if x.ndim == 2 else x
    return (x, bits) if return_bits else x


def _to_float(x, path):
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"{str(path)!r} must hold an image (H, W[, C]) or a stack (N, H, W[, C]). "
                         f"Received: an array of shape {x.shape}")
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype("float32") / 255.0
    x = x.astype("float32")
    if x.ndim == 2 or (x.ndim == 3 and x.shape[-1] not in (1, 3, 4)):
        x = x[..., None]
    return x


def write_image(path, x, bits=8):
    """Writes `(H, W, C)` in [0, 1] (clipped) to PNG/TIFF (8- or 16-bit gray, 8-bit color),
    JPEG (8-bit) or NPY (float32), atomically."""
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ValueError(f"unsupported output file {str(path)!r}: expected one of "
                         f"{', '.join(IMAGE_SUFFIXES)}")
    x = np.clip(np.asarray(x, dtype="float32"), 0.0, 1.0)
    if suffix == ".npy":
        return atomic_write(path, lambda f: np.save(f, x))
    from PIL import Image

    kind = {".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}.get(suffix, "PNG")
    gray = x.ndim == 2 or x.shape[-1] == 1
    x = x[..., 0] if x.ndim == 3 and gray else x
    if bits == 16 and gray and kind != "JPEG":
        image = Image.fromarray(np.round(x * 65535.0).astype("uint16"))
    else:
        image = Image.fromarray(np.round(x * 255.0).astype("uint8"))
    return atomic_write(path, lambda f: image.save(f, format=kind))


def output_paths(inputs, out):
    """Where each input goes: `out` itself for one file named like an image, else
    `out/<input name>` (created as a folder)."""
    out = pathlib.Path(out)
    if len(inputs) == 1 and out.suffix.lower() in IMAGE_SUFFIXES and not out.is_dir():
        return [out]
    if out.exists() and not out.is_dir():
        raise ValueError(f"output {str(out)!r} exists and is not a folder; give a folder "
                         f"for {len(inputs)} inputs")
    return [out / p.name for p in inputs]
