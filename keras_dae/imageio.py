"""Image files in and out for the CLI: PNG, JPEG, TIFF, BMP, WebP and NPY, one file or a folder.

Images are float32 `(H, W, C)` in [0, 1] in memory. Image files are read with Pillow
(8- or 16-bit, gray or color), and written back at the bit depth they were read with
(`read_image(..., return_bits=True)`; JPEG, BMP and WebP are 8-bit only). An alpha channel
is not part of the image: `read_image(..., return_alpha=True)` returns it apart, and
`write_image(..., alpha=)` puts it back as it was (PNG, TIFF, WebP, BMP; JPEG has none). An output's format is its extension's (`OUTPUT_FORMATS`); JPEG and WebP take
a `quality`. Images over Pillow's pixel limit (twice `Image.MAX_IMAGE_PIXELS`: ~179 Mpixel)
are refused like other unreadable files, before they are decoded; `read_image(...,
max_pixels=)` sets another limit.
`.npy` files hold one image `(H, W)` or `(H, W, C)`, floats in [0, 1] or integers 0–255; a
stack `(N, H, W[, C])` is read as N images. Every file is written through a temporary file
and renamed, so an interrupted run leaves no partial output.
"""

import pathlib

import numpy as np

from keras_dae.utils import atomic_write

#: Extension → Pillow format of the files written (and read); `.npy` is NumPy's.
OUTPUT_FORMATS = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP", ".jpg": "JPEG",
                  ".jpeg": "JPEG", ".webp": "WEBP", ".npy": None}
IMAGE_SUFFIXES = tuple(OUTPUT_FORMATS)
LOSSY = ("JPEG", "WEBP")


def list_images(path):
    """The image files at `path`: the file itself, or a folder's images, sorted."""
    path = pathlib.Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {str(path)!r}")
        return files
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {str(path)!r}")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"unsupported image file {str(path)!r}: expected one of "
                         f"{', '.join(IMAGE_SUFFIXES)}")
    return [path]


def read_image(path, return_bits=False, max_pixels=None, return_alpha=False):
    """One file as a float32 array `(H, W, C)` in [0, 1] (or `(N, H, W, C)` for an NPY
    stack); with `return_bits`, also the file's bit depth (8 or 16; 32 for NPY floats);
    with `return_alpha`, also its alpha channel `(H, W, 1)` in [0, 1] (None without one).
    `max_pixels` replaces Pillow's limit on the pixels of one image (None: Pillow's)."""
    path = pathlib.Path(path)
    if path.suffix.lower() == ".npy":
        try:
            x = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read {str(path)!r} as a NumPy array: {e}") from None
        x = _to_float(x, path)
        return _result(x, 32, None, return_bits, return_alpha)
    from PIL import Image, UnidentifiedImageError

    bits = 8
    limit = Image.MAX_IMAGE_PIXELS
    cap = max_pixels if max_pixels is not None else (2 * limit if limit else None)  # Pillow refuses 2×
    try:
        Image.MAX_IMAGE_PIXELS = None  # the size is checked here, with a message of ours
        with Image.open(path) as im:
            if cap is not None and im.width * im.height > cap:
                raise ValueError(f"cannot read image {str(path)!r}: {im.width}×{im.height} = "
                                 f"{im.width * im.height:,} pixels, over the limit of {int(cap):,} "
                                 "(--max-pixels raises it)")
            im.load()
            alpha = None
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                alpha = np.asarray(im.convert("RGBA").getchannel("A"), dtype="float32")[..., None] / 255.0
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
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    x = x[..., None] if x.ndim == 2 else x
    return _result(x, bits, alpha, return_bits, return_alpha)


def _result(x, bits, alpha, return_bits, return_alpha):
    out = (x,) + ((bits,) if return_bits else ()) + ((alpha,) if return_alpha else ())
    return out if len(out) > 1 else x


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


def check_output_file(path):
    """The Pillow format of an output file (None for `.npy`), or a ValueError naming the
    extensions that are written."""
    suffix = pathlib.Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {suffix or '(no extension)'!r} of {str(path)!r}: "
                         f"expected one of {', '.join(IMAGE_SUFFIXES)}, or a folder ending with '/'")
    return OUTPUT_FORMATS[suffix]


def write_image(path, x, bits=8, quality=95, alpha=None):
    """Writes `(H, W, C)` in [0, 1] (clipped) in the format of the extension: PNG/TIFF (8- or
    16-bit gray, 8-bit color), JPEG/WebP (8-bit, at `quality` 1–100), BMP (8-bit) or NPY
    (float32), atomically. `alpha` `(H, W, 1)` in [0, 1] is written as the alpha channel
    (8-bit) where the format has one (not JPEG, not NPY)."""
    path = pathlib.Path(path)
    kind = check_output_file(path)
    if not (isinstance(quality, int) and 1 <= quality <= 100):
        raise ValueError(f"`quality` must be an integer from 1 to 100. Received: quality={quality!r}")
    x = np.clip(np.asarray(x, dtype="float32"), 0.0, 1.0)
    if kind is None:
        return atomic_write(path, lambda f: np.save(f, x))
    from PIL import Image

    gray = x.ndim == 2 or x.shape[-1] == 1
    x = x[..., 0] if x.ndim == 3 and gray else x
    if alpha is not None and kind != "JPEG":
        a = np.round(np.clip(np.asarray(alpha, "float32").reshape(x.shape[:2]), 0.0, 1.0) * 255.0)
        planes = x[..., None] if gray else x
        image = Image.fromarray(np.concatenate([np.round(planes * 255.0), a[..., None]], -1).astype("uint8"),
                                mode="LA" if gray else "RGBA")
    elif bits == 16 and gray and kind in ("PNG", "TIFF"):
        image = Image.fromarray(np.round(x * 65535.0).astype("uint16"))
    else:
        image = Image.fromarray(np.round(x * 255.0).astype("uint8"))
    options = {"quality": quality} if kind in LOSSY else {}
    return atomic_write(path, lambda f: image.save(f, format=kind, **options))


def output_paths(inputs, out, folder_input=False):
    """Where each input goes, checked before any work: `out/<input name>` when the input is
    a folder (`folder_input`), `out` is an existing folder or ends with '/'; else `out`
    itself, whose extension must be one of `OUTPUT_FORMATS`. Nothing is created here."""
    text = str(out)
    out = pathlib.Path(out)
    if folder_input or out.is_dir() or text.endswith(("/", "\\")):
        if out.exists() and not out.is_dir():
            raise ValueError(f"output {text!r} exists and is not a folder; give a folder "
                             f"for {len(inputs)} inputs")
        return [out / p.name for p in inputs]
    if len(inputs) != 1:
        raise ValueError(f"{len(inputs)} inputs need an output folder. Received: {text!r}")
    check_output_file(out)
    return [out]
