"""What happens before Keras is imported: the backend is chosen and, for the command line,
the frameworks' start-up notices are kept off the terminal.

Keras reads its backend once, when it is first imported, from `$KERAS_BACKEND`, else from
`~/.keras/keras.json` (which Keras writes with `"tensorflow"` the first time it runs), else
TensorFlow. `import keras_dae` picks one that is installed instead (`choose_backend`), so
that a machine with only JAX or only PyTorch works without setting anything. No framework
is imported to find out: `importlib.util.find_spec` only looks for the packages.
"""

import contextlib
import importlib.util
import json
import os
import sys

#: The order in which an installed backend is picked when none is set (JAX starts fastest;
#: the start-up times per backend are in docs/performance.md).
PREFERENCE = ("jax", "torch", "tensorflow")
INSTALL_HINT = ('keras-dae needs one Keras backend: pip install "keras-dae[jax]" (or [torch], '
                "[tensorflow]; from a clone: pip install -e \".[jax]\")")


def installed_backends():
    """The Keras backends whose framework is installed, in `PREFERENCE` order."""
    return tuple(b for b in PREFERENCE if importlib.util.find_spec(b) is not None)


def _configured_backend():
    """The backend of `keras.json` when someone chose it (Keras writes `"tensorflow"` there
    by itself, so only another value is taken as a choice)."""
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(base, "keras.json")) as f:
            backend = json.load(f).get("backend")
    except (OSError, ValueError, AttributeError):
        return None
    return backend if backend in PREFERENCE and backend != "tensorflow" else None


def choose_backend():
    """Sets `$KERAS_BACKEND` to an installed backend when it is unset and Keras is not yet
    imported, and returns the backend Keras will use (None when no backend is installed).

    The order: `$KERAS_BACKEND`; a backend other than TensorFlow named in `keras.json`; the
    first installed of `PREFERENCE`.
    """
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    installed = installed_backends()
    configured = _configured_backend()
    chosen = configured if configured in installed else (installed[0] if installed else None)
    if chosen is not None:
        os.environ["KERAS_BACKEND"] = chosen
    return chosen


def quiet_environment():
    """Environment variables that keep the frameworks' C++ start-up logging quiet; they must
    be set before the framework is imported (TensorFlow's and XLA's INFO/WARNING lines)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")


@contextlib.contextmanager
def silenced_stderr():
    """Sends what is written to the process's stderr (file descriptor 2: C++ logging included)
    to /dev/null inside the block: for the frameworks' import, whose notices (oneDNN,
    absl, CPU features) are written before any Python logging is set up."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)
