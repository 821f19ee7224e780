"""The command line: the demo, the file verbs, and one-line errors with exit code 2."""

import pathlib
import subprocess
import sys

import keras
import numpy as np
from PIL import Image

import keras_dae
from keras_dae.cli import commands as cli_commands
from keras_dae.cli import parser as cli

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_demo_denoises_with_the_default_zoo_model(tmp_path, capsys):
    out = tmp_path / "demo.png"
    assert cli.main(["demo", "--out", str(out), "--num", "4", "--sigmas", "0.1", "0.5"]) == 0
    image = np.asarray(Image.open(out))
    assert image.shape[0] >= 5 * 28 * 2  # clean + (noisy, denoised) × 2 σ
    text = capsys.readouterr().out
    rows = text.split("\nmethod", 1)[1].splitlines()[1:4]  # the table under its header
    table = {line.split()[0]: [float(v) for v in line.split()[-2:]] for line in rows}
    assert set(table) == {"noisy", cli.DEFAULT_MODEL, "total"}
    # The zoo model beats the noisy input and total variation at both noise levels.
    assert all(m > max(n, t) for m, n, t in zip(table[cli.DEFAULT_MODEL], table["noisy"], table["total"]))


def test_demo_layers_writes_the_corruption_grid(tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert cli.main(["demo", "--layers", "--out", str(out), "--num", "4"]) == 0
    image = np.asarray(Image.open(out))
    rows = 1 + len(cli._demo_corruptions())
    assert image.shape[0] >= rows * 28 * 2
    assert "wrote" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*.tmp"))


def test_bad_usage_exits_2_without_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "keras_dae", "demo", "--num", "0"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "--num=0" in result.stderr and "Traceback" not in result.stderr


def test_list_prints_the_registry(capsys):
    from keras_dae.zoo import registry

    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in registry.list_models():
        assert name in out


def test_train_with_a_missing_recipe_is_a_usage_error(capsys):
    assert cli.main(["train", "zoo/no-such-entry"]) == 2
    assert "no recipe" in capsys.readouterr().err


def test_train_tunes_the_allocator_of_its_process_before_training_on_torch(tmp_path, monkeypatch):
    from keras_dae import runtime, training

    calls = []
    monkeypatch.setattr(runtime, "tune_allocator", lambda: calls.append("tune") or {})
    monkeypatch.setattr(training, "train", lambda recipe, **kwargs: calls.append("train"))
    assert cli.main(["train", "zoo/no-such-entry"]) == 2 and calls == []  # a usage error first
    recipe = tmp_path / "recipe.py"
    recipe.write_text('NAME = "x"\n')
    assert cli.main(["--backend", keras.backend.backend(), "train", str(recipe)]) == 0
    # measured to pay on torch only (keras_dae.runtime's docstring)
    assert calls == (["tune", "train"] if keras.backend.backend() == "torch" else ["train"])
    assert runtime.PAYS_ON == ("torch",)


def test_train_defaults_to_the_recipe_backend(tmp_path, monkeypatch, capsys):
    # Every trained recipe declares the backend measured fastest for it.
    declared = {r.parent.name: cli._recipe_backend(str(r.parent)) for r in ROOT.glob("zoo/*/recipe.py")}
    assert declared["unet-mnist-gauss"] == "torch" and declared["sdae-mnist-mask"] == "jax"
    assert all(declared[name] for name in declared if name != "dncnn-bsd400-gauss25")  # converted

    switched, trained = [], []
    monkeypatch.setattr(cli, "_switch_backend", switched.append)
    monkeypatch.setattr(cli, "train", lambda args: trained.append(args.recipe) or 0)
    recipe = tmp_path / "recipe.py"
    recipe.write_text('NAME = "x"\nBACKEND = "tensorflow"\n')
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert cli.main(["train", str(recipe)]) == 0
    assert switched == ["tensorflow"] and "the recipe's BACKEND" in capsys.readouterr().err
    assert cli.main(["--backend", "jax", "train", str(recipe)]) == 0  # --backend wins
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert cli.main(["train", str(recipe)]) == 0  # so does a backend the user set
    assert switched == ["tensorflow", "jax"] and len(trained) == 3


def test_push_with_a_bad_target_fails_in_one_line(capsys):
    assert cli.main(["push", "dae-mnist-saltpepper", "hf://not-a-repo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "target" in err


def _digits(n=3):
    from keras_dae import assets

    return assets.mnist_test_sample()[0][:n].astype("float32")[..., None] / 255.0


def _salt_and_pepper(x, seed=0):
    u = np.random.default_rng(seed).random(x.shape)
    return np.where(u < 0.1, 0.0, np.where(u < 0.2, 1.0, x)).astype("float32")


def test_denoise_a_folder_and_an_npy_stack(tmp_path, capsys):
    from keras_dae import imageio
    from keras_dae.metrics import psnr_numpy

    clean = _digits()
    noisy = _salt_and_pepper(clean)
    (tmp_path / "in").mkdir()
    for i, im in enumerate(noisy):
        imageio.write_image(tmp_path / "in" / f"d{i}.png", im)
    args = ["--model", "dae-mnist-saltpepper"]
    assert cli.main(["denoise", str(tmp_path / "in"), str(tmp_path / "out"), *args]) == 0
    out = np.stack([imageio.read_image(tmp_path / "out" / f"d{i}.png") for i in range(3)])
    assert psnr_numpy(clean, out).mean() > psnr_numpy(clean, noisy).mean() + 5.0
    np.save(tmp_path / "stack.npy", noisy[..., 0])  # (N, H, W) floats
    assert cli.main(["denoise", str(tmp_path / "stack.npy"), str(tmp_path / "o.npy"), *args]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "o.npy", allow_pickle=False), out, atol=1 / 255 + 1e-6)
    assert not list(tmp_path.rglob(".*.tmp*"))


def test_inpaint_and_sample(tmp_path):
    from keras_dae import imageio

    x = _digits(1)[0]
    mask = np.zeros_like(x)
    mask[8:20, 8:20] = 1.0
    imageio.write_image(tmp_path / "x.png", x * (1 - mask))
    imageio.write_image(tmp_path / "m.png", mask)
    assert cli.main(["inpaint", str(tmp_path / "x.png"), str(tmp_path / "m.png"),
                     str(tmp_path / "filled.png"), "--model", "sdae-mnist-mask"]) == 0
    filled = imageio.read_image(tmp_path / "filled.png")
    np.testing.assert_allclose(filled[mask == 0], (x * (1 - mask))[mask == 0], atol=1 / 255 + 1e-6)
    assert filled[mask == 1].max() > 0.2  # strokes filled in
    assert cli.main(["sample", str(tmp_path / "s.png"), "--model", "dae-mnist-saltpepper",
                     "-n", "4", "--steps", "3"]) == 0
    assert Image.open(tmp_path / "s.png").size[0] >= 2 * 28


def test_bad_input_is_one_line_with_exit_code_2(tmp_path, capsys):
    from keras_dae import imageio

    imageio.write_image(tmp_path / "big.png", np.zeros((40, 40, 1)))
    (tmp_path / "junk.png").write_bytes(b"not an image")
    cases = [
        (["denoise", str(tmp_path / "missing.png"), str(tmp_path / "o.png")], "no such file"),
        (["denoise", str(tmp_path / "big.png"), str(tmp_path / "o.png"), "--model",
          "dae-mnist-saltpepper"], "does not fit"),
        (["denoise", str(tmp_path / "junk.png"), str(tmp_path / "o.png"), "--model",
          "dae-mnist-saltpepper"], "cannot read"),
        (["sample", str(tmp_path / "s.png"), "--model", "no-such-model"], "no-such-model"),
        (["demo", "--sigmas", "-1"], "--sigmas"),
    ]
    for argv, message in cases:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, (argv, err)
    assert not (tmp_path / "o.png").exists()


def test_denoise_picks_the_photo_model_keeps_bit_depth_and_does_colour_per_channel(tmp_path, capsys):
    """A photograph (not a 28×28 digit) goes to the natural-image model without --model; a
    16-bit gray PNG comes back 16-bit; a colour one goes to the colour model, or, with a gray
    model given, is denoised channel by channel (said on stderr); a gray image saved as RGB
    goes to the gray model; and the denoiser reduces the noise it was given."""
    rng = np.random.default_rng(0)
    clean = np.tile(np.linspace(0.2, 0.8, 48, dtype="float32"), (40, 1))
    noisy = clean + rng.normal(0, 25 / 255, clean.shape).astype("float32")
    Image.fromarray(np.round(np.clip(noisy, 0, 1) * 65535).astype("uint16")).save(tmp_path / "gray16.png")
    rgb = np.stack([clean, clean[::-1], clean * 0.5], -1) + rng.normal(0, 25 / 255, (40, 48, 3))
    Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype("uint8")).save(tmp_path / "colour.png")
    gray8 = np.round(np.clip(noisy, 0, 1) * 255).astype("uint8")
    Image.fromarray(np.dstack([gray8] * 3)).save(tmp_path / "gray_as_rgb.png")

    sigma = str(25 / 255)
    assert cli.main(["denoise", str(tmp_path / "gray16.png"), str(tmp_path / "out16.png"), "--sigma", sigma]) == 0
    assert cli_commands._photo_model() in capsys.readouterr().out
    assert cli.main(["denoise", str(tmp_path / "gray_as_rgb.png"), str(tmp_path / "outg.png"), "--sigma", sigma]) == 0
    assert cli_commands._photo_model() in capsys.readouterr().out
    colour_model = cli_commands.COLOR_MODEL if cli_commands.COLOR_MODEL in keras_dae.list_models() else None
    assert cli.main(["denoise", str(tmp_path / "colour.png"), str(tmp_path / "outc.png"), "--sigma", sigma]) == 0
    captured = capsys.readouterr()
    if colour_model:
        assert colour_model in captured.out and "channel by channel" not in captured.err
    assert cli.main(["denoise", str(tmp_path / "colour.png"), str(tmp_path / "outc1.png"), "--sigma", sigma,
                     "--model", cli_commands._photo_model()]) == 0
    captured = capsys.readouterr()
    assert "channel by channel" in captured.err and cli_commands._photo_model() in captured.out
    with Image.open(tmp_path / "out16.png") as im:
        assert im.mode.startswith("I") and im.size == (48, 40)
        out16 = np.asarray(im, dtype="float32") / 65535
    with Image.open(tmp_path / "outg.png") as im:
        assert im.mode == "L" and im.size == (48, 40)
    for name in ("outc.png", "outc1.png"):
        with Image.open(tmp_path / name) as im:
            assert im.mode == "RGB" and im.size == (48, 40)
            out = np.asarray(im, dtype="float32") / 255
        clean_rgb = np.stack([clean, clean[::-1], clean * 0.5], -1)
        inner3 = (slice(2, -2), slice(2, -2))
        assert np.mean((out - clean_rgb)[inner3] ** 2) < 0.3 * np.mean((np.clip(rgb, 0, 1) - clean_rgb)[inner3] ** 2)
    inner = (slice(2, -2), slice(2, -2))
    assert np.mean((out16 - clean)[inner] ** 2) < 0.25 * np.mean((noisy - clean)[inner] ** 2)
