"""The `keras-dae` command line (also `python -m keras_dae`): its parser and `main`.

The commands themselves are in `keras_dae.cli.commands` (and `demo` in `keras_dae.cli.demo`).
"""

import argparse
import os
import sys

from keras_dae.cli.commands import (
    DEFAULT_MODEL,
    PHOTO_MODEL,
    PHOTO_MODEL_FALLBACK,
    UsageError,
    _one_line,
    denoise,
    evaluate,
    inpaint,
    list_zoo,
    push,
    sample,
    train,
)
from keras_dae.cli.demo import _demo_corruptions as _demo_corruptions
from keras_dae.cli.demo import demo
from keras_dae.cli.export import export
from keras_dae.cli.restore import restore


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-dae",
        description="Denoising autoencoders for Keras 3 on TensorFlow, JAX and PyTorch.",
    )
    parser.add_argument("--backend", choices=("jax", "tensorflow", "torch"),
                        help="Keras backend (default: $KERAS_BACKEND, else the first installed of "
                        "jax, torch, tensorflow)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="say which backend runs and keep the frameworks' start-up notices")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser(
        "demo",
        help="denoise packaged MNIST digits with the default zoo model; PNG grid + PSNR table",
        description="The main job. Loads the default zoo model (its packaged copy: no network), "
        "adds Gaussian noise at each σ to 100 packaged MNIST test digits, denoises them, writes "
        "a PNG grid (clean / noisy / denoised per σ) and prints PSNR against the noisy input and "
        "total-variation denoising. --layers instead writes a grid of every corruption layer.",
        epilog="example: keras-dae --backend jax demo --sigmas 0.1 0.3 0.5 --out outputs/demo.png",
    )
    p.add_argument("--model", default=DEFAULT_MODEL, help="zoo name or path (default: %(default)s)")
    p.add_argument("--sigmas", nargs="+", default=["0.1", "0.3", "0.5"],
                   help="noise levels on [0, 1] (default: 0.1 0.3 0.5)")
    p.add_argument("--out", default="outputs/demo.png", help="PNG to write (default: %(default)s)")
    p.add_argument("--num", type=int, default=12, help="digits per row (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: %(default)s)")
    p.add_argument("--layers", action="store_true",
                   help="write the corruption-layer gallery instead (one row per layer)")
    p.set_defaults(func=demo)

    p = sub.add_parser(
        "denoise", help="denoise image files (PNG, JPEG, TIFF, NPY), one file or a folder",
        description="Denoises images of any size (8/16-bit PNG or TIFF, JPEG, or NPY floats in "
        "[0, 1] / integers 0–255), written at the bit depth they were read with. Without --model, "
        f"28×28 gray digits go to {DEFAULT_MODEL} and other images to the natural-image model "
        f"({PHOTO_MODEL}, else {PHOTO_MODEL_FALLBACK}); colour images through a gray model are "
        "denoised channel by channel. A σ-conditioned model uses --sigma, or estimates σ per "
        "image without it; large images go through in overlapping tiles.",
        epilog="example: keras-dae denoise photo.png clean.png --sigma 0.098   # σ = 25 on 0-255",
    )
    p.add_argument("input", help="an image file or a folder of images")
    p.add_argument("output", help="output file (one input) or folder")
    p.add_argument("--model", help="zoo name or path (default: chosen by image, see above)")
    p.add_argument("--sigma", help="noise level on the image's [0, 1] scale, e.g. 0.098 or 25/255 "
                   "(default: estimated per image)")
    _add_file_options(p)
    p.set_defaults(func=denoise)

    p = sub.add_parser(
        "inpaint", help="fill the masked pixels of image files",
        description="Fills the pixels where MASK is white (> 0.5) and keeps the others. MASK is "
        "one image for all inputs or a folder with one mask per input (same order).",
        epilog="example: keras-dae inpaint digit.png mask.png filled.png --model unet-mnist-mask",
    )
    p.add_argument("input", help="an image file or a folder of images")
    p.add_argument("mask", help="a mask image or a folder of masks (white = missing)")
    p.add_argument("output", help="output file (one input) or folder")
    p.add_argument("--model", default="unet-mnist-mask", help="zoo name or path (default: %(default)s)")
    _add_file_options(p)
    p.set_defaults(func=inpaint)

    p = sub.add_parser(
        "restore", help="deblur, upscale or inpaint an image with a denoiser as the prior",
        description="Plug-and-play restoration (DPIR's half-quadratic splitting): a σ-conditioned "
        "denoiser restores an image under a known degradation. --blur: circular convolution with "
        "a 2-D kernel (.npy, non-negative, summing to 1), as scipy.ndimage.convolve(x, k, "
        "mode='wrap'), plus Gaussian noise of σ --noise; --upscale S: the input is the antialiased "
        "bicubic downscale by S (MATLAB's imresize, Pillow's BICUBIC) and the output is S times "
        "larger (--kernel for another downsampling kernel); --mask: the white pixels of MASK are "
        "missing. Without --model, the prior is the photo denoiser that `denoise` would pick.",
        epilog="examples: keras-dae restore blurry.png sharp.png --blur kernel.npy --noise 2.55/255\n"
        "          keras-dae restore low.png high.png --upscale 2\n"
        "          keras-dae restore holes.png filled.png --mask mask.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", help="the degraded image file")
    p.add_argument("output", help="output file (its extension sets the format)")
    p.add_argument("--blur", metavar="KERNEL.npy", help="deblur: the blur kernel")
    p.add_argument("--noise", help="σ of the noise in the input, on [0, 1] like --sigma (default: 0)")
    p.add_argument("--upscale", type=int, metavar="S", help="super-resolve by the integer factor S >= 2")
    p.add_argument("--kernel", metavar="KERNEL.npy", help="with --upscale: the downsampling kernel "
                   "(default: bicubic)")
    p.add_argument("--mask", metavar="MASK.png", help="inpaint: white (> 0.5) = missing")
    p.add_argument("--model", help="the prior, a σ-conditioned zoo name or path (default: by image)")
    p.add_argument("--iterations", type=int, help="HQS iterations (default: the task's, "
                   "keras_dae.restoration.ITERATIONS)")
    _add_file_options(p)
    p.set_defaults(func=restore)

    p = sub.add_parser(
        "sample", help="draw samples from a model into a PNG grid",
        description="Samples by the model's own sampler: annealed Langevin dynamics with "
        "Tweedie's score for σ-conditioned Gaussian denoisers (unet-mnist-gauss, with the "
        "settings chosen for it on validation digits), the walkback (GSN) corrupt–denoise "
        "chain for the others.",
        epilog="example: keras-dae sample --model unet-mnist-gauss -n 64 samples.png",
    )
    p.add_argument("output", help="PNG to write")
    p.add_argument("--model", default=DEFAULT_MODEL, help="zoo name or path (default: %(default)s)")
    p.add_argument("-n", type=int, default=64, help="number of samples (default: %(default)s)")
    p.add_argument("--steps", type=int, help="model evaluations in all (Langevin: spread over the σ levels); model default if unset")
    p.add_argument("--seed", type=int, default=0, help="seed (default: %(default)s)")
    p.set_defaults(func=sample)

    p = sub.add_parser(
        "train",
        help="retrain a zoo entry from its recipe and regenerate its card",
        description="Trains a zoo recipe, checkpointing every epoch into zoo/<name>/checkpoint "
        "(an interrupted or paused run resumes from there, on this machine or on a fresh clone "
        "with the checkpoint committed), then packages the weights, measures them and "
        "regenerates the model card, the results and the registry entry. Pause cleanly with "
        "--budget-minutes or `touch zoo/<name>/checkpoint/STOP` (exit code 3: paused).",
        epilog="example: nice keras-dae --backend torch train zoo/unet-mnist-gauss --budget-minutes 150 --install",
    )
    p.add_argument("recipe", help="a zoo/<name> folder or its recipe.py")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs (the card says so)")
    p.add_argument("--out", help="checkpoint folder (default: zoo/<name>/checkpoint)")
    p.add_argument("--budget-minutes", type=float,
                   help="pause at the last epoch boundary within this wall-clock budget")
    p.add_argument("--export-dir", help="where the export is staged (default: outputs/zoo/<name>)")
    p.add_argument("--install", action="store_true",
                   help="in a source checkout: replace the packaged weights, card, golden file and "
                   "registry entry (all or none); without it the export goes to outputs/zoo/<name>/")
    p.add_argument("--num-eval-images", type=int, help="evaluate on the first N test images only")
    p.add_argument("--no-export", action="store_true",
                   help="train only (e.g. on a GPU machine); the next run without it measures and exports")
    p.add_argument("--data-parallel", action="store_true",
                   help="split each batch across all local devices (JAX only: keras.distribution)")
    p.set_defaults(func=train)

    p = sub.add_parser(
        "push",
        help="publish a model to the Hugging Face Hub in the Keras layout, with a model card",
        description="Uploads config.json, metadata.json, model.weights.h5 (the packaged bytes "
        "for a registered name) and a generated model card; prints the commit revision.",
        epilog="example: keras-dae push dae-mnist-saltpepper hf://my-org/dae-mnist-saltpepper",
    )
    p.add_argument("model", help="a registered name, a .keras file or a Keras Hub folder")
    p.add_argument("target", help="hf://org/repo")
    p.add_argument("--card", help="Markdown file used as the model card (default: generated)")
    p.add_argument("--eval", help="Markdown evaluation table for the generated card")
    p.add_argument("--private", action="store_true", help="create the repository private")
    p.add_argument("--message", help="commit message")
    p.set_defaults(func=push)

    p = sub.add_parser(
        "export", help="export a denoiser for serving: ONNX (onnxruntime) or a TensorFlow SavedModel",
        description="Writes the model's denoise (inpaint for an inpainting model), not the raw "
        "network, as one graph through Keras' export. Inputs: x, the image batch (N, H, W, C) "
        "float32 in the model's value range (H and W free for fully convolutional models such as "
        "DnCNN), then sigma (N,), one σ per image, for a σ-conditioned model, or mask (like x, 1 = "
        "missing) for an inpainting model; output: the denoised batch (`denoised`; `inpainted`). "
        "ONNX export needs `pip install 'keras-dae[export]'` ([export-jax] on JAX); a SavedModel "
        "is exported on the tensorflow or jax backend. The file or folder appears only once complete.",
        epilog="examples: keras-dae export dncnn-bsd400-gauss dncnn.onnx\n"
        "          keras-dae --backend tensorflow export unet-mnist-gauss unet-serving --format saved_model",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="a zoo name or path of a denoiser")
    p.add_argument("output", help="OUT.onnx (replaced if it exists), or with --format saved_model "
                   "the SavedModel folder to create")
    p.add_argument("--format", default="onnx", metavar="{onnx,saved_model}",
                   help="onnx (default) or saved_model (TensorFlow SavedModel, endpoint `serve`)")
    p.set_defaults(func=export)

    p = sub.add_parser(
        "list", help="list the registered zoo models",
        description="Lists the registry: name, whether the weights ship in the package, "
        "Hub repository and pinned revision.",
        epilog="example: keras-dae list 'unet-*'",
    )
    p.add_argument("pattern", nargs="?", help="fnmatch pattern, e.g. 'unet-*'")
    p.set_defaults(func=list_zoo)

    p = sub.add_parser(
        "eval", add_help=False,
        help="evaluate a model against the noisy input and classical denoisers (see eval --help)",
        description="The evaluation harness (keras_dae.evaluation): same arguments.",
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=evaluate)
    return parser


def _add_file_options(p):
    p.add_argument("--quality", type=int, default=95, choices=range(1, 101), metavar="1-100",
                   help="JPEG/WebP quality of the output files (default: %(default)s)")
    p.add_argument("--max-pixels", type=int, metavar="N",
                   help="read images of up to N pixels (default: Pillow's limit, ~179 million)")


# The commands that run no model: they import no framework.
_NO_FRAMEWORK = {None, "list"}


def _start_framework(verbose):
    """Imports Keras (and its backend) for a command that runs a model: quietly unless
    `verbose`, and with one line on what to install when no backend is."""
    from keras_dae import startup

    backend = startup.choose_backend()
    if backend is None:
        raise UsageError(startup.INSTALL_HINT)
    if verbose:
        print(f"keras-dae: Keras backend {backend} (--backend or $KERAS_BACKEND to choose)", file=sys.stderr)
        import keras  # noqa: F401
        return
    startup.quiet_environment()
    with startup.silenced_stderr():
        import keras  # noqa: F401


def _switch_backend(name):
    """Re-executes this command under `name`: Keras reads KERAS_BACKEND once, at import."""
    if os.environ.get("KERAS_BACKEND") == name or os.environ.get("_KERAS_DAE_REEXEC"):
        return
    env = {**os.environ, "KERAS_BACKEND": name, "_KERAS_DAE_REEXEC": "1"}
    os.execve(sys.executable, [sys.executable, "-m", "keras_dae", *sys.argv[1:]], env)


def _recipe_backend(recipe):
    """The `BACKEND` a recipe declares (the one measured to train it fastest), read from its
    source without running it (the backend must be chosen before Keras is imported)."""
    import ast

    path = os.path.join(recipe, "recipe.py") if os.path.isdir(recipe) else recipe
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return None  # `train` reports the recipe's problem itself
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "BACKEND" for t in node.targets)
                and isinstance(node.value, ast.Constant) and node.value.value in ("jax", "tensorflow", "torch")):
            return node.value.value
    return None


def main(argv=None):
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "command", None) == "eval":
        args.rest = extra + args.rest
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if (getattr(args, "command", None) == "train" and not args.backend and "KERAS_BACKEND" not in os.environ
            and (fastest := _recipe_backend(args.recipe))):
        # Neither --backend nor $KERAS_BACKEND: the recipe's measured fastest backend.
        print(f"keras-dae: training on {fastest}, the recipe's BACKEND (--backend to choose another)",
              file=sys.stderr)
        args.backend = fastest
    if args.backend:
        _switch_backend(args.backend)
    if not args.command:
        parser.print_help()
        return 2
    if getattr(args, "num", 1) < 1:
        parser.error(f"--num must be >= 1. Received: --num={args.num}")
    try:
        if args.command not in _NO_FRAMEWORK:
            _start_framework(args.verbose)
        return args.func(args)
    except (UsageError, FileNotFoundError, ValueError, KeyError) as e:
        # bad usage or input: unknown model, missing file, wrong shape or range
        print(f"keras-dae: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"keras-dae: error: {_one_line(e)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
