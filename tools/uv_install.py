"""`uv pip install` into this Python's environment, configured as pip is configured here.

`make` installs with uv instead of pip: on the 2-core development machine, a fresh
`pip install -e ".[dev]"` took 218 s (110 s of it byte-compiling one file at a time), uv 74 s
with the same byte-compiled result (it compiles in parallel) and the same package versions.
The byte-compiling is kept: where `PYTHONDONTWRITEBYTECODE` is set (it is on the development
machine) nothing else writes `.pyc` files, and `import tensorflow` took 27 s instead of 12.

uv reads no pip configuration, so the indexes, find-links and constraints that pip is
configured with (pip.conf files and `PIP_*` variables, as `pip config list` shows them) are
passed on; otherwise uv would miss a wheel that lies on disk (here: the CPU build of torch) and
fetch another (a CUDA build of several GB).

Usage: .venv/bin/python tools/uv_install.py [arguments of `uv pip install`]
"""

import ast
import os
import subprocess
import sys

# pip option -> uv option; pip's extra indexes are searched together with its index for the
# best version, which is uv's `unsafe-best-match` strategy.
OPTIONS = {
    "index-url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "constraint": "--constraint",
}
# The sections `pip install` reads, each overriding the one before (pip's ConfigOptionParser:
# global, then the command's own, then the PIP_* variables); other commands' sections are not its.
PRECEDENCE = ("global", "install", ":env:")


def pip_config(lines):
    """`{option: [values]}` that `pip install` uses, from the lines of `pip config list`
    (`section.option='value'`, the value as Python's repr): each option's value from the
    section that wins, split into its entries (separated by white space or new lines, as pip
    allows)."""
    found = {}
    for line in lines:
        key, sep, value = line.partition("=")
        section, dot, option = key.rpartition(".")
        if not (sep and dot) or section not in PRECEDENCE:
            continue
        if value[:1] in "'\"":
            value = ast.literal_eval(value)
        rank = PRECEDENCE.index(section)
        if rank >= found.get(option, (-1, None))[0]:
            found[option] = (rank, value.split())
    return {option: values for option, (_, values) in found.items()}


def uv_arguments(config):
    """uv options equivalent to pip's `config` (from `pip_config`)."""
    args = [arg for option, flag in OPTIONS.items() for value in config.get(option, []) for arg in (flag, value)]
    if config.get("extra-index-url") or config.get("find-links"):
        args += ["--index-strategy", "unsafe-best-match"]
    return args


def main(argv):
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], check=True,
                            capture_output=True, text=True).stdout.splitlines()
    config = pip_config(listed)
    env = dict(os.environ)
    # uv's cache and the environment may lie on different file systems: copy, as pip does,
    # rather than warn that hard links failed.
    env.setdefault("UV_LINK_MODE", "copy")
    if config.get("cert"):
        env.setdefault("SSL_CERT_FILE", config["cert"][-1])
    cmd = [sys.executable, "-m", "uv", "pip", "install", "--python", sys.executable,
           "--compile-bytecode", *uv_arguments(config), *argv]
    return subprocess.call(cmd, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
