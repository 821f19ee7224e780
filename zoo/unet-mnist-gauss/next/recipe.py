"""unet-mnist-gauss, candidate recipe: the same U-Net with 128 channels at its lowest level.

Why: the published 32-64-64 network's (0.65 M parameters) validation PSNR had flattened by
the end of its 30 epochs (+0.001 dB an epoch at σ = 0.5; its card), so more epochs of it buy
little, and high noise leans on the coarse level's view of the whole digit. 128 channels at
7×7 (1.45 M parameters) add about a third to the convolutions' multiply-adds, against 2.25×
for 48-96-96 (the run's log gives the measured epoch time).

How it is judged, on validation only: the same two stages, data order and seeds as the
published recipe, with an average of the weights kept from the start (it does not change
the trajectory of the trained weights). So `val_raw_psnr@sigma=*` of this run's log
compares with the published card's stage-1 figures epoch by epoch (the capacity), and
`val_psnr@sigma=*` against `val_raw_psnr@sigma=*` measures what the average gains. If it ends
ahead on validation, this file replaces `../recipe.py` and its checkpoint moves with it:

    nice keras-dae --backend torch train zoo/unet-mnist-gauss/next --no-export --budget-minutes 100

(`--no-export`: the test set is scored only once the choice is made, by the export.)
"""

import pathlib

from keras_dae import datasets, layers, models, networks, stages, training
from keras_dae.callbacks import SyncDatasetEpoch, ValidationPSNR

NAME = "unet-mnist-gauss"
DATASET = "mnist"
SIGMA_RANGE = (0.01, 1.0)
BACKEND = "torch"
WIDTHS = (32, 64, 128)
EPOCHS = 30
BATCH_SIZE = 64
LEARNING_RATE = 2e-3
WARMUP_STEPS = 200
RESTART_LEARNING_RATE = 5e-4
EMA = 0.999          # kept in both stages; each stage ends with the average
VAL_IMAGES = 2000
SEED = 0
EVAL_SEED = 0
SIGMAS = (0.1, 0.3, 0.5)

PUBLISHED = training.load_recipe(pathlib.Path(__file__).resolve().parents[1])  # ../recipe.py
ENTRY = {**PUBLISHED.ENTRY,
         "architecture": f"U-Net, widths {'-'.join(map(str, WIDTHS))}, one residual block per level, GroupNorm, "
                         "SiLU, FiLM σ-conditioning from a sinusoidal embedding (1.45 M parameters)"}


def build():
    network = networks.unet((28, 28, 1), widths=WIDTHS, blocks_per_level=1,
                            sigma_conditioning="film", embedding_dim=64)
    corruption = layers.AdditiveGaussian(sigma_range=SIGMA_RANGE, sigma_distribution="log_uniform",
                                         seed=SEED)
    return models.ResidualDAE(network, corruption, value_range=(0.0, 1.0), name=NAME)


STAGES = [
    stages.Stage(20, lambda steps: training.warmup_cosine_adam(steps, LEARNING_RATE, WARMUP_STEPS, ema_momentum=EMA),
                 f"Adam, warm-up then cosine from {LEARNING_RATE:g} to 0, ending with the moving average "
                 f"of its weights (momentum {EMA:g})"),
    stages.Stage(10, lambda steps: training.warmup_cosine_adam(steps, RESTART_LEARNING_RATE, WARMUP_STEPS,
                                                               ema_momentum=EMA),
                 f"a fresh Adam, warm-up then cosine from {RESTART_LEARNING_RATE:g} to 0, ending with the "
                 f"moving average of its weights (momentum {EMA:g})"),
]


def optimizer(total_steps):
    return STAGES[0].optimizer(total_steps)


def fit(model, x_train, x_val, epochs, callbacks, checkpoint_dir=None):
    batches = datasets.ArrayBatches(x_train, batch_size=BATCH_SIZE, seed=SEED)
    psnr = ValidationPSNR(x_val[:500], SIGMAS, seed=1)  # the published card's validation figures
    return stages.fit_stages(model, batches, stages.scale(STAGES, epochs), checkpoint_dir=checkpoint_dir,
                             validation_data=(x_val[:VAL_IMAGES],), shuffle=False,
                             callbacks=[SyncDatasetEpoch(batches), psnr, *callbacks], verbose=2)


def evaluate(model, num_images=None):
    return PUBLISHED.evaluate(model, num_images)  # the same protocol and table
