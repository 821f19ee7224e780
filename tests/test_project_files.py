"""The project around the package: what a newcomer's first command installs, extras that
install together, the licence, the README (short, its links and tables current) and the
public names the README and the docs pages promise after a bare `import keras_dae`."""

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
    installs = re.findall(r'(?:pip install|uv_install\.py) .*-e "\.\[(\w+)\]"', steps)
    assert installs == ["demo"], steps
    demo = names(EXTRAS["demo"])
    assert len(demo & BACKENDS) == 1 and not demo & TEST_TOOLS, demo
    assert names(PYPROJECT["project"]["dependencies"]).isdisjoint(BACKENDS | TEST_TOOLS)
    _, test_steps = make_target("$(VENV)/.installed")
    assert '-e ".[dev]"' in test_steps  # `make test` still installs everything


def test_the_installer_passes_pips_configuration_to_uv():
    """uv reads no pip.conf: without the find-links pip is configured with, it would miss the
    CPU build of torch on disk and fetch a CUDA build (tools/uv_install.py)."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import uv_install
    finally:
        sys.path.remove(str(ROOT / "tools"))
    listed = ["global.find-links='/opt/wheels'",
              "global.extra-index-url='file:///a/simple file:///b/simple'",
              ":env:.find-links='/opt/wheels'",  # the same value from PIP_FIND_LINKS: once
              ":env:.index-url='https://env/simple'",  # sorts first, yet overrides both below
              "global.index-url='https://old/simple'", "install.index-url='https://new/simple'",
              "global.constraint='/etc/caps.txt\\n/etc/more.txt'",  # one per line, as pip allows
              "download.extra-index-url='https://other/simple'",  # another command's: not install's
              "global.cert='/etc/ca.crt'", "global.timeout='60'", "no equals sign here"]
    config = uv_install.pip_config(listed)
    assert config["find-links"] == ["/opt/wheels"] and config["cert"] == ["/etc/ca.crt"]
    assert uv_install.pip_config(listed[4:6])["index-url"] == ["https://new/simple"]  # install over global
    assert uv_install.uv_arguments(config) == [
        "--index-url", "https://env/simple",
        "--extra-index-url", "file:///a/simple", "--extra-index-url", "file:///b/simple",
        "--find-links", "/opt/wheels",
        "--constraint", "/etc/caps.txt", "--constraint", "/etc/more.txt",
        "--index-strategy", "unsafe-best-match"]
    assert uv_install.uv_arguments({}) == []


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


DOC_PAGES = sorted((ROOT / "docs").glob("*.md"))


def test_every_module_the_readme_and_the_docs_name_is_there_after_a_bare_import():
    text = "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *DOC_PAGES])
    named = sorted(set(re.findall(r"keras_dae\.([a-z_]+)", text)))
    assert {"callbacks", "layers", "zoo", "evaluation", "training"} <= set(named)
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


def test_the_zoo_tables_are_the_registrys():
    from keras_dae.utils import marked_block
    from tests.helpers import load_script

    zoo_table = load_script("tools", "zoo_table")
    # `python tools/zoo_table.py --write` after every install; the figures are the registry's.
    tables = {"zoo-table": zoo_table.table(), "bsd68-table": zoo_table.bsd68_table(),
              "color-table": zoo_table.color_table()}
    assert set(zoo_table.QUOTED_IN) == set(tables)
    assert ROOT / "README.md" in zoo_table.QUOTED_IN["zoo-table"]
    for tag, paths in zoo_table.QUOTED_IN.items():
        for path in paths:
            assert marked_block(tag, tables[tag]) in path.read_text(encoding="utf-8"), (tag, path)


def test_the_blocks_the_benchmarks_rewrite_are_where_they_write_them():
    """`replace_block(..., missing_ok=True)` skips a file without the block: a block moved
    to another page must move in its script too."""
    writers = {"sdae-mnist-controls": ("benchmarks/sdae_mnist.py", "docs/science.md"),
               "mnist-probes": ("benchmarks/probe_mnist.py", "docs/science.md"),
               "large-image": ("benchmarks/large_image.py", "docs/cli.md"),
               "blind-table": ("benchmarks/blind.py", "docs/evaluation.md"),
               "restoration-table": ("benchmarks/restoration.py", "docs/restoration.md")}
    for tag, (script, page) in writers.items():
        target = page.split("/")
        assert f'"{target[0]}" / "{target[1]}"' in (ROOT / script).read_text(encoding="utf-8"), (script, page)
        assert (ROOT / page).read_text(encoding="utf-8").count(f"<!-- {tag}:begin -->") == 1, (tag, page)


def test_the_restoration_table_is_the_saved_test_tables():
    """`python benchmarks/restoration.py summary --write` after every table run: the README's
    and the docs page's figures are those of benchmarks/results/restoration/."""
    from keras_dae.utils import marked_block
    from tests.helpers import load_script

    bench = load_script("benchmarks", "restoration")
    assert set(bench.QUOTED_IN) == {ROOT / "README.md", ROOT / "docs" / "restoration.md"}
    text = marked_block("restoration-table", bench.summary())
    for path in bench.QUOTED_IN:
        assert text in path.read_text(encoding="utf-8"), path


def test_the_readmes_command_table_has_every_verb():
    import argparse

    from keras_dae.cli import parser

    commands = next(a for a in parser.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"^\| `([a-z]+)` \|", table, re.MULTILINE)) == set(commands.choices)


def test_the_readme_is_short_and_its_links_lead_somewhere():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    local = [link for link in links if "://" not in link]
    assert any(link.startswith("docs/") for link in local)
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, missing
    # every docs page is reachable from the README (the API pages are generated)
    linked = {(ROOT / link).resolve() for link in local}
    assert not [p.name for p in DOC_PAGES if p.resolve() not in linked and p.name != "index.md"]
