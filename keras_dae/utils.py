"""Small helpers shared by the package, the zoo recipes, the examples and the benchmarks."""

import json
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


def atomic_save(path, save):
    """Like `atomic_write`, for writers that need a path: calls `save(tmp)` with a temporary
    path beside `path` that keeps its name's suffixes (Keras picks the format by them), then
    renames it over `path`; a failed save leaves the old file and no temporary one.

    >>> atomic_save("out/best.weights.h5", model.save_weights)
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{os.getpid()}.{path.name}")
    try:
        save(str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def marked_block(tag, text):
    """`text` between the markers `replace_block` finds again: `<!-- tag:begin -->` and
    `<!-- tag:end -->`, each on its own line."""
    return f"<!-- {tag}:begin -->\n{text.strip()}\n<!-- {tag}:end -->"


def replace_block(path, tag, text, missing_ok=False):
    """Replaces the block marked `tag` (see `marked_block`) in the text file `path` by
    `text`, atomically; the rest of the file is kept byte for byte.

    Returns:
        `path`, or None when `missing_ok` and the file or its block does not exist.

    Raises:
        ValueError: if `path` does not hold exactly one such block (and not `missing_ok`).
    """
    path = pathlib.Path(path)
    begin, end = f"<!-- {tag}:begin -->", f"<!-- {tag}:end -->"
    content = path.read_text(encoding="utf-8") if path.is_file() or not missing_ok else ""
    if missing_ok and begin not in content:
        return None
    if content.count(begin) != 1 or content.count(end) != 1 or content.index(begin) > content.index(end):
        raise ValueError(f"{str(path)!r} must hold one block marked {begin!r} … {end!r}; "
                         f"found {content.count(begin)} begin and {content.count(end)} end markers.")
    head, rest = content.split(begin, 1)
    _, tail = rest.split(end, 1)
    return atomic_write(path, head + marked_block(tag, text) + tail)


def write_results(base, summary, markdown, tag=None, quoted_in=()):
    """Writes a benchmark's results: `summary` to `<base>.json` and `markdown` to
    `<base>.md`, and, with `tag`, the same table into the block marked `tag` of each file
    of `quoted_in` that has one (the README and model cards that quote it).

    Returns:
        The files written.
    """
    base = pathlib.Path(base)
    written = [atomic_write(base.with_name(base.name + ".json"), json.dumps(summary, indent=2) + "\n"),
               atomic_write(base.with_name(base.name + ".md"), markdown.strip() + "\n")]
    if tag is not None:
        written += [p for p in (replace_block(path, tag, markdown, missing_ok=True) for path in quoted_in) if p]
    return written
