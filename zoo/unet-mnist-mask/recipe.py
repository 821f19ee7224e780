"""unet-mnist-mask: a U-Net that fills missing pixels of MNIST digits, told by a mask which.

Retrain and regenerate the card: `keras-dae --backend torch train zoo/unet-mnist-mask --install`
(torch's eager CPU kernels train this U-Net fastest on 2 cores, as for unet-mnist-gauss).
"""

from keras_dae import datasets, evaluation, layers, models, networks, training
from keras_dae.callbacks import SyncDatasetEpoch, ValidationInpaintingPSNR

NAME = "unet-mnist-mask"
DATASET = "mnist"
MASKS = ("block12", "random50")  # the inpainting protocol's masks (evaluation.make_masks)
BACKEND = "torch"    # `keras-dae train` default: fastest end to end for this U-Net on 2 CPU cores
                     # (4.6 s per 1,000 images vs 10.0 TensorFlow, 12.2 JAX; RESULTS.md of 2026-12-01)
EPOCHS = 3           # set by the compute at hand (about 4 min an epoch on 2 cores, torch), not
                     # searched; the validation PSNR of each epoch is in the card
IMAGES_PER_EPOCH = 50_000  # the first 50,000 MNIST training images (the rest: validation)
BATCH_SIZE = 64      # as unet-mnist-gauss: 782 updates an epoch
LEARNING_RATE = 2e-3 # peak of the schedule, as unet-mnist-gauss
WARMUP_STEPS = 200   # linear warm-up, then cosine decay to 0 over the remaining steps
VAL_IMAGES = 2000    # val_loss on 2,000 of the 10,000 validation images (fixed masks)
SEED = 0             # weights, batch order and mask draws
EVAL_SEED = 0        # the NumPy seed of the test masks (same on every backend)

ENTRY = {
    "architecture": "U-Net, widths 32-64-64, one residual block per level, GroupNorm, SiLU; "
                    "input: the masked digit and its mask as two channels",
    "objective": "InpaintingDAE: reconstructs the missing pixels (loss inside the mask); known "
                 "pixels pass through",
    "corruption": "RandomChoice, per digit: one 8×8, 12×12 or 16×16 block, or 25 %, 50 % or 75 % "
                  "of the pixels missing",
    "hf_repo": "keras-dae/unet-mnist-mask",
    "license": "apache-2.0",
    "data_license": "CC BY-SA 3.0",
    "task": "inpainting",
    "description": (
        "Fills the missing pixels of 28×28 MNIST digits in [0, 1] given a mask (1 where a "
        "pixel is missing), holes or scattered pixels: `model.inpaint(digits, mask)`. Trained "
        "on the first 50,000 MNIST training images."
    ),
}


def build():
    network = networks.unet((28, 28, 2), widths=(32, 64, 64), blocks_per_level=1,
                            sigma_conditioning=None, output_channels=1)
    # A general inpainter rather than one for the two protocol masks alone: three hole sizes
    # and three missing rates, equally likely (a design choice, not searched).
    corruption = layers.RandomChoice(
        [layers.BlockMasking(block_size=b) for b in (8, 12, 16)]
        + [layers.MaskingNoise(rate) for rate in (0.25, 0.5, 0.75)],
        seed=SEED)
    return models.InpaintingDAE(network, corruption, name=NAME)


def optimizer(total_steps):
    return training.warmup_cosine_adam(total_steps, LEARNING_RATE, WARMUP_STEPS)


def fit(model, x_train, x_val, epochs, callbacks):
    batches = datasets.ArrayBatches(x_train, batch_size=BATCH_SIZE, seed=SEED)
    # PSNR inside the protocol's masks on 500 validation digits, for choosing on validation.
    psnr = ValidationInpaintingPSNR(x_val[:500], MASKS, seed=1)
    return model.fit(batches, validation_data=(x_val[:VAL_IMAGES],), epochs=epochs, shuffle=False,
                     callbacks=[SyncDatasetEpoch(batches), psnr, *callbacks], verbose=2).history


def evaluate(model, num_images=None):
    result = evaluation.evaluate_inpainting(model, DATASET, masks=MASKS, seed=EVAL_SEED,
                                            num_images=num_images, verbose=False)
    metrics = {}
    for kind in MASKS:
        for method, prefix in ((model.name, ""), ("biharmonic", "biharmonic_"), ("masked", "masked_input_")):
            metrics[f"{prefix}psnr_masked@mask={kind}"] = round(result.value(method, kind, "psnr_masked"), 3)
        metrics[f"psnr@mask={kind}"] = round(result.value(model.name, kind, "psnr"), 3)
    x = datasets.load_mnist("test", num_images=8)[0]
    mask = evaluation.make_masks("block12", x.shape, EVAL_SEED)
    golden = {"x": (x * (1 - mask)).astype("float32"), "mask": mask}
    return metrics, result.to_markdown(), golden
