"""`keras-dae restore`: plug-and-play restoration of one image file under a known
degradation (`keras_dae.restoration`), with a σ-conditioned zoo model as the prior."""

import os

import numpy as np

from keras_dae.cli.commands import UsageError, _default_model, _inputs, _load_model, _outputs, parse_sigma


def _read_kernel(path, flag):
    if not os.path.isfile(path):
        raise UsageError(f"no such kernel file: {path!r} ({flag} takes a 2-D .npy array)")
    try:
        kernel = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read {flag} {path!r} as a NumPy array: {e}") from None
    return kernel


def restore(args):
    """Deblurs (--blur), upscales (--upscale) or inpaints (--mask) one image file."""
    from keras_dae import imageio
    from keras_dae.restoration import Blur, Downsample, Mask, check_kernel
    from keras_dae.restoration import restore as solve

    chosen = [flag for flag, value in (("--blur", args.blur), ("--upscale", args.upscale), ("--mask", args.mask))
              if value is not None]
    if len(chosen) != 1:
        raise UsageError("give exactly one degradation: --blur KERNEL.npy, --upscale S or --mask MASK.png. "
                         f"Received: {' '.join(chosen) or 'none'}")
    if args.kernel is not None and args.upscale is None:
        raise UsageError("--kernel is the downsampling kernel of --upscale")
    if args.iterations is not None and args.iterations < 1:
        raise UsageError(f"--iterations must be >= 1. Received: --iterations {args.iterations}")
    noise = 0.0 if args.noise is None else parse_sigma(args.noise, flag="--noise")
    files = _inputs_one(args.input)
    [dst] = _outputs(files, args.output, args.input)
    x, bits = imageio.read_image(files[0], return_bits=True, max_pixels=args.max_pixels)
    if x.ndim != 3:
        raise UsageError(f"restore takes one image; {files[0]} holds a stack of {len(x)}")
    try:
        if args.blur is not None:
            operator = Blur(check_kernel(_read_kernel(args.blur, "--blur"), name="--blur"))
        elif args.upscale is not None:
            if args.upscale < 2:
                raise UsageError(f"--upscale must be an integer >= 2. Received: --upscale {args.upscale}")
            kernel = None if args.kernel is None else check_kernel(
                _read_kernel(args.kernel, "--kernel"), name="--kernel", nonnegative=False)
            operator = Downsample(args.upscale, kernel)
            if min(x.shape[:2]) < 8:
                raise UsageError(f"the image ({x.shape[0]}×{x.shape[1]}) is too small to upscale: "
                                 "at least 8×8 pixels")
        else:
            missing = imageio.read_image(args.mask, max_pixels=args.max_pixels)
            if missing.shape[:2] != x.shape[:2]:
                raise UsageError(f"the mask ({missing.shape[0]}×{missing.shape[1]}) must have the image's "
                                 f"size ({x.shape[0]}×{x.shape[1]})")
            operator = Mask((missing.max(axis=-1) > 0.5).astype("float32"))
    except ValueError as e:  # the kernels' checks (shape, sum, sign)
        raise UsageError(str(e).replace("`", "")) from None
    full = operator.image_shape((1,) + x.shape)[1:]
    name = args.model or _default_model(np.zeros(full, "float32"))
    model = _load_model(name)
    out = solve(x, operator, noise, model, iterations=args.iterations)
    imageio.write_image(dst, out, bits=bits, quality=args.quality)
    what = {"--blur": "deblurred", "--upscale": f"upscaled ×{args.upscale}", "--mask": "inpainted"}[chosen[0]]
    print(f"{what} {files[0]} with {name} as the prior → {dst}")
    return 0


def _inputs_one(path):
    files = _inputs(path)
    if len(files) != 1:
        raise UsageError(f"restore takes one image file. Received: a folder of {len(files)} images")
    return files
