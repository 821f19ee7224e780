"""Package-level rules: the framework imports stay in one module, the public API is what
it says, and every public layer is registered for safe-mode loading."""

import ast
import pathlib

import keras

import keras_dae

PACKAGE = pathlib.Path(keras_dae.__file__).parent
FRAMEWORKS = {"jax", "jaxlib", "torch", "tensorflow", "tf_keras", "tensorflow_datasets"}
# backend.py holds the per-backend code; datasets.py imports tensorflow_datasets inside
# the one function that reads tfds data (the `tfds` extra).
ALLOWED = {"backend.py": FRAMEWORKS, "datasets.py": {"tensorflow_datasets"}}


def imported_modules(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


def test_only_the_backend_module_imports_a_framework():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        allowed = ALLOWED.get(path.name, set()) if path.parent == PACKAGE else set()
        bad = (set(imported_modules(path)) & FRAMEWORKS) - allowed
        if bad:
            offenders.append(f"{path.relative_to(PACKAGE.parent)}: {sorted(bad)}")
    assert not offenders, "framework imports outside keras_dae/backend.py:\n" + "\n".join(offenders)


def test_public_layers_are_registered():
    for name in dir(keras_dae.layers):
        obj = getattr(keras_dae.layers, name)
        if isinstance(obj, type) and issubclass(obj, keras.layers.Layer) and name != "Corruption":
            registered = keras.saving.get_registered_name(obj)
            assert registered == f"keras_dae>{name}", registered
            assert keras.saving.get_registered_object(registered) is obj
