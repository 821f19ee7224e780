"""The project around the package: what a newcomer's first command installs, extras that
install together, the licence, and the public names the README promises after a bare
`import keras_dae`."""

import os
import pathlib
import re
import subprocess
import sys
import tomllib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
BACKENDS = {"jax", "torch", "tensorflow", "tensorflow-cpu"}
TEST_TOOLS = {"pytest", "pytest-xdist", "build"}


def names(requirements):
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def make_target(target):
    """The recipe lines and prerequisites of a Makefile target."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:(.*)\n((?:\t.*\n)*)", text, re.MULTILINE)
    assert match, f"no target {target!r} in the Makefile"
    return match.group(1).split(), match.group(2)


def test_the_first_command_installs_the_core_and_one_backend_only():
    first = re.search(r"```bash\n(.*?)\n", (ROOT / "README.md").read_text()).group(1)
    assert first.split("#")[0].strip() == "make demo"
    prerequisites, _ = make_target("demo")
    assert prerequisites == ["$(VENV)/.demo"]
    _, steps = make_target("$(VENV)/.demo")
    installs = re.findall(r'pip install .*-e "\.\[(\w+)\]"', steps)
    assert installs == ["demo"], steps
    demo = names(EXTRAS["demo"])
    assert len(demo & BACKENDS) == 1 and not demo & TEST_TOOLS, demo
    assert names(PYPROJECT["project"]["dependencies"]).isdisjoint(BACKENDS | TEST_TOOLS)
    _, test_steps = make_target("$(VENV)/.installed")
    assert '-e ".[dev]"' in test_steps  # `make test` still installs everything


def test_the_extras_never_install_two_tensorflows():
    """`tensorflow` and `tensorflow-cpu` install the same module: no extra may pull one in
    beside an extra that pulls the other, except the two that exist to name the choice."""
    for name, requirements in EXTRAS.items():
        assert not {"tensorflow", "tensorflow-cpu"} <= names(requirements), name
    choosers = {"tensorflow", "tensorflow-cpu"}
    with_tf = {name for name, r in EXTRAS.items() if names(r) & {"tensorflow"} and name not in choosers}
    assert not with_tf, f"extras that force the GPU TensorFlow beside [dev]'s tensorflow-cpu: {with_tf}"
    assert "tensorflow-datasets" in names(EXTRAS["tfds"])


def test_the_licence_is_the_one_pyproject_declares():
    text = (ROOT / "LICENSE").read_text()
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text


def test_every_module_the_readme_names_is_there_after_a_bare_import():
    named = sorted(set(re.findall(r"keras_dae\.([a-z_]+)", (ROOT / "README.md").read_text())))
    assert "callbacks" in named
    code = f"import keras_dae; print([n for n in {named!r} if not hasattr(keras_dae, n)])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]", out


def test_the_demo_figure_labels_keep_their_words_apart(tmp_path, monkeypatch):
    from keras_dae import cli, plotting

    seen = []
    grid = plotting.image_grid

    def recording(rows, labels, **kwargs):
        seen.extend(labels)
        return grid(rows, labels, **kwargs)

    monkeypatch.setattr(plotting, "image_grid", recording)
    assert cli.main(["demo", "--out", str(tmp_path / "demo.png"), "--num", "2", "--sigmas", "0.1", "0.3"]) == 0
    assert seen == ["clean", "noisy, sigma=0.1", "denoised, sigma=0.1", "noisy, sigma=0.3", "denoised, sigma=0.3"]
    assert np.all([re.fullmatch(r"[a-z]+(, sigma=[0-9.]+)?", label) for label in seen])


def test_the_readme_zoo_tables_are_the_registrys():
    from keras_dae.utils import marked_block
    from tests.helpers import load_script

    zoo_table = load_script("tools", "zoo_table")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # `python tools/zoo_table.py --write` after every install; the figures are the registry's.
    assert marked_block("zoo-table", zoo_table.table()) in readme
    assert marked_block("bsd68-table", zoo_table.bsd68_table()) in readme
