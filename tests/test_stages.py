"""Training in stages (`keras_dae.training.stages`): each stage its own optimizer, one run for the
callbacks, resumable between and inside stages, through `keras-dae train` as well."""

import json
import textwrap
import types

import keras
import numpy as np
import pytest

from keras_dae.training import stages
from keras_dae import training
from tests.recipe_sandbox import trained_weights

STAGED = '''
from keras_dae import datasets, training
from keras_dae.training import stages
from keras_dae.callbacks import SyncDatasetEpoch

EPOCHS = 4
STAGES = [
    stages.Stage(2, lambda steps: training.warmup_cosine_adam(steps, 1e-2, 2), "cosine from 0.01"),
    stages.Stage(2, lambda steps: training.warmup_cosine_adam(steps, 5e-3, 2, ema_momentum=0.9),
                 "cosine from 0.005 with an average"),
]


def fit(model, x_train, x_val, epochs, callbacks, checkpoint_dir=None):
    batches = datasets.ArrayBatches(x_train, batch_size=BATCH_SIZE, seed=SEED)
    return stages.fit_stages(model, batches, stages.scale(STAGES, epochs), checkpoint_dir=checkpoint_dir,
                             validation_data=(x_val,), shuffle=False, verbose=0,
                             callbacks=[SyncDatasetEpoch(batches), *callbacks])
'''


def test_a_staged_run_paused_inside_and_between_stages_equals_an_uninterrupted_one(sandbox, tmp_path):
    sandbox.write_text(sandbox.read_text() + textwrap.dedent(STAGED))
    training.train(sandbox, out=tmp_path / "whole", verbose=0, install=True)
    whole = trained_weights(tmp_path)

    out, pauses = tmp_path / "split", 0
    while True:  # budget 0: a pause after every epoch but a stage's last, i.e. after epochs 1 and 3
        keras.utils.clear_session()  # as a fresh process on another machine would start
        try:
            training.train(sandbox, out=out, verbose=0, install=True, budget_minutes=0)
            break
        except training.TrainingPaused:
            pauses += 1
            assert json.loads((out / "parts.json").read_text())[-1]["epochs"] == 2 * pauses - 1
            if pauses == 2:  # inside stage 2: stage 1 recorded, stage 2's backup kept
                assert json.loads((out / "stages.json").read_text())["stages_done"] == 1
                assert (out / "backup").is_dir()
    assert pauses == 2 and not out.exists()
    split = trained_weights(tmp_path)
    for a, b in zip(whole, split):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    results = json.loads((tmp_path / "zoo" / "conv-tiny-gauss" / "results.json").read_text())
    assert len(results["history"]["loss"]) == 4 and len(results["parts"]) == 3
    card = (tmp_path / "zoo" / "conv-tiny-gauss" / "README.md").read_text()
    assert ("in 2 stages, each with its own optimizer (epochs 1–2: cosine from 0.01; "
            "epochs 3–4: cosine from 0.005 with an average)") in card


def test_stages_are_scaled_to_a_shorter_run_in_proportion():
    make = lambda n: stages.Stage(n, lambda steps: keras.optimizers.Adam())  # noqa: E731
    plan = [make(20), make(10)]
    assert [s.epochs for s in stages.scale(plan, 30)] == [20, 10]
    assert [s.epochs for s in stages.scale(plan, 3)] == [2, 1]
    assert [s.epochs for s in stages.scale(plan, 2)] == [1, 1]
    assert [s.epochs for s in stages.scale(plan, 1)] == [1]
    assert [s.epochs for s in stages.scale(plan, 60)] == [40, 20]
    with pytest.raises(ValueError, match="epochs=0"):
        stages.scale(plan, 0)
    with pytest.raises(ValueError, match="epochs=-1"):
        stages.Stage(-1, keras.optimizers.Adam)
    with pytest.raises(TypeError, match="optimizer="):
        stages.Stage(1, "adam")


def test_a_record_of_other_stages_or_another_model_is_refused(tmp_path):
    def model(width):
        x = keras.Input((3,))
        return keras.Model(x, keras.layers.Dense(width)(x))

    stages.record_stage(model(2), tmp_path, 1, [2, 1])
    with pytest.raises(ValueError, match=r"stages of \[2, 1\] epochs.*Received: stages of \[3, 1\]"):
        stages.finished_stages(model(2), tmp_path, [3, 1])
    with pytest.raises(ValueError, match="recorded from another model"):
        stages.finished_stages(model(4), tmp_path, [2, 1])
    source, target = model(2), model(2)
    stages.record_stage(source, tmp_path, 1, [2, 1])
    assert stages.finished_stages(target, tmp_path, [2, 1]) == 1
    for a, b in zip(source.weights, target.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_a_record_whose_finished_stages_begin_the_plan_continues_it(tmp_path):
    x = keras.Input((3,))
    model = keras.Model(x, keras.layers.Dense(2)(x))
    stages.record_stage(model, tmp_path, 2, [2, 1])
    assert stages.finished_stages(model, tmp_path, [2, 1, 3]) == 2  # a stage added after the end
    stages.record_stage(model, tmp_path, 1, [2, 1])
    assert stages.finished_stages(model, tmp_path, [2, 5]) == 1  # the unfinished stage changed
    with pytest.raises(ValueError, match=r"finished 1 stages of \[2, 1\].*Received: stages of \[1, 1\]"):
        stages.finished_stages(model, tmp_path, [1, 1])
    with pytest.raises(TypeError, match="setup="):
        stages.Stage(1, keras.optimizers.Adam, setup="uniform")


THIRD_STAGE = '''
EPOCHS = 6
STAGES = STAGES + [stages.Stage(
    2, lambda steps: training.warmup_cosine_adam(steps, 2e-3, 2, ema_momentum=0.9), "a third, at σ = 0.3",
    setup=lambda model: model.corruption.set_sigma(0.3))]
'''


def test_a_finished_entry_reopened_with_another_stage_equals_a_run_of_all_three(sandbox, tmp_path):
    two = sandbox.read_text() + textwrap.dedent(STAGED)
    sandbox.write_text(two)
    training.train(sandbox, out=tmp_path / "two", verbose=0, install=True)
    zoo = tmp_path / "zoo" / "conv-tiny-gauss"
    with pytest.raises(ValueError, match="nothing to continue"):  # no stage after the 4 epochs it trained
        training.reopen(sandbox)

    keras.utils.clear_session()
    sandbox.write_text(two + textwrap.dedent(THIRD_STAGE))
    checkpoint = training.reopen(sandbox)
    assert checkpoint == zoo / "checkpoint"
    assert json.loads((checkpoint / "stages.json").read_text())["stages_done"] == 2
    with pytest.raises(ValueError, match="already holds a run in progress"):
        training.reopen(sandbox)
    keras.utils.clear_session()  # a fresh process
    training.train(sandbox, verbose=0, install=True)
    assert not checkpoint.exists()
    reopened = trained_weights(tmp_path)
    results = json.loads((zoo / "results.json").read_text())
    assert results["epochs"] == 6 and len(results["history"]["loss"]) == 6
    assert len(results["parts"]) == 2 and "the end of stage 2" in results["parts"][0]["note"]
    assert keras_dae_load_sigma(tmp_path) == pytest.approx(0.3)  # the third stage's setup, exported

    keras.utils.clear_session()
    training.train(sandbox, out=tmp_path / "three", verbose=0, install=True)
    for a, b in zip(reopened, trained_weights(tmp_path)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def keras_dae_load_sigma(tmp_path):
    import keras_dae

    model = keras_dae.load(str(tmp_path / "weights" / "conv-tiny-gauss.keras"), compile=False)
    return float(keras.ops.convert_to_numpy(model.corruption.sigma_max))


def test_a_one_stage_card_names_its_optimizer_without_counting_stages():
    recipe = types.SimpleNamespace(EPOCHS=2, STAGES=[
        stages.Stage(2, lambda steps: keras.optimizers.Adam(), "Adam, warm-up then cosine from 0.002 to 0")])
    run = {"name": "conv-tiny-gauss", "epochs": 2, "history": {"loss": [0.5, 0.4]}, "hardware": "cpu",
           "train_seconds": 60.0, "keras_version": keras.__version__}
    text = training.recipes._origin(recipe, run)
    assert "final loss 0.4000; Adam, warm-up then cosine from 0.002 to 0." in text
    assert "stages" not in text
    recipe.EPOCHS = 3  # a shorter run than the recipe's says so and does not name the schedule
    assert "Adam" not in training.recipes._origin(recipe, run)
