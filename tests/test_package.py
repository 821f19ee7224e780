"""Package-level rules: the framework imports stay in one module, the public API is what
it says, and every public layer is registered for safe-mode loading."""

import ast
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

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


def test_the_wheel_installs_into_a_fresh_venv_and_loads_the_zoo(tmp_path):
    """Builds the wheel, installs it (and nothing else) into a new virtual environment, and
    loads every packaged zoo entry from the installed copy, offline. The dependencies come
    from this environment through a .pth file, so no download happens."""
    import json
    import site
    import venv

    root = pathlib.Path(__file__).resolve().parents[1]
    src, dist = tmp_path / "src", tmp_path / "dist"  # a copy: backends build concurrently
    shutil.copytree(root / "keras_dae", src / "keras_dae",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (root / name).exists():
            shutil.copy(root / name, src / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(dist), str(src)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = dist.glob("keras_dae-*.whl")
    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    with zipfile.ZipFile(wheel) as zf:  # what pip would do for a pure-Python wheel
        zf.extractall(purelib)
    deps = [p for p in site.getsitepackages() if "site-packages" in p]
    (pathlib.Path(purelib) / "deps.pth").write_text("\n".join(deps) + "\n")
    code = (
        "import json, keras_dae\n"
        "from keras_dae import registry\n"
        "out = {'file': keras_dae.__file__}\n"
        "for name in registry.list_models():\n"
        "    e = registry.get(name)\n"
        "    if e.packaged_file():\n"
        "        out[name] = type(keras_dae.load(name)).__name__\n"
        "print(json.dumps(out))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}
    result = subprocess.run([python, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded.pop("file").startswith(purelib)
    assert "unet-mnist-gauss" in loaded and len(loaded) >= 3, loaded


def _calls(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
            keywords = {k.arg: getattr(k.value, "value", None) for k in node.keywords}
            yield owner, name, keywords, node.lineno


def test_nothing_is_unpickled():
    """No `pickle` import anywhere; `np.load` only with `allow_pickle=False`, `torch.load` only
    with `weights_only=True` (library, zoo recipes, tools, benchmarks, examples, tests)."""
    root = PACKAGE.parent
    offenders = []
    for folder in ("keras_dae", "zoo", "tools", "benchmarks", "examples", "tests", "docs"):
        for path in sorted((root / folder).rglob("*.py")):
            if {"pickle", "cPickle", "dill", "joblib"} & set(imported_modules(path)):
                offenders.append(f"{path.relative_to(root)}: imports a pickler")
            for owner, name, keywords, line in _calls(path):
                if owner in ("np", "numpy") and name == "load" and keywords.get("allow_pickle") is not False:
                    offenders.append(f"{path.relative_to(root)}:{line}: np.load without allow_pickle=False")
                if owner == "torch" and name == "load" and keywords.get("weights_only") is not True:
                    offenders.append(f"{path.relative_to(root)}:{line}: torch.load without weights_only=True")
    assert not offenders, "\n".join(offenders)
