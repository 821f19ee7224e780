"""The command line: the demo writes its grid; bad usage gets a one-line error."""

import subprocess
import sys

import numpy as np
from PIL import Image

from keras_dae import cli


def test_demo_writes_the_corruption_grid(tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert cli.main(["demo", "--out", str(out), "--num", "4"]) == 0
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
    from keras_dae import registry

    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in registry.list_models():
        assert name in out


def test_train_with_a_missing_recipe_is_a_usage_error(capsys):
    assert cli.main(["train", "zoo/no-such-entry"]) == 2
    assert "no recipe" in capsys.readouterr().err


def test_push_with_a_bad_target_fails_in_one_line(capsys):
    assert cli.main(["push", "dae-mnist-saltpepper", "hf://not-a-repo"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "target" in err
