"""keras_dae.runtime: the allocator settings of `keras-dae train`, in their own processes
(they change the whole process)."""

import json
import os
import pathlib
import platform
import subprocess
import sys

import pytest

RUNTIME = pathlib.Path(__file__).parents[1] / "keras_dae" / "runtime.py"

# Loads runtime.py alone (no Keras), tunes (or not), then 10 times allocates, touches and
# frees eight 4 MiB buffers (a step's activations) and counts the page faults that cost.
CHILD = f"""
import ctypes, importlib.util, json, resource
spec = importlib.util.spec_from_file_location("runtime", {str(RUNTIME)!r})
runtime = importlib.util.module_from_spec(spec); spec.loader.exec_module(runtime)
applied = runtime.tune_allocator()
again = runtime.tune_allocator()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
size = 4 * 2**20
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    blocks = [libc.malloc(size) for _ in range(8)]
    for p in blocks:
        ctypes.memset(p, 1, size)
    for p in blocks:
        libc.free(p)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({{"applied": applied, "again": again, "faults": faults}}))
"""

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="mallopt is glibc's")


def child(**env):
    environ = {k: v for k, v in os.environ.items() if k != "KERAS_DAE_DEFAULT_ALLOCATOR"}
    out = subprocess.run([sys.executable, "-c", CHILD], env={**environ, **env}, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


@glibc
def test_tuned_malloc_keeps_freed_buffers_without_faulting_them_in_again():
    tuned, default = child(), child(KERAS_DAE_DEFAULT_ALLOCATOR="1")
    assert tuned["applied"] == {"mmap_threshold": 32 * 2**20, "trim_threshold": 2**30, "top_pad": 256 * 2**20}
    assert tuned["again"] == tuned["applied"]  # idempotent
    assert default["applied"] == {} == default["again"]
    pages = 10 * 8 * 4 * 2**20 // 4096
    # glibc's defaults give the freed top of the heap back each time, so every page faults
    # again (measured: 81,672 of 81,920); tuned, the buffers are faulted in once (8,180).
    assert default["faults"] > pages // 2
    assert tuned["faults"] < pages // 5


def test_opting_out_with_zero_or_empty_still_tunes():
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        assert child()["applied"] == {}
        return
    assert child(KERAS_DAE_DEFAULT_ALLOCATOR="0")["applied"] and child(KERAS_DAE_DEFAULT_ALLOCATOR="")["applied"]
