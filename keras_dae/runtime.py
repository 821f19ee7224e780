"""Process-wide settings for speed on a CPU: today, the memory allocator.

glibc's `malloc` gives the freed top of its heap back to the kernel once more than a few
MB of it are free, and maps large blocks afresh; a network allocating and freeing the same
few-MB activations every step then faults their pages in again each time.
`tune_allocator()` keeps them: freed memory stays in the heap. Measured on the
`unet-mnist-gauss` U-Net, 2 CPU cores, torch, three pairs of `benchmarks/speed.py` runs
with and without `--tuned-allocator` (2026-12-03, `benchmarks/results/allocator/`): a
recipe epoch end to end 2.63 s per 1,000 images against 2.88 (-9 %; 2.59/2.79/2.52 against
2.86/2.76/3.02), `denoise` of 256 digits 267 ms against 490, plain PyTorch's training
+14 %, but keras-dae's `fit` steps no faster (402 against 404 images/s): what it saves is
in validation and prediction. On JAX and TensorFlow one pair each showed no gain (JAX: a
recipe epoch 6.51 against 6.01 s per 1,000 images, `fit` 171 against 170 images/s; the
TensorFlow pair was dominated by tf.data's pipeline stalls), so `keras-dae train` tunes
the allocator on the backends of `PAYS_ON` only (the process is the command's); a library
does not change its host process's allocator, so in your own script call it yourself. The
price: up to `trim_threshold + top_pad` (1.25 GiB) of freed memory stays with the process.
"""

import ctypes
import ctypes.util
import os
import platform

# mallopt's parameters (glibc's malloc.h) and the values set.
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
SETTINGS = {
    "mmap_threshold": (M_MMAP_THRESHOLD, 32 * 2**20),  # glibc's largest on 64-bit
    "trim_threshold": (M_TRIM_THRESHOLD, 2**30),
    "top_pad": (M_TOP_PAD, 256 * 2**20),
}
OPT_OUT = "KERAS_DAE_DEFAULT_ALLOCATOR"
PAYS_ON = ("torch",)  # the backends on which `keras-dae train` tunes (measured above)

_applied = None


def tune_allocator():
    """Keeps freed memory in glibc's heap (see the module's docstring); returns the
    settings applied as `{name: bytes}`, or `{}` where it does nothing: not Linux with
    glibc, or `$KERAS_DAE_DEFAULT_ALLOCATOR` set to anything but "" or "0". It affects
    later allocations only and is idempotent.

    Example:

    >>> import keras_dae
    >>> keras_dae.runtime.tune_allocator()  # first, before building and training a model
    {'mmap_threshold': 33554432, 'trim_threshold': 1073741824, 'top_pad': 268435456}
    """
    global _applied
    if _applied is not None:
        return dict(_applied)
    _applied = {}
    if os.environ.get(OPT_OUT, "") not in ("", "0") or platform.system() != "Linux":
        return {}
    libc = _glibc()
    if libc is None:
        return {}
    for name, (param, value) in SETTINGS.items():
        if libc.mallopt(param, value) == 1:  # 1: accepted
            _applied[name] = value
    return dict(_applied)


def _glibc():
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return libc
