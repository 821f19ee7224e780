"""`keras-dae demo` and `keras-dae corruptions`: what the library does, on packaged digits."""

def _demo_corruptions():
    from keras_dae import layers

    return [
        ("AdditiveGaussian sigma=0.3", layers.AdditiveGaussian(sigma=0.3)),
        ("AdditiveGaussian sigma~logU[0.01,1]", layers.AdditiveGaussian(sigma_range=(0.01, 1.0), sigma_distribution="log_uniform")),
        ("MaskingNoise rate=0.5", layers.MaskingNoise(rate=0.5)),
        ("SaltAndPepper rate=0.2", layers.SaltAndPepper(rate=0.2)),
        ("GaussianMasking 0.5, sigma=0.5", layers.GaussianMasking(rate=0.5, sigma=0.5)),
        ("BlockMasking 12x12", layers.BlockMasking(block_size=12)),
        ("BlockMasking 4x4, rate 0.3", layers.BlockMasking(block_size=4, rate=0.3)),
        ("Masking 0.25 + Gaussian 0.1", layers.Compose([layers.MaskingNoise(0.25), layers.AdditiveGaussian(sigma=0.1)])),
        ("AdversarialNoise eps=0.15 (PGD)", layers.AdversarialNoise(epsilon=0.15, steps=5)),
    ]


# TV's weight = 0.65 σ: the value the evaluation harness picked on validation digits at
# σ = 0.1, 0.3 and 0.5 (benchmarks/results/classical_mnist.json).
TV_WEIGHT_SCALE = 0.65


def demo(args):
    """The main job: the default zoo model denoises packaged MNIST digits; grid + table."""
    if args.layers:
        return corruption_gallery(args)
    import keras
    import numpy as np

    from keras_dae import assets, evaluation, load, metrics, plotting
    from keras_dae.cli.commands import _positive_floats

    sigmas = _positive_floats(args.sigmas, "--sigmas")
    model = load(args.model)
    images, _ = assets.mnist_test_sample()
    x = images.astype("float32")[..., None] / 255.0
    show = x[: args.num]
    rows, labels = [show], ["clean"]
    table = []
    for sigma in sigmas:
        noisy = evaluation.add_gaussian_noise(x, sigma, args.seed).astype("float32")
        out = np.clip(model.denoise(noisy, sigma=sigma), 0.0, 1.0)
        row = {"noisy": metrics.psnr_numpy(x, noisy),
               args.model: metrics.psnr_numpy(x, out)}
        tv = _tv(noisy, sigma)
        if tv is not None:
            row["total variation"] = metrics.psnr_numpy(x, np.clip(tv, 0.0, 1.0))
        table.append((sigma, {k: float(np.mean(v)) for k, v in row.items()}))
        rows += [noisy[: args.num], out[: args.num]]
        # PIL's default font has no σ, and draws a space one pixel wide: separate with a comma.
        labels += [f"noisy, sigma={sigma:g}", f"denoised, sigma={sigma:g}"]
    path = plotting.save_image_atomic(plotting.image_grid(rows, labels, scale=2), args.out)
    methods = list(table[0][1])
    print(f"{args.model} on {keras.backend.backend()}: {len(x)} packaged MNIST test digits, "
          f"Gaussian noise (NumPy seed {args.seed}), PSNR in dB")
    print(f"{'method':<22}" + "".join(f"{f'σ={s:g}':>9}" for s, _ in table))
    for m in methods:
        print(f"{m:<22}" + "".join(f"{r[m]:>9.2f}" for _, r in table))
    if "total variation" not in methods:
        print("(total variation needs scikit-image: pip install 'keras-dae[eval]')")
    print(f"wrote {path} (clean, then noisy and denoised rows per σ)")
    return 0


def _tv(noisy, sigma):
    try:
        from keras_dae.evaluation import baselines

        return baselines.denoise_tv(noisy, sigma, weight_scale=TV_WEIGHT_SCALE)
    except ImportError:
        return None


def corruption_gallery(args):
    """Corrupts packaged MNIST test digits with every corruption layer; writes a grid."""
    import keras
    import numpy as np

    from keras_dae import assets, plotting

    images, _ = assets.mnist_test_sample()
    x = images[: args.num].astype("float32")[..., None] / 255.0
    # The adversarial row attacks a 3×3 box-blur denoiser: the perturbation that makes a
    # simple smoother's reconstruction worst.
    blur = keras.layers.AveragePooling2D(3, strides=1, padding="same")
    clean = keras.ops.convert_to_tensor(x)

    def blur_loss(v):
        return keras.ops.mean(keras.ops.square(blur(v) - clean))

    rows, labels = [x], ["clean"]
    for i, (label, layer) in enumerate(_demo_corruptions()):
        kwargs = {"loss_fn": blur_loss} if label.startswith("Adversarial") else {}
        rows.append(keras.ops.convert_to_numpy(layer.corrupt(x, seed=args.seed + i, **kwargs)))
        labels.append(label)
    grid = plotting.image_grid(rows, labels, scale=2)
    path = plotting.save_image_atomic(grid, args.out)
    print(f"backend: {keras.backend.backend()}")
    for label, row in zip(labels[1:], rows[1:]):
        print(f"  {label:<34} changed {np.mean(row != x):6.1%} of pixels, MSE {np.mean((row - x) ** 2):.4f}")
    print(f"wrote {path} ({len(rows)} rows × {len(x)} digits)")
    return 0
