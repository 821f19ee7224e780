"""Zoo training: a run paused at an epoch boundary and resumed equals an uninterrupted run;
converted weights go through the same export; batches are reproducible per epoch."""

import json
import pathlib
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_dae
from keras_dae import datasets, training
from keras_dae.zoo import registry
from tests.helpers import backend, to_numpy
from tests.recipe_sandbox import RECIPE, trained_weights

@pytest.mark.parametrize("ema", [None, 0.9])
def test_a_paused_and_resumed_run_equals_an_uninterrupted_one(sandbox, tmp_path, ema):
    if ema is not None:  # the average of the weights is resumed too, and exported
        sandbox.write_text(sandbox.read_text() + f"\nEMA_MOMENTUM = {ema}\n")
    training.train(sandbox, out=tmp_path / "whole", verbose=0, install=True)
    whole = trained_weights(tmp_path)
    assert not (tmp_path / "whole").exists()  # a finished run leaves no checkpoint

    with pytest.raises(training.TrainingPaused):
        training.train(sandbox, out=tmp_path / "split", verbose=0, budget_minutes=0)
    checkpoint = tmp_path / "split"
    assert (checkpoint / "backup").is_dir() and len(list(checkpoint.glob("log.csv"))) == 1
    keras.utils.clear_session()  # as a fresh process on another machine would start
    entry = training.train(sandbox, out=checkpoint, verbose=0, install=True)
    split = trained_weights(tmp_path)

    for a, b in zip(whole, split):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert not checkpoint.exists()
    results = json.loads((tmp_path / "zoo" / "conv-tiny-gauss" / "results.json").read_text())
    assert len(results["parts"]) == 2 and len(results["history"]["loss"]) == 3
    card = (tmp_path / "zoo" / "conv-tiny-gauss" / "README.md").read_text()
    assert "in 2 parts" in card and "192 training examples seen" in card
    assert entry.metrics["val_mse"] == results["metrics"]["val_mse"]
    assert ("moving average of the trained ones (momentum 0.9)" in card) == (ema is not None)


def test_an_average_the_recipe_optimizer_does_not_keep_is_refused(sandbox, tmp_path):
    sandbox.write_text(sandbox.read_text() + textwrap.dedent('''
        EMA_MOMENTUM = 0.99

        def optimizer(total_steps):
            import keras
            return keras.optimizers.Adam(1e-3)
    '''))
    with pytest.raises(ValueError, match="EMA_MOMENTUM = 0.99 but its `optimizer"):
        training.train(sandbox, out=tmp_path / "run", verbose=0)


def _installed_files(tmp_path):
    paths = [tmp_path / "weights" / "conv-tiny-gauss.keras", tmp_path / "weights" / "registry.json",
             tmp_path / "zoo" / "conv-tiny-gauss" / "README.md", tmp_path / "zoo" / "conv-tiny-gauss" / "results.json",
             tmp_path / "tests" / "golden" / "conv-tiny-gauss.npz"]
    return {p: p.read_bytes() for p in paths}


def test_a_failed_export_leaves_the_installed_model_alone(sandbox, tmp_path):
    training.train(sandbox, out=tmp_path / "first", verbose=0, install=True)
    installed = _installed_files(tmp_path)
    recipe = training.load_recipe(sandbox)
    recipe.EPOCHS = 1

    def broken(model, num_images=None):
        raise RuntimeError("the evaluation broke")

    recipe.evaluate = broken
    with pytest.raises(RuntimeError, match="broke"):
        training.train(recipe, out=tmp_path / "second", verbose=0, install=True)
    assert _installed_files(tmp_path) == installed
    assert keras_dae.load(str(tmp_path / "weights" / "conv-tiny-gauss.keras")) is not None


def test_an_interrupted_retraining_leaves_the_installed_model_loadable_and_resumes(sandbox, tmp_path):
    training.train(sandbox, out=tmp_path / "first", verbose=0, install=True)
    installed, first = _installed_files(tmp_path), trained_weights(tmp_path)
    sandbox.write_text(sandbox.read_text().replace("SEED = 0", "SEED = 1"))  # a different run

    with pytest.raises(training.TrainingPaused):  # stopped after its first epoch
        training.train(sandbox, out=tmp_path / "again", verbose=0, budget_minutes=0, install=True)
    assert _installed_files(tmp_path) == installed
    model = keras_dae.load("conv-tiny-gauss")  # by name, through the registry
    for a, b in zip(first, [to_numpy(w) for w in model.weights]):
        np.testing.assert_array_equal(a, b)

    keras.utils.clear_session()
    training.train(sandbox, out=tmp_path / "again", verbose=0, install=True)  # resumes, then installs
    results = json.loads((tmp_path / "zoo" / "conv-tiny-gauss" / "results.json").read_text())
    assert len(results["parts"]) == 2 and len(results["history"]["loss"]) == 3
    assert any(np.abs(a - b).max() > 0 for a, b in zip(first, trained_weights(tmp_path)))


def test_an_install_that_fails_midway_puts_every_file_back(sandbox, tmp_path, monkeypatch):
    training.train(sandbox, out=tmp_path / "first", verbose=0, install=True)
    installed = _installed_files(tmp_path)
    replace = training.recipes.os.replace

    def fails_at_the_third_file(source, target):  # after the weights and the card are in place
        if str(target).endswith("results.json") and ".new" in str(source):
            raise OSError("disk full")
        return replace(source, target)

    monkeypatch.setattr(training.recipes.os, "replace", fails_at_the_third_file)
    recipe = training.load_recipe(sandbox)
    recipe.EPOCHS, recipe.SEED = 1, 1
    with pytest.raises(OSError, match="disk full"):
        training.train(recipe, out=tmp_path / "second", verbose=0, install=True)
    assert _installed_files(tmp_path) == installed
    leftovers = list(tmp_path.rglob(".*.new"))
    assert not leftovers, leftovers
    assert keras_dae.load(str(tmp_path / "weights" / "conv-tiny-gauss.keras")) is not None


def test_without_install_the_export_stays_in_outputs(sandbox, tmp_path):
    entry = training.train(sandbox, out=tmp_path / "run", verbose=0)
    stage = tmp_path / "outputs" / "zoo" / "conv-tiny-gauss"
    assert {p.name for p in stage.iterdir()} >= {"conv-tiny-gauss.keras", "README.md", "results.json",
                                                  "golden.npz", "registry.json"}
    assert not (tmp_path / "weights").exists() and "conv-tiny-gauss" not in registry.list_models()
    assert keras_dae.load(str(stage / "conv-tiny-gauss.keras")).name == "conv-tiny-gauss"
    assert keras_dae.zoo.archives.weights_sha256(stage / "conv-tiny-gauss.keras") == entry.sha256


def test_the_stop_file_pauses_after_the_current_epoch(sandbox, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "STOP").touch()
    with pytest.raises(training.TrainingPaused, match="STOP"):
        training.train(sandbox, out=out, verbose=0)
    assert not (out / "STOP").exists()
    log = (out / "log.csv").read_text().strip().splitlines()
    assert len(log) == 2  # the header and epoch 0
    parts = json.loads((out / "parts.json").read_text())  # written at each epoch end, so a
    assert len(parts) == 1 and parts[0]["epochs"] == 1 and not parts[0]["finished"]  # kill counts too


def test_array_batches_are_a_fixed_function_of_seed_and_epoch():
    x = np.arange(10)[:, None].astype("float32")
    a, b = datasets.ArrayBatches(x, batch_size=4, seed=3), datasets.ArrayBatches(x, batch_size=4, seed=3)
    epoch0 = np.concatenate([a[i][0] for i in range(len(a))])
    a.on_epoch_end()
    b.set_epoch(1)
    assert len(a) == 3 and sorted(epoch0[:, 0]) == list(range(10))
    for i in range(len(a)):
        np.testing.assert_array_equal(a[i][0], b[i][0])
    assert not np.array_equal(np.concatenate([a[i][0] for i in range(3)]), epoch0)
    with pytest.raises(ValueError, match="batch_size"):
        datasets.ArrayBatches(x, batch_size=0)


def test_a_recipe_missing_a_field_is_refused(tmp_path):
    path = tmp_path / "recipe.py"
    path.write_text("NAME = 'x-y-z'\n")
    with pytest.raises(ValueError, match="does not define `DATASET`"):
        training.load_recipe(path)


ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_dncnn_conversion_reproduces_the_packaged_entry():
    """The conversion recipe, run on this backend from the published PyTorch file, gives the
    packaged model's golden outputs: a transposed kernel or a wrong layer order fails here."""
    recipe = training.load_recipe(ROOT / "zoo" / "dncnn-bsd400-gauss25")
    if not recipe.source_path().is_file():
        pytest.skip(f"no published weights at {recipe.source_path()}")
    pytest.importorskip("torch")
    golden = np.load(ROOT / "tests" / "golden" / "dncnn-bsd400-gauss25.npz", allow_pickle=False)
    np.testing.assert_allclose(recipe.convert().denoise(golden["x"]), golden["outputs"], atol=1e-4, rtol=0)


SLOW_EPOCHS = '''
import time
import keras


class _Slow(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.4)  # an epoch of 4 batches takes ~2 s: time to kill it in the middle


def callbacks():
    return [_Slow()]
'''


@pytest.mark.skipif(backend() != "jax", reason="a process-level test: one backend is enough")
def test_sigkill_mid_epoch_then_the_same_command_resumes(tmp_path):
    """`keras-dae train` killed with SIGKILL in the middle of an epoch: the same command
    resumes from the last finished epoch (losing at most the one in flight) and finishes."""
    import os
    import signal
    import subprocess
    import time

    recipe = tmp_path / "conv-tiny-gauss" / "recipe.py"
    recipe.parent.mkdir()
    recipe.write_text(textwrap.dedent(RECIPE) + SLOW_EPOCHS)
    out = tmp_path / "checkpoint"
    command = [sys.executable, "-m", "keras_dae", "train", str(recipe), "--out", str(out),
               "--export-dir", str(tmp_path / "export")]
    env = dict(os.environ)
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metadata = out / "backup" / "training_metadata.json"
    deadline = time.time() + 120
    while not (metadata.exists() and '"epoch": 1' in metadata.read_text()) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.8)  # into epoch 2
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert metadata.exists(), "no checkpoint was written before the kill"
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert not out.exists()  # finished: the checkpoint is gone
    results = json.loads((tmp_path / "export" / "results.json").read_text())
    assert len(results["history"]["loss"]) == 3  # epochs 0, 1, 2, each once
    assert len(results["parts"]) == 2


@pytest.mark.skipif(backend() != "jax", reason="keras.distribution is JAX-only in Keras 3.15 (tested below)")
def test_data_parallel_on_four_cpu_devices_follows_the_one_device_run(tmp_path):
    """`keras-dae train --data-parallel` with 4 virtual CPU devices (each batch of 16 split
    4 ways, gradients averaged) gives the loss curve of the one-device run, and its export
    (reloaded and measured inside the distribution) loads as any other."""
    import os
    import subprocess

    recipe = tmp_path / "conv-tiny-gauss" / "recipe.py"
    recipe.parent.mkdir()
    recipe.write_text(textwrap.dedent(RECIPE))
    env = {**os.environ, "KERAS_BACKEND": "jax",
           "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4".strip()}
    results = {}
    for mode in ("one", "four"):
        command = [sys.executable, "-m", "keras_dae", "train", str(recipe), "--out", str(tmp_path / mode),
                   "--export-dir", str(tmp_path / f"export-{mode}")] + (["--data-parallel"] if mode == "four" else [])
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        results[mode] = json.loads((tmp_path / f"export-{mode}" / "results.json").read_text())
    one, four = results["one"]["history"], results["four"]["history"]
    assert len(four["loss"]) == 3
    np.testing.assert_allclose(four["loss"], one["loss"], rtol=1e-4)
    np.testing.assert_allclose(four["val_loss"], one["val_loss"], rtol=1e-4)
    model = keras_dae.load(str(tmp_path / "export-four" / "conv-tiny-gauss.keras"))
    assert model.denoise(np.zeros((1, 8, 8, 1), "float32")).shape == (1, 8, 8, 1)


@pytest.mark.skipif(backend() == "jax", reason="JAX distributes; the other backends must refuse")
def test_data_parallel_off_jax_is_refused_with_the_reason():
    from keras_dae import backend as kd_backend

    with pytest.raises(ValueError, match="needs the JAX backend") as info:
        kd_backend.data_parallel()
    assert f"backend={backend()!r}" in str(info.value)


def test_predict_pads_batches_for_the_devices_of_a_distribution():
    """Inside `DataParallel.scope()` a batch must split across the devices; `denoise` of one
    image pads it (here on however many devices this process has: 1 on a plain run)."""
    if backend() != "jax":
        pytest.skip("keras.distribution is JAX-only")
    from keras_dae import backend as kd_backend
    from keras_dae import layers, models, networks

    with kd_backend.data_parallel().scope():
        model = models.DAE(networks.conv_dae((8, 8, 1), filters=(4,)), layers.AdditiveGaussian(sigma=0.2))
        out = model.denoise(np.zeros((3, 8, 8, 1), "float32"))
    assert out.shape == (3, 8, 8, 1)


def test_train_here_export_there(sandbox, tmp_path):
    """`export=False` (a GPU machine lent for minutes) leaves the trained model beside the
    log; the next call, e.g. on a fresh CPU clone, exports it without training again and
    gives the entry of an uninterrupted run."""
    training.train(sandbox, out=tmp_path / "whole", verbose=0, install=True)
    whole = trained_weights(tmp_path)
    checkpoint = tmp_path / "gpu"
    assert training.train(sandbox, out=checkpoint, verbose=0, export=False) is None
    assert (checkpoint / training.TRAINED_FILE).is_file() and (checkpoint / "log.csv").is_file()
    keras.utils.clear_session()
    entry = training.train(sandbox, out=checkpoint, verbose=0, install=True)
    assert not checkpoint.exists()
    for a, b in zip(whole, trained_weights(tmp_path)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert len(entry.metrics) == 1
    results = json.loads((tmp_path / "zoo" / "conv-tiny-gauss" / "results.json").read_text())
    assert len(results["history"]["loss"]) == 3 and len(results["parts"]) == 1


@pytest.mark.skipif(backend() != "jax", reason="a process-level test over two backends: run once")
def test_a_run_paused_on_torch_resumes_on_jax(tmp_path):
    """The checkpoint is backend-neutral: a run paused on torch (a CPU machine) continues on
    JAX (e.g. the GPU machine of zoo/train_gpu.sh) from the next epoch, and the card lists
    both parts."""
    import os
    import subprocess

    recipe = tmp_path / "conv-tiny-gauss" / "recipe.py"
    recipe.parent.mkdir()
    recipe.write_text(textwrap.dedent(RECIPE))
    out = tmp_path / "checkpoint"
    command = [sys.executable, "-m", "keras_dae", "train", str(recipe), "--out", str(out)]
    first = subprocess.run(command + ["--budget-minutes", "0"], env={**os.environ, "KERAS_BACKEND": "torch"},
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 3, first.stderr[-2000:]
    second = subprocess.run(command + ["--no-export"], env={**os.environ, "KERAS_BACKEND": "jax"},
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    parts = json.loads((out / "parts.json").read_text())
    assert [p["epochs"] for p in parts] == [1, 3]
    assert "torch backend" in parts[0]["hardware"] and "jax backend" in parts[1]["hardware"]
    with open(out / "log.csv") as f:
        assert [line.split(",")[0] for line in f.read().split()[1:]] == ["0", "1", "2"]
    assert (out / training.TRAINED_FILE).is_file()


def test_a_recipe_that_cannot_resume_refuses_a_budget(sandbox, tmp_path):
    sandbox.write_text(sandbox.read_text() + "\nRESUMABLE = False\n")
    with pytest.raises(ValueError, match="cannot pause and resume") as info:
        training.train(sandbox, out=tmp_path / "ck", verbose=0, budget_minutes=5)
    assert "budget_minutes=5" in str(info.value)


STACKED_RECIPE = '''
import keras
import numpy as np
from keras_dae import layers, models

NAME = "sdae-tiny-mask"
DATASET = "tiny"
EPOCHS = 2           # per layer
BATCH_SIZE = 16
LEARNING_RATE = 1e-2
SEED = 0
ENTRY = {"architecture": "tiny stack", "objective": "StackedDAE", "corruption": "masking",
         "hf_repo": "test/sdae-tiny-mask"}


def data(num_train_images=None):
    x = np.random.default_rng(0).random((80, 16)).astype("float32")
    return (x[:64], None), (x[64:], None)


def build():
    return models.StackedDAE((16, 8, 6, 4), corruption=layers.MaskingNoise(0.25, seed=SEED), name=NAME)


def fit(model, x_train, x_val, epochs, callbacks, checkpoint_dir):
    model.pretrain(x_train, epochs_per_layer=epochs, batch_size=BATCH_SIZE,
                   optimizer=lambda: keras.optimizers.Adam(LEARNING_RATE),
                   callbacks=callbacks, checkpoint_dir=checkpoint_dir, seed=SEED)
    return {}


def evaluate(model, num_images=None):
    x = data()[1][0]
    return {"val_mse": float(np.mean((model.denoise(x) - x) ** 2))}, "table", {"x": x[:2]}
'''


def test_greedy_pretraining_paused_in_and_between_layers_resumes_exactly(sandbox, tmp_path):
    # A recipe with its own `fit` (one `fit` per layer) honours train's callbacks: paused
    # after every epoch the budget allows (inside layer 1, inside layer 2 right after
    # layer 1 ended, inside layer 3), it ends with the weights of an uninterrupted run.
    recipe = sandbox.parent.parent / "sdae-tiny-mask" / "recipe.py"
    recipe.parent.mkdir()
    recipe.write_text(textwrap.dedent(STACKED_RECIPE))
    weights = lambda: [to_numpy(w) for w in keras_dae.load(  # noqa: E731
        str(tmp_path / "weights" / "sdae-tiny-mask.keras"), compile=False).weights]
    try:
        training.train(recipe, out=tmp_path / "whole", verbose=0, install=True)
        whole = weights()
        out, pauses = tmp_path / "split", 0
        while True:
            keras.utils.clear_session()  # as a fresh process would start
            try:
                training.train(recipe, out=out, verbose=0, budget_minutes=0, install=True)
                break
            except training.TrainingPaused:
                pauses += 1
                assert json.loads((out / "pretrain.json").read_text())["layers_done"] == pauses - 1 \
                    if (out / "pretrain.json").is_file() else pauses == 1
        assert pauses == 3
        for a, b in zip(whole, weights()):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
        results = json.loads((tmp_path / "zoo" / "sdae-tiny-mask" / "results.json").read_text())
        assert len(results["parts"]) == 4 and len(results["history"]["loss"]) == 6  # one row per epoch
    finally:
        if "sdae-tiny-mask" in registry.list_models():
            registry.unregister("sdae-tiny-mask")
        sys.modules.pop("keras_dae_recipe_sdae_tiny_mask", None)
