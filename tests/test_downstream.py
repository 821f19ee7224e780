"""Encoders downstream: the classifier helper, fine-tuning with model selection, McNemar's
test, and the SDAE reproduction and linear-probe benchmarks (tiny, on every backend)."""

import json
import pathlib
import sys

import keras
import numpy as np
import pytest

import keras_dae
from keras_dae import downstream
from keras_dae.datasets import load_mnist
from tests.helpers import load_script

ROOT = pathlib.Path(__file__).resolve().parents[1]


def tiny_stack():
    return keras_dae.models.StackedDAE((784, 32, 16), input_shape=(28, 28, 1))


def test_classifier_from_a_model_and_from_a_zoo_name():
    x, _ = load_mnist("test", num_images=4)
    clf = downstream.classifier(tiny_stack().encoder, num_classes=10)
    assert clf(x).shape == (4, 10)
    zoo = downstream.classifier("sdae-mnist-mask", num_classes=3, name="probe")
    assert zoo.name == "probe" and zoo(x).shape == (4, 3)
    # `keras.Sequential([encoder, Dense])` is the same model, built by hand.
    assert keras.Sequential([keras_dae.load("sdae-mnist-mask", part="encoder"), keras.layers.Dense(10)])(x).shape == (4, 10)


def test_frozen_classifier_trains_only_its_head():
    stack = tiny_stack()
    clf = downstream.classifier(stack.encoder, num_classes=10, trainable=False, dropout=0.1)
    x, y = load_mnist("train", num_images=64)
    before = [w.copy() for w in stack.encoder.get_weights()]
    clf.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    clf.fit(x, y, epochs=1, batch_size=32, verbose=0)
    for old, new in zip(before, stack.encoder.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert {id(w) for w in clf.trainable_weights} == {id(w) for w in clf.get_layer("logits").weights}


@pytest.mark.parametrize("kwargs, match", [
    ({"num_classes": 1}, "num_classes"), ({"num_classes": 2.0}, "num_classes"),
    ({"dropout": 1.0}, "dropout"),
])
def test_classifier_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        downstream.classifier(tiny_stack().encoder, **{"num_classes": 10, **kwargs})


def test_fine_tune_keeps_the_best_validation_epoch():
    x, y = load_mnist("train", num_images=512)
    xv, yv = load_mnist("val", num_images=256)
    clf = downstream.classifier(tiny_stack().encoder)
    history = downstream.fine_tune(clf, x, y, xv, yv, epochs=4, learning_rate=0.5, batch_size=32)
    curve = history.history["val_accuracy"]
    assert history.best_epoch == int(np.argmax(curve)) + 1
    assert clf.evaluate(xv, yv, verbose=0)[1] == pytest.approx(max(curve), abs=1e-6)
    assert max(curve) > 0.5  # it learns: ten classes, chance is 0.1
    with pytest.raises(ValueError, match="epochs"):
        downstream.fine_tune(clf, x, y, xv, yv, epochs=0)


class _Kill(keras.callbacks.Callback):
    """Stands for a killed process: raises after epoch `after` was saved."""

    def __init__(self, after):
        super().__init__()
        self.after = after

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.after:
            raise KeyboardInterrupt


def test_interrupted_fine_tuning_resumes_and_keeps_the_best_epoch_of_the_whole_run(tmp_path):
    x, y = load_mnist("train", num_images=512)
    xv, yv = load_mnist("val", num_images=256)
    folder = tmp_path / "checkpoint"
    callbacks = lambda: [keras.callbacks.BackupAndRestore(str(folder / "backup")),  # noqa: E731
                         keras.callbacks.CSVLogger(str(folder / "log.csv"), append=True)]
    keras_dae.set_random_seed(0)
    clf = downstream.classifier(tiny_stack().encoder)
    folder.mkdir()
    with pytest.raises(KeyboardInterrupt):
        downstream.fine_tune(clf, x, y, xv, yv, epochs=5, learning_rate=0.5, batch_size=32,
                             callbacks=[*callbacks(), _Kill(after=3)], checkpoint_dir=folder)
    first = json.loads((folder / "best.json").read_text())
    assert first["epoch"] in (1, 2, 3)

    keras.utils.clear_session()  # a fresh process: the model as the recipe builds it
    keras_dae.set_random_seed(0)
    clf = downstream.classifier(tiny_stack().encoder)
    history = downstream.fine_tune(clf, x, y, xv, yv, epochs=5, learning_rate=0.5, batch_size=32,
                                   callbacks=callbacks(), checkpoint_dir=folder)
    assert len(history.history["val_accuracy"]) == 2  # epochs 4 and 5 only
    with open(folder / "log.csv") as f:
        rows = [line.split(",") for line in f.read().split()[1:]]
    header = open(folder / "log.csv").readline().strip().split(",")
    assert [int(r[0]) for r in rows] == [0, 1, 2, 3, 4]
    curve = [float(r[header.index("val_accuracy")]) for r in rows]
    best = int(np.argmax(curve)) + 1  # over both parts
    assert history.best_epoch == best == json.loads((folder / "best.json").read_text())["epoch"]
    assert clf.evaluate(xv, yv, verbose=0)[1] == pytest.approx(max(curve), abs=1e-6)


def test_mcnemar_counts_and_exact_p_value():
    y = np.zeros(20, int)
    a = np.zeros(20, int)
    b = np.zeros(20, int)
    b[:5] = 1      # A right, B wrong on 5 images
    a[19] = b[19] = 1  # both wrong on one: not counted
    result = downstream.mcnemar(y, a, b)
    assert (result["b"], result["c"], result["errors_a"], result["errors_b"]) == (5, 0, 1, 6)
    assert result["p_value"] == pytest.approx(2 / 2**5)
    assert downstream.mcnemar(y, b, a)["p_value"] == result["p_value"]
    assert downstream.mcnemar(y, a, a)["p_value"] == 1.0
    # 60 vs 40 discordant images: the normal approximation gives p ≈ 0.057.
    y, a, b = np.zeros(100, int), np.zeros(100, int), np.zeros(100, int)
    b[:60], a[60:] = 1, 1
    assert 0.05 < downstream.mcnemar(y, a, b)["p_value"] < 0.07
    with pytest.raises(ValueError, match="same length"):
        downstream.mcnemar(y, a, b[:5])


def load_benchmark(name):
    return load_script("benchmarks", name)


def test_sdae_benchmark_runs_and_summarizes(tmp_path):
    bench = load_benchmark("sdae_mnist")
    data = (load_mnist("train", num_images=300), load_mnist("val", num_images=100),
            load_mnist("test", num_images=200))
    runs = {}
    for condition in ("sdae", "none"):
        result, clf = bench.run(condition, 0, data, fast=True)
        assert result["predictions"].shape == (200,) and len(result["val_accuracy"]) == 2
        # Pretrained here (timed) for "sdae"; nothing to pretrain (no time) for "none".
        assert result["pretrained"] == ("here" if condition == "sdae" else "none")
        assert (result["pretrain_seconds"] > 0) == (condition == "sdae")
        bench.save_run(tmp_path / f"{condition}-seed0.npz", result)
        runs[(condition, 0)] = dict(np.load(tmp_path / f"{condition}-seed0.npz", allow_pickle=False))
    summary, markdown = bench.summarize(runs, data[2][1], tmp_path)
    assert set(summary["conditions"]) == {"sdae", "none"}
    assert set(summary["mcnemar"]) == {"sdae vs none"}
    assert "| SDAE-3 (ν = 0.25) |" in markdown and "McNemar (exact), seed 0" in markdown
    assert "pooled" not in markdown  # seeds share their test images: no pooled test
    across = bench.tabulate({**summary, "conditions": {c: {**row, "test_error_percent": [1.0, 1.2, 1.1]}
                                                      for c, row in summary["conditions"].items()}})[1]
    assert "Welch t on the 3 per-seed error rates" in across


def test_probe_benchmark_writes_its_table(tmp_path, monkeypatch):
    bench = load_benchmark("probe_mnist")
    monkeypatch.setattr(sys, "argv", ["probe_mnist.py", "--fast", "--results", str(tmp_path / "probe")])
    bench.main()
    rows = json.loads((tmp_path / "probe.json").read_text())["rows"]
    assert set(rows) == {"gaussian", "masking", "saltpepper", "none", "raw", "raw-unstandardized"}
    # 600 training images: every probe is far above chance (10 %) on 200 test images.
    assert all(0.5 < row["accuracy"] <= 1.0 for row in rows.values()), rows
    markdown = (tmp_path / "probe.md").read_text()
    assert "| raw pixels, not standardized |" in markdown and "masking, ν = 0.25" in markdown


@pytest.mark.parametrize("comparison, header", [
    ("saltpepper-schedule", "| learning rate | epoch 1 | epoch 2 |"),
    ("sdae-epochs", "| epochs per layer | masked-digit PSNR (dB) |"),
    ("finetune-batch", "| fine-tuning batch | SGD rate | best validation accuracy |"),
    ("unet-weighting-stage", "| model | σ = 0.1 | σ = 0.3 | σ = 0.5 |"),  # as unet-sigma-stage, + a weighting
    ("unet-batch", "| batch (peak rate) | σ = 0.1 | σ = 0.3 | σ = 0.5 | training time |"),
    ("unet-candidate", "| model | σ = 0.1 | σ = 0.3 | σ = 0.5 |"),
])
def test_choices_are_compared_on_validation_digits(comparison, header, tmp_path):
    bench = load_benchmark("choices_mnist")
    bench.main([comparison, "--fast", "--results", str(tmp_path / "choice")])
    table = (tmp_path / "choice.md").read_text()
    assert table.startswith(header) and "validation digits" in table and "test" not in table
    rows = json.loads((tmp_path / "choice.json").read_text())["rows"]
    # two alternatives, or the starting model and the first arm, or one batch size (--fast),
    # or the packaged model, the candidate and their difference
    assert len(rows) == {"unet-batch": 1, "unet-candidate": 3}.get(comparison, 2)


def test_fine_tuning_a_tied_encoder_warns_of_no_missing_gradient():
    """A tied layer's decoding bias is not used by the encoder: it is frozen in the
    classifier, so no optimizer warns that it has no gradient (PyTorch did)."""
    import warnings

    import keras

    from keras_dae import layers, models, networks

    model = models.DAE(networks.mlp((8, 6, 4), tied=True), layers.MaskingNoise(0.25, seed=1))
    clf = downstream.classifier(model.encoder, num_classes=3)
    clf.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).random((12, 8)).astype("float32")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(x, np.arange(12) % 3, epochs=1, verbose=0)
    assert not [w for w in caught if "Gradients do not exist" in str(w.message)]
    assert all("transpose_bias" not in v.path for v in clf.trainable_variables)
