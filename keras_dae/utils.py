"""Small helpers shared by the package, the zoo recipes, the examples and the benchmarks."""

import os
import pathlib


def atomic_write(path, data):
    """Writes a file through a temporary file in the same folder, renamed over `path` at
    the end: a reader never sees a half-written file, and a failed write leaves the old
    file (or none) and no temporary file. Creates the parent folders.

    Args:
        path: the file to write.
        data: bytes, a str (written as UTF-8), or a callable that writes into the open
            binary file it is given (e.g. `lambda f: np.savez(f, x=x)`).

    Returns:
        `path` as a `pathlib.Path`.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not (callable(data) or isinstance(data, (bytes, bytearray, memoryview))):
        raise TypeError(f"`data` must be bytes, a str or a callable. Received: {type(data).__name__}")
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            data(f) if callable(data) else f.write(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
