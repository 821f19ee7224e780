"""The repository's tools/ scripts (file-only helpers, no Keras)."""

import json

import pytest

from tests.helpers import load_script


def test_compare_runs_puts_a_run_in_progress_beside_a_finished_one(tmp_path, capsys):
    compare = load_script("tools", "compare_runs")
    (tmp_path / "log.csv").write_text(
        "epoch,loss,val_psnr@sigma=0.5,val_raw_psnr@sigma=0.5\n"
        "0,0.2,14.00,20.60\n"
        "1,0.1,19.50,21.00\n")
    (tmp_path / "results.json").write_text(json.dumps({"history": {
        "loss": [0.3, 0.2, 0.1], "val_psnr@sigma=0.5": [20.5, 20.98, 21.13]}}))
    compare.main([str(tmp_path / "log.csv"), str(tmp_path / "results.json")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "| epoch | sigma=0.5 reference | sigma=0.5 trained (Δ) | sigma=0.5 average (Δ) |"
    assert lines[2:] == ["| 1 | 20.50 | 20.60 (+0.10) | 14.00 (-6.50) |",
                         "| 2 | 20.98 | 21.00 (+0.02) | 19.50 (-1.48) |"]  # the shorter run's epochs
    with pytest.raises(ValueError, match="val_psnr"):
        compare.table(compare.history(tmp_path / "log.csv"), {"loss": [1.0]})
