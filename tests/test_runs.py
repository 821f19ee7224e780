"""The log of a run in progress (`keras_dae.training.runs`): one row per epoch across parts that
log different columns, read back aligned by epoch."""

import csv

from keras_dae.training import runs


def test_a_part_that_logs_more_columns_widens_the_log_without_misplacing_values(tmp_path):
    path = tmp_path / "log.csv"
    log = runs.EpochLog(path)
    log.on_epoch_end(0, {"loss": 0.5, "val_psnr": 20.0})
    log.on_epoch_end(1, {"loss": 0.4, "val_psnr": 21.0})
    runs.EpochLog(path).on_epoch_end(2, {"loss": 0.3, "val_raw_psnr": 21.5, "val_psnr": 22.0})  # a later part
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == ["epoch", "loss", "val_psnr", "val_raw_psnr"]
    assert [r["val_psnr"] for r in rows] == ["20.0", "21.0", "22.0"] and rows[0]["val_raw_psnr"] == ""
    assert runs.read_log(path) == {"loss": [0.5, 0.4, 0.3], "val_psnr": [20.0, 21.0, 22.0],
                                   "val_raw_psnr": [None, None, 21.5]}
    runs.EpochLog(path).on_epoch_end(2, {"loss": 0.25, "val_psnr": 22.5})  # an epoch rerun after a kill
    assert runs.read_log(path)["loss"] == [0.5, 0.4, 0.25]
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv"]  # no temporary file left


def test_a_keras_csv_log_reads_the_same(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss,val_loss\n0,0.5,NA\n1,0.4,0.45\n")  # CSVLogger: "NA" without validation
    assert runs.read_log(path) == {"loss": [0.5, 0.4], "val_loss": [None, 0.45]}
