"""Settings of the MNIST recipes, compared on the validation split (never the test set).

Each comparison trains a recipe's own model (`build()`, data, batch size) under the
alternatives and scores them on the 10,000 validation digits (the last 10,000 MNIST training
images; the recipes train on the first 50,000):

- `saltpepper-schedule`: `dae-mnist-saltpepper` with Adam at a constant rate against the
  recipe's cosine decay to 0, each for the recipe's `EPOCHS`; validation PSNR of the
  denoised digits at the recipe's rate (NumPy corruption, seed 1), every 10 epochs.
- `finetune-batch`: `sdae-mnist-mask-classifier` fine-tuned at batch 64 / 16 / 8 / 4 (each with
  its SGD rate) for the recipe's `EPOCHS`; the best validation accuracy over the run.
- `sdae-epochs`: `sdae-mnist-mask` pretrained with 10 and with 30 epochs per layer; on
  validation: PSNR of the reconstruction of masked digits (ν of the recipe, seed 1) and the
  linear-probe accuracy of the top code (logistic regression fitted on the first 10,000
  training images).
- `unet-sigma-stage`: `unet-mnist-gauss` as packaged (stages 1–2, σ log-uniform) trained for
  a third stage of `UNET_STAGE_EPOCHS` (a fresh Adam, warm-up then cosine from
  `UNET_STAGE_RATE`, average of the weights) with σ drawn log-uniformly as before (more of
  the same training) or uniformly on the same range (the PyTorch peer's choice: more draws
  at high σ); validation PSNR at σ = 0.1 / 0.3 / 0.5 of every epoch (500 digits, as the
  recipe logs) and of the end (all 10,000), against the packaged model's.
- `unet-weighting-stage`: the same third stage with each example's loss weighted by σ²
  (`ResidualDAE(loss_weighting="output")`: the squared error of the denoised output instead
  of the noise's, so more of the gradient goes to high σ), σ drawn log-uniformly or uniformly.
- `unet-batch`: `unet-mnist-gauss`'s model from scratch for `UNET_BATCH_EPOCHS` epochs at
  batch 64 (the recipe's), 128 and 256, the rate scaled with the batch; validation PSNR at
  σ = 0.1 / 0.3 / 0.5 per epoch (500 digits) and at the end (all 10,000), and images/s.
- `unet-candidate`: a finished candidate run of `unet-mnist-gauss` (`zoo/unet-mnist-gauss/next/`,
  its `checkpoint/trained.keras`) against the packaged model, before it may replace it: PSNR
  at σ = 0.1 / 0.3 / 0.5 on all 10,000 validation digits, and the two runs' validation per
  epoch (500 digits, `tools/compare_runs.py`).

Each comparison writes `benchmarks/results/choices_mnist_<name>.{json,md}`; the recipes'
comments quote them.

    KERAS_BACKEND=jax python benchmarks/choices_mnist.py saltpepper-schedule
    KERAS_BACKEND=jax python benchmarks/choices_mnist.py sdae-epochs
    KERAS_BACKEND=jax python benchmarks/choices_mnist.py finetune-batch
    KERAS_BACKEND=torch python benchmarks/choices_mnist.py unet-sigma-stage
    KERAS_BACKEND=torch python benchmarks/choices_mnist.py unet-weighting-stage
    KERAS_BACKEND=torch python benchmarks/choices_mnist.py unet-batch
    KERAS_BACKEND=torch python benchmarks/choices_mnist.py unet-candidate
"""

import argparse
import pathlib
import sys
import time

import keras_dae

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
VAL_SEED = 1  # the NumPy seed of the validation corruptions (the recipes' test seed is 0)


def _data(fast):
    from keras_dae.datasets import load_mnist

    n_train, n_val = (512, 128) if fast else (None, None)
    return load_mnist("train", num_images=n_train), load_mnist("val", num_images=n_val)


def saltpepper_schedule(fast):
    import keras
    import numpy as np

    from keras_dae import datasets, metrics
    from keras_dae.callbacks import SyncDatasetEpoch
    from keras_dae.training import load_recipe

    recipe = load_recipe(ROOT / "zoo" / "dae-mnist-saltpepper")
    (x_train, _), (x_val, _) = _data(fast)
    noisy_val = recipe.corrupt(x_val, recipe.RATE, seed=VAL_SEED)
    epochs, every = (2, 1) if fast else (recipe.EPOCHS, 10)
    steps = epochs * -(-len(x_train) // recipe.BATCH_SIZE)
    alternatives = {
        "constant": lambda: keras.optimizers.Adam(recipe.LEARNING_RATE),
        "cosine (the recipe)": lambda: recipe.optimizer(steps),
    }
    rows = {}
    for label, make in alternatives.items():
        keras_dae.set_random_seed(recipe.SEED)  # the same initial weights and noise for each
        model = recipe.build()
        model.compile(optimizer=make())
        curve = {}

        class Score(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if (epoch + 1) % every == 0:
                    out = np.clip(self.model.denoise(noisy_val), 0.0, 1.0)
                    curve[epoch + 1] = float(metrics.psnr_numpy(x_val, out).mean())
                    print(f"{label}: epoch {epoch + 1}: {curve[epoch + 1]:.3f} dB", flush=True)

        batches = datasets.ArrayBatches(x_train, batch_size=recipe.BATCH_SIZE, seed=recipe.SEED)
        start = time.perf_counter()
        model.fit(batches, epochs=epochs, shuffle=False, verbose=0,
                  callbacks=[SyncDatasetEpoch(batches), Score()])
        rows[label] = {"validation_psnr": curve, "seconds": round(time.perf_counter() - start, 1)}
    marks = sorted(next(iter(rows.values()))["validation_psnr"])
    lines = ["| learning rate | " + " | ".join(f"epoch {e}" for e in marks) + " |",
             "|---|" + "---|" * len(marks)]
    lines += [f"| {label} | " + " | ".join(f"{r['validation_psnr'][e]:.2f}" for e in marks) + " |"
              for label, r in rows.items()]
    lines += ["", f"`dae-mnist-saltpepper` ({recipe.build().count_params():,} parameters), Adam peak "
              f"{recipe.LEARNING_RATE:g}, batch {recipe.BATCH_SIZE}, {len(x_train):,} training digits; "
              f"validation PSNR (dB) of {len(x_val):,} validation digits with salt-and-pepper noise "
              f"at rate {recipe.RATE} (NumPy seed {VAL_SEED}), outputs clipped, per image, averaged."]
    return {"rows": rows, "epochs": epochs}, "\n".join(lines)


def sdae_epochs(fast):
    import keras
    import numpy as np

    from keras_dae import metrics
    from keras_dae.evaluation.probe import linear_probe
    from keras_dae.training import load_recipe

    recipe = load_recipe(ROOT / "zoo" / "sdae-mnist-mask")
    (x_train, y_train), (x_val, y_val) = _data(fast)
    masked_val = recipe.mask(x_val, seed=VAL_SEED)
    probe_n = 200 if fast else 10_000
    widths = (784, 32, 16) if fast else (784, 1000, 1000, 1000)
    rows = {}
    for epochs in ((1, 2) if fast else (10, 30)):
        keras_dae.set_random_seed(recipe.SEED)
        model = recipe.build(widths=widths)
        start = time.perf_counter()
        model.pretrain(x_train, epochs_per_layer=epochs, batch_size=recipe.BATCH_SIZE,
                       optimizer=lambda: keras.optimizers.Adam(recipe.LEARNING_RATE))
        seconds = time.perf_counter() - start
        recon = np.clip(model.denoise(masked_val), 0.0, 1.0)
        accuracy = linear_probe(model.encoder, x_train[:probe_n], y_train[:probe_n], x_val, y_val,
                                max_iter=100 if fast else 1000)
        rows[epochs] = {"validation_psnr": float(metrics.psnr_numpy(x_val, recon).mean()),
                        "probe_accuracy": float(accuracy), "seconds": round(seconds, 1)}
        print(f"{epochs} epochs per layer: {rows[epochs]}", flush=True)
    lines = ["| epochs per layer | masked-digit PSNR (dB) | linear-probe accuracy | pretraining time |",
             "|---|---|---|---|"]
    lines += [f"| {e} | {r['validation_psnr']:.2f} | {100 * r['probe_accuracy']:.2f} % | {r['seconds'] / 60:.1f} min |"
              for e, r in rows.items()]
    lines += ["", f"`sdae-mnist-mask` ({'-'.join(map(str, widths))}), greedy pretraining, Adam "
              f"{recipe.LEARNING_RATE:g}, batch {recipe.BATCH_SIZE}, {len(x_train):,} training digits; "
              f"scored on {len(x_val):,} validation digits: reconstruction of digits masked with "
              f"ν = {recipe.NU} (NumPy seed {VAL_SEED}), and a logistic-regression probe of the top code "
              f"fitted on the first {probe_n:,} training digits."]
    return {"rows": {str(k): v for k, v in rows.items()}}, "\n".join(lines)


# The fine-tuning batch sizes compared, each with the SGD rate that trained it
# (64 and 16: 0.1 as in the paper's range; smaller batches take smaller steps).
FINETUNE_BATCHES = ((64, 0.1), (16, 0.1), (8, 0.05), (4, 0.025))


def finetune_batch(fast):

    from keras_dae.training import load_recipe

    recipe = load_recipe(ROOT / "zoo" / "sdae-mnist-mask-classifier")
    (x_train, y_train), (x_val, y_val) = _data(fast)
    epochs = 1 if fast else recipe.EPOCHS
    rows = {}
    for batch_size, learning_rate in (FINETUNE_BATCHES[::3] if fast else FINETUNE_BATCHES):
        keras_dae.set_random_seed(recipe.SEED)
        model = recipe.build()  # the packaged pretrained stack under a fresh head
        start = time.perf_counter()
        result = recipe.fit(model, x_train, x_val, epochs, [], (y_train, y_val),
                            learning_rate=learning_rate, batch_size=batch_size, verbose=0)
        rows[batch_size] = {"learning_rate": learning_rate, "best_val_accuracy": max(result["val_accuracy"]),
                            "best_epoch": result["best_epoch"][0], "val_accuracy": result["val_accuracy"],
                            "seconds": round(time.perf_counter() - start, 1)}
        print(f"batch {batch_size}: {rows[batch_size]['best_val_accuracy']:.4f}", flush=True)
    lines = ["| fine-tuning batch | SGD rate | best validation accuracy | at epoch | time |",
             "|---|---|---|---|---|"]
    lines += [f"| {b} | {r['learning_rate']:g} | {100 * r['best_val_accuracy']:.2f} % | {r['best_epoch']} | "
              f"{r['seconds'] / 60:.1f} min |" for b, r in rows.items()]
    lines += ["", f"`sdae-mnist-mask-classifier`: the packaged `sdae-mnist-mask` stack under a softmax head "
              f"(seed {recipe.SEED}), fine-tuned {epochs} epochs (SGD, momentum {recipe.MOMENTUM:g}, cosine "
              f"decay to 0) on {len(x_train):,} training digits; the best epoch's accuracy on "
              f"{len(x_val):,} validation digits."]
    return {"rows": {str(k): v for k, v in rows.items()}, "epochs": epochs}, "\n".join(lines)


# The third stage tried on `unet-mnist-gauss` (as packaged on 2026-12-02: 30 epochs in two
# stages, the second a restart at 5e-4 averaging its weights at momentum 0.999): set by
# compute (three epochs take ~17 min on 2 cores), at half stage 2's restart rate since it
# starts from stage 2's average, averaging as stage 2 did.
UNET_STAGE_EPOCHS, UNET_STAGE_RATE, UNET_STAGE_EMA = 3, 2.5e-4, 0.999


def unet_sigma_stage(fast):
    return _unet_stage(fast, {"σ log-uniform": ("log_uniform", "noise"), "σ uniform": ("uniform", "noise")})


def unet_weighting_stage(fast):
    return _unet_stage(fast, {"σ log-uniform, loss × σ²": ("log_uniform", "output"),
                              "σ uniform, loss × σ²": ("uniform", "output")})


def _unet_scorer(recipe, x_val):
    """PSNR at the recipe's σ on all of `x_val`, the evaluation protocol (σ given, clipped)."""
    import numpy as np

    from keras_dae import evaluation, metrics

    noisy = {s: evaluation.add_gaussian_noise(x_val, s, VAL_SEED) for s in recipe.SIGMAS}
    return lambda model: {
        f"{s:g}": float(metrics.psnr_numpy(x_val, np.clip(model.denoise(noisy[s], sigma=s), 0, 1)).mean())
        for s in recipe.SIGMAS}


def _psnr_table(recipe, rows, first_column):
    lines = [f"| {first_column} | " + " | ".join(f"σ = {s:g}" for s in recipe.SIGMAS) + " |",
             "|---|" + "---|" * len(recipe.SIGMAS)]
    return lines + [f"| {label} | " + " | ".join(f"{r['validation_psnr'][f'{s:g}']:.3f}" for s in recipe.SIGMAS)
                    + " |" for label, r in rows.items()]


def _unet_recipe(fast):
    """`unet-mnist-gauss`'s recipe; `fast` (tests): building the one-level U-Net of
    `speed.quick_unet`, so that a test of the comparisons' code does not pay for compiling
    the recipe's network."""
    from keras_dae import training

    recipe = training.load_recipe(ROOT / "zoo" / "unet-mnist-gauss")
    if not fast:
        return recipe
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from speed import quick_unet

    return quick_unet(recipe)


def _unet_stage(fast, arms):
    """A third stage of `unet-mnist-gauss` under each arm, label: (σ distribution, loss weighting);
    `fast` (tests): the first arm only, as each arm runs the same code, on an untrained
    one-level U-Net."""

    import keras_dae
    from keras_dae import datasets, training
    from keras_dae.training import stages
    from keras_dae.callbacks import SyncDatasetEpoch, ValidationPSNR

    recipe = _unet_recipe(fast)
    (x_train, _), (x_val, _) = _data(fast)
    epochs = 1 if fast else UNET_STAGE_EPOCHS
    score = _unet_scorer(recipe, x_val)
    rows = {"packaged (stages 1-2)": {"validation_psnr": score(keras_dae.load(recipe.NAME))}}
    print(rows, flush=True)
    for label, (distribution, weighting) in list(arms.items())[:1 if fast else None]:
        keras_dae.set_random_seed(recipe.SEED)
        model = recipe.build() if fast else keras_dae.load(recipe.NAME)  # fast: an untrained stand-in
        model.corruption.sigma_distribution = distribution
        model.loss_weighting = weighting
        batches = datasets.ArrayBatches(x_train, batch_size=recipe.BATCH_SIZE, seed=recipe.SEED)
        stage = stages.Stage(epochs, lambda steps: training.warmup_cosine_adam(
            steps, UNET_STAGE_RATE, min(recipe.WARMUP_STEPS, steps // 2), ema_momentum=UNET_STAGE_EMA))
        start = time.perf_counter()
        history = stages.fit_stages(model, batches, [stage], shuffle=False, verbose=2, callbacks=[
            SyncDatasetEpoch(batches), ValidationPSNR(x_val[:500], recipe.SIGMAS, seed=VAL_SEED)])
        rows[f"+ {epochs} epochs, {label}"] = {
            "validation_psnr": score(model), "seconds": round(time.perf_counter() - start, 1),
            "per_epoch": {k: v for k, v in history.items() if "psnr" in k}}
        print(rows, flush=True)
    lines = _psnr_table(recipe, rows, "model")
    lines += ["", f"`unet-mnist-gauss` as packaged, trained {epochs} more epochs on {len(x_train):,} digits "
              f"(batch {recipe.BATCH_SIZE}, a fresh Adam: warm-up then cosine from {UNET_STAGE_RATE:g} to 0, "
              f"ending with the moving average of its weights, momentum {UNET_STAGE_EMA:g}), σ in "
              f"{recipe.SIGMA_RANGE} drawn as named, each example's ε-loss weighted as named (none: "
              f"||ε̂ − ε||², the recipe's; × σ²: ||x̂ − x||²); validation PSNR (dB) of {len(x_val):,} validation digits "
              f"with Gaussian noise (NumPy seed {VAL_SEED}), σ given, outputs clipped, per image, averaged."]
    return {"rows": rows, "epochs": epochs}, "\n".join(lines)


# Batch sizes compared for the U-Net recipe from scratch over the same images, Adam's peak rate
# scaled by √(batch / 64) from the recipe's (the usual rule for Adam) and the warm-up kept at the
# recipe's number of images; two epochs, set by compute (~25 min for the three on 2 cores).
UNET_BATCHES, UNET_BATCH_EPOCHS = (64, 128, 256), 2


def unet_batch(fast):
    import math


    from keras_dae import datasets, training
    from keras_dae.training import stages
    from keras_dae.callbacks import SyncDatasetEpoch, ValidationPSNR

    recipe = _unet_recipe(fast)
    (x_train, _), (x_val, _) = _data(fast)
    epochs = 1 if fast else UNET_BATCH_EPOCHS
    score = _unet_scorer(recipe, x_val)
    rows = {}
    for batch_size in UNET_BATCHES[1:2] if fast else UNET_BATCHES:  # fast (tests): one, with a scaled rate
        keras_dae.set_random_seed(recipe.SEED)
        model = recipe.build()
        rate = recipe.LEARNING_RATE * math.sqrt(batch_size / recipe.BATCH_SIZE)
        steps = epochs * -(-len(x_train) // batch_size)
        warmup = min(recipe.WARMUP_STEPS * recipe.BATCH_SIZE // batch_size, steps // 2)
        batches = datasets.ArrayBatches(x_train, batch_size=batch_size, seed=recipe.SEED)
        stage = stages.Stage(epochs, lambda n, rate=rate, warmup=warmup: training.warmup_cosine_adam(n, rate, warmup))
        start = time.perf_counter()
        history = stages.fit_stages(model, batches, [stage], shuffle=False, verbose=2, callbacks=[
            SyncDatasetEpoch(batches), ValidationPSNR(x_val[:500], recipe.SIGMAS, seed=VAL_SEED)])
        seconds = time.perf_counter() - start
        rows[f"{batch_size} (Adam {rate:.2g})"] = {
            "batch_size": batch_size, "learning_rate": rate, "validation_psnr": score(model),
            "seconds": round(seconds, 1), "images_per_second": round(epochs * len(x_train) / seconds, 1),
            "per_epoch": {k: v for k, v in history.items() if "psnr" in k}}
        print(rows, flush=True)
    lines = _psnr_table(recipe, rows, "batch (peak rate)")
    lines[0] += " training time |"
    lines[1] += "---|"
    lines[2:] = [line + f" {r['seconds'] / 60:.1f} min ({r['images_per_second']:.0f} images/s) |"
                 for line, r in zip(lines[2:], rows.values())]
    lines += ["", f"`unet-mnist-gauss`'s network and objective from scratch (seed {recipe.SEED}), {epochs} "
              f"epochs of {len(x_train):,} digits at each batch size: Adam, linear warm-up over "
              f"{recipe.WARMUP_STEPS * recipe.BATCH_SIZE:,} images then cosine to 0, the peak rate "
              f"{recipe.LEARNING_RATE:g} × √(batch / {recipe.BATCH_SIZE}); validation PSNR (dB) of {len(x_val):,} "
              f"validation digits with Gaussian noise (NumPy seed {VAL_SEED}), σ given, outputs clipped, per "
              f"image, averaged; training time includes the per-epoch validation of 500 digits."]
    return {"rows": rows, "epochs": epochs}, "\n".join(lines)


# The candidate run judged by `unet-candidate` (trained with `--no-export`, so its model waits
# in its checkpoint folder beside the per-epoch log).
UNET_CANDIDATE = ROOT / "zoo" / "unet-mnist-gauss" / "next" / "checkpoint"


def unet_candidate(fast):
    import runpy

    import keras

    import keras_dae
    from keras_dae import training

    recipe = training.load_recipe(ROOT / "zoo" / "unet-mnist-gauss")
    _, (x_val, _) = _data(fast)
    score = _unet_scorer(recipe, x_val)
    if fast:  # tests: an untrained (one-level) model stands in for a finished run
        keras_dae.set_random_seed(recipe.SEED)
        candidate = _unet_recipe(fast).build()
    else:
        candidate = keras.saving.load_model(UNET_CANDIDATE / training.TRAINED_FILE)
    rows = {"packaged": {"validation_psnr": score(keras_dae.load(recipe.NAME))},
            "candidate": {"validation_psnr": score(candidate)}}
    rows["difference"] = {"validation_psnr": {s: rows["candidate"]["validation_psnr"][s] - v
                                              for s, v in rows["packaged"]["validation_psnr"].items()}}
    print(rows, flush=True)
    lines = _psnr_table(recipe, rows, "model")
    lines += ["", f"`unet-mnist-gauss` as packaged against the candidate run's final model "
              f"(`{UNET_CANDIDATE.relative_to(ROOT)}/{training.TRAINED_FILE}`); validation PSNR (dB) of "
              f"{len(x_val):,} validation digits with Gaussian noise (NumPy seed {VAL_SEED}), σ given, "
              f"outputs clipped, per image, averaged."]
    log, published = UNET_CANDIDATE / "log.csv", ROOT / "zoo" / "unet-mnist-gauss" / "results.json"
    if not fast and log.is_file():
        compare = runpy.run_path(str(ROOT / "tools" / "compare_runs.py"))
        lines += ["", "Per epoch, on the 500 validation digits each run logged (reference: the packaged "
                  "model's run; Δ: candidate − reference):", "",
                  compare["table"](compare["history"](log), compare["history"](published))]
    return {"rows": rows}, "\n".join(lines)


COMPARISONS = {"saltpepper-schedule": saltpepper_schedule, "sdae-epochs": sdae_epochs,
               "finetune-batch": finetune_batch, "unet-sigma-stage": unet_sigma_stage,
               "unet-weighting-stage": unet_weighting_stage, "unet-batch": unet_batch,
               "unet-candidate": unet_candidate}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("comparison", choices=sorted(COMPARISONS))
    parser.add_argument("--fast", action="store_true", help="tiny data and budget (tests)")
    parser.add_argument("--results", default=None, help="output path without extension")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    import keras

    from keras_dae.utils import write_results

    summary, markdown = COMPARISONS[args.comparison](args.fast)
    summary.update(backend=keras.backend.backend(), comparison=args.comparison, fast=args.fast,
                   date=time.strftime("%Y-%m-%d %H:%M"))
    markdown += (f"\n\n`KERAS_BACKEND={keras.backend.backend()} python benchmarks/choices_mnist.py "
                 f"{args.comparison}`, {summary['date']}.")
    print(markdown)
    base = args.results or RESULTS / f"choices_mnist_{args.comparison.replace('-', '_')}"
    for path in write_results(base, summary, markdown):
        print("wrote", path)


if __name__ == "__main__":
    main()
