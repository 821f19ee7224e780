"""The documentation: the docs site builds with `mkdocs build --strict`, its API pages are
rendered from the docstrings without importing a framework, and the README's first Python
block runs as written."""

import os
import pathlib
import re
import subprocess
import sys

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Material for MkDocs and the plugins that depend on ProperDocs print a banner about the
# future of MkDocs on every build: not a problem of this site.
QUIET = {"DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"}


def first_python_block(path):
    match = re.search(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.DOTALL)
    assert match, f"no ```python block in {path}"
    return match.group(1)


# The site is the same whichever Keras backend runs the suite (griffe reads the source; no
# framework is imported), and tests/run_backends.py runs every file once per backend: build
# it in the JAX run only rather than three times.
@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the docs build does not depend on the backend: built in the jax run")
def test_the_docs_site_builds_strict_from_the_docstrings(tmp_path):
    # Stand-ins that fail on import: the build must not import a framework (or Keras).
    fakes = tmp_path / "fakes"
    for name in ("keras", "jax", "torch", "tensorflow"):
        (fakes / name).mkdir(parents=True)
        (fakes / name / "__init__.py").write_text(f"raise ImportError('the docs build imported {name}')\n")
    site = tmp_path / "site"
    env = {**os.environ, **QUIET, "PYTHONPATH": os.pathsep.join([str(fakes), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                          str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
                         check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    def page(path):
        assert (site / path).is_file(), f"{path} was not rendered"
        return (site / path).read_text(encoding="utf-8")

    assert "Denoising autoencoders for" in page("index.html") and "Start here" in page("index.html")
    # A package page: its docstring and the names it re-exports, linked to their pages.
    layers = page("api/keras_dae/layers/index.html")
    assert "Corruption layers, σ-embeddings, and the layers" in layers
    assert re.search(r'href="[^"]*gaussian/#keras_dae\.layers\.gaussian\.AdditiveGaussian"', layers), "no link"
    # A module page: signatures and the docstrings' sections.
    gaussian = page("api/keras_dae/layers/gaussian/index.html")
    assert "Additive Gaussian noise: x̃ = x + σε" in gaussian
    assert "sigma_range" in gaussian and "set_sigma" in gaussian
    assert "Parameters:" in gaussian
    # Keras' "Call arguments:" section: one list item per argument (docs/griffe_doctest.py).
    assert re.search(r"<summary>Call arguments</summary>\s*<ul>\s*<li><code>inputs</code>: ", gaussian)
    assert "<li><code>return_info</code>: " in gaussian
    hub = page("api/keras_dae/zoo/hub/index.html")
    assert "Loads a zoo model, a Hub repository or a local file" in hub
    # The top package lists the functions it imports on first use.
    assert "keras_dae.zoo.hub.load" in page("api/keras_dae/index.html")
    # Private modules and __main__ get no page.
    assert not list(site.glob("api/**/__main__*")) and not list(site.glob("api/**/_*"))
    # The zoo tables' links (zoo/<name>/README.md) lead to the model cards.
    assert "unet-mnist-gauss" in page("zoo/unet-mnist-gauss/index.html")


def test_the_readmes_first_python_block_runs_as_is(tmp_path):
    """On every backend: the newcomer's first copy-paste works, in a fresh process, outside
    the repository (the data it needs is packaged)."""
    code = first_python_block(ROOT / "README.md")
    assert "KERAS_BACKEND" not in code  # the backend is the suite's, so each run tests its own
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": keras.backend.backend()}
    run = subprocess.run([sys.executable, "-c", code], check=False, cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    noisy, denoised, blind = map(float, re.search(
        r"noisy ([\d.]+) dB -> denoised ([\d.]+) dB \(blind ([\d.]+) dB\)", run.stdout).groups())
    assert denoised > noisy + 10 and blind > noisy + 10, run.stdout
