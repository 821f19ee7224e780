"""What a newcomer meets first: a backend picked without settings, a `--help` and `list`
that import no framework, σ in the units people use refused with a hint, output formats
decided by the extension, nothing written when a check fails, and no framework imported
that the backend does not need."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from keras_dae import startup
from keras_dae.cli import parser as cli

FRAMEWORKS = ("keras", "jax", "torch", "tensorflow")


def _run(code, env_drop=("KERAS_BACKEND",), **env):
    environ = {k: v for k, v in os.environ.items() if k not in env_drop}
    environ.update(env)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_help_and_list_import_no_framework():
    code = ("import sys, contextlib, io\nfrom keras_dae.cli import main\n"
            "for argv in (['--help'], ['list']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        try: main(argv)\n"
            "        except SystemExit: pass\n"
            f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])")
    assert _run(code).strip() == "[]"


def test_set_random_seed_seeds_as_keras_does_without_importing_tensorflow_elsewhere(monkeypatch):
    # Keras' own imports TensorFlow whenever it is installed (3 s per `keras-dae train`). As if
    # TensorFlow were not imported yet in this process: an import attempt fails the test.
    import random

    import keras
    from keras.src.utils import module_utils

    import keras_dae

    def draws():
        return [keras.ops.convert_to_numpy(keras.random.normal((3,))).tolist(),
                keras.ops.convert_to_numpy(keras.initializers.GlorotUniform()((2, 2))).tolist(),
                np.random.rand(), random.random()]

    keras.utils.set_random_seed(5)
    expected = draws()
    tf = module_utils.tensorflow
    if keras.backend.backend() != "tensorflow":
        monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
        monkeypatch.setattr(tf, "_available", None)
        monkeypatch.setattr(tf, "initialize", lambda: pytest.fail("imported TensorFlow"))
    keras_dae.set_random_seed(5)
    assert draws() == expected
    assert tf._available is None or keras.backend.backend() == "tensorflow"


@pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "jax") != "jax",
                    reason="starts its own processes without KERAS_BACKEND: the same on every run; done in the jax run")
def test_import_picks_an_installed_backend_when_none_is_set(tmp_path):
    code = "import os, keras_dae, keras; print(os.environ['KERAS_BACKEND'], keras.backend.backend())"
    # A keras.json as Keras writes it by itself names TensorFlow: not taken as a choice.
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))
    chosen, used = _run(code, KERAS_HOME=str(tmp_path)).split()
    assert chosen == used == startup.installed_backends()[0]
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch"}))  # someone chose torch
    assert _run(code, KERAS_HOME=str(tmp_path)).split() == ["torch", "torch"]
    assert _run(code, env_drop=(), KERAS_BACKEND="tensorflow").split() == ["tensorflow", "tensorflow"]


def test_no_backend_installed_is_one_line_on_what_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(startup, "installed_backends", lambda: ())
    monkeypatch.delitem(sys.modules, "keras")  # as if Keras were not imported yet
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert startup.choose_backend() is None
    assert cli.main(["denoise", str(tmp_path / "x.png"), str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "keras-dae[jax]"' in err


@pytest.mark.parametrize("text, value", [("0.1", 0.1), ("25/255", 25 / 255), (" 0 ", 0.0), ("1", 1.0)])
def test_sigma_as_a_number_or_a_fraction(text, value):
    from keras_dae.cli.commands import parse_sigma

    assert parse_sigma(text) == pytest.approx(value)


def _digit_png(path):
    from keras_dae import assets

    Image.fromarray(assets.mnist_test_sample()[0][0]).save(path)


@pytest.mark.parametrize("argv, message", [
    (["--sigma", "25"], "--sigma 0.09804 (or --sigma 25/255)"),
    (["--sigma", "-0.1"], "Received: --sigma -0.1"),
    (["--sigma", "1/0"], "a fraction such as 25/255"),
    (["--sigma", "abc"], "Received: --sigma abc"),
])
def test_bad_sigma_is_refused_with_a_hint_and_writes_nothing(tmp_path, capsys, argv, message):
    _digit_png(tmp_path / "in.png")
    assert cli.main(["denoise", str(tmp_path / "in.png"), str(tmp_path / "out.png"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


def test_the_output_extension_decides_the_format(tmp_path, capsys):
    _digit_png(tmp_path / "in.png")
    for name, fmt in (("o.bmp", "BMP"), ("o.webp", "WEBP"), ("o.jpg", "JPEG"), ("o.tif", "TIFF")):
        assert cli.main(["denoise", str(tmp_path / "in.png"), str(tmp_path / name), "--sigma", "0.1"]) == 0
        with Image.open(tmp_path / name) as im:
            assert im.format == fmt and im.size == (28, 28), name
    for name in ("o.xyz", "noext"):
        assert cli.main(["denoise", str(tmp_path / "in.png"), str(tmp_path / name)]) == 2
        assert "unknown output format" in capsys.readouterr().err
        assert not (tmp_path / name).exists()
    # A folder is an output when the path says so (trailing '/') or the input is a folder.
    assert cli.main(["denoise", str(tmp_path / "in.png"), str(tmp_path / "dir") + "/", "--sigma", "0.1"]) == 0
    assert (tmp_path / "dir" / "in.png").is_file()


def test_jpeg_quality_is_an_option(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64), dtype="uint8")).save(tmp_path / "in.png")
    sizes = {}
    for q in (30, 95):
        out = tmp_path / f"q{q}.jpg"
        assert cli.main(["denoise", str(tmp_path / "in.png"), str(out), "--sigma", "0.1", "--quality", str(q)]) == 0
        sizes[q] = out.stat().st_size
    assert sizes[30] < sizes[95]


def test_an_image_over_the_pixel_limit_is_refused_cleanly(tmp_path, capsys):
    Image.new("L", (3000, 2000)).save(tmp_path / "big.png")  # 6 Mpixel
    argv = ["denoise", str(tmp_path / "big.png"), str(tmp_path / "o.png"), "--sigma", "0.1",
            "--max-pixels", "1000000"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "cannot read image" in err and "--max-pixels" in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()
    assert Image.MAX_IMAGE_PIXELS > 1_000_000  # Pillow's own limit is put back


def test_an_alpha_channel_is_kept_as_it_was(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (24, 20, 3), dtype="uint8")
    alpha = rng.integers(0, 256, (24, 20), dtype="uint8")
    Image.fromarray(np.dstack([rgb, alpha]), mode="RGBA").save(tmp_path / "rgba.png")
    gray = np.dstack([rgb[..., 0], alpha])
    Image.fromarray(gray, mode="LA").save(tmp_path / "la.png")
    for name, mode in (("rgba.png", "RGBA"), ("la.png", "LA")):
        out = tmp_path / f"out-{name}"
        assert cli.main(["denoise", str(tmp_path / name), str(out), "--sigma", "0.1"]) == 0
        with Image.open(out) as im:
            assert im.mode == mode and im.size == (20, 24)
            np.testing.assert_array_equal(np.asarray(im.getchannel("A")), alpha)
