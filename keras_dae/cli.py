"""The `keras-dae` command line (also `python -m keras_dae`)."""

import argparse
import os
import sys

import numpy as np

from keras_dae.cli_demo import _demo_corruptions as _demo_corruptions
from keras_dae.cli_demo import demo


class UsageError(Exception):
    """Bad usage or input: a one-line message and exit code 2."""


DEFAULT_MODEL = "unet-mnist-gauss"
# Images that are not 28×28 gray digits go to the natural-image denoiser (σ given or
# estimated); the converted DnCNN-S σ = 25 until keras-dae's own is trained.
PHOTO_MODEL = "dncnn-bsd400-gauss"
PHOTO_MODEL_FALLBACK = "dncnn-bsd400-gauss25"
def _positive_floats(values, flag):
    out = []
    for v in values:
        try:
            f = float(v)
        except ValueError:
            f = float("nan")
        if not f > 0:
            raise UsageError(f"{flag} must be positive numbers. Received: {flag} {v}")
        out.append(f)
    return out


def _load_model(name):
    from keras_dae import load

    try:
        return load(name)
    except KeyError as e:
        raise UsageError(str(e).strip("'\"")) from None


def _fit_shape(model, x, path):
    """`x` as a batch `(N, H, W, C)` the model accepts, or a one-line usage error."""
    want = model.example_shape
    batch = x if x.ndim == len(want) + 1 else x[None]
    got = tuple(batch.shape[1:])
    fixed = all(w is None or w == g for w, g in zip(want, got)) and len(want) == len(got)
    if not fixed and len(want) == 1 and int(np.prod(got)) == want[0]:
        return batch.reshape(len(batch), -1)
    if not fixed:
        raise UsageError(f"image of shape {got} does not fit model input {want}")
    return batch


def _photo_model():
    from keras_dae import registry

    return PHOTO_MODEL if PHOTO_MODEL in registry.list_models() else PHOTO_MODEL_FALLBACK


def _default_model(x):
    """The zoo model for an image when --model is not given: the MNIST U-Net for 28×28 gray
    digits, the natural-image denoiser for anything else."""
    return DEFAULT_MODEL if tuple(x.shape[-3:]) == (28, 28, 1) else _photo_model()


def _per_channel(model, x):
    """A colour image for a gray model: its channels as a batch of gray images."""
    gray = model.example_shape[-1] == 1
    return gray and x.ndim == 3 and x.shape[-1] == 3


def denoise(args):
    """Denoises image files (PNG, JPEG, TIFF, NPY), one file or a folder."""
    import keras

    from keras_dae import imageio

    if args.sigma is not None and not args.sigma >= 0:
        raise UsageError(f"--sigma must be >= 0. Received: --sigma {args.sigma}")
    files = _inputs(args.input)
    outputs = _outputs(files, args.output)
    models, used, warned, failed = {}, set(), False, []
    if args.model:
        models[args.model] = _load_model(args.model)  # a bad --model fails before any file
    bar = keras.utils.Progbar(len(files), unit_name="file") if len(files) > 1 else None
    for i, (src, dst) in enumerate(zip(files, outputs)):
        try:
            x, bits = imageio.read_image(src, return_bits=True)
            name = args.model or _default_model(x)
            model = models.get(name) or models.setdefault(name, _load_model(name))
            used.add(name)
            if _per_channel(model, x):
                if not warned:
                    print(f"note: {name} is a grayscale model; colour images are denoised channel by "
                          "channel (a baseline: no colour model is trained yet)", file=sys.stderr)
                    warned = True
                out = model.denoise(np.moveaxis(x, -1, 0)[..., None], sigma=args.sigma)
                out = np.moveaxis(out[..., 0], 0, -1)
            else:
                batch = _fit_shape(model, x, src)
                out = model.denoise(batch, sigma=args.sigma).reshape((len(batch),) + x.shape[-3:])
                out = out if x.ndim == 4 else out[0]
            imageio.write_image(dst, out, bits=bits)
        except (UsageError, ValueError) as e:  # this file is bad: say so, go on with the others
            failed.append(src)
            print(f"keras-dae: error: {src}: {_one_line(e)}", file=sys.stderr)
        if bar:
            bar.update(i + 1)
    done = len(files) - len(failed)
    print(f"denoised {done} file(s) with {', '.join(sorted(used)) or 'no model'} → {args.output}"
          + (f"; {len(failed)} file(s) refused (see above)" if failed else ""))
    return 2 if failed else 0


def inpaint(args):
    """Fills the masked pixels of image files."""
    from keras_dae import imageio

    files = _inputs(args.input)
    masks = _inputs(args.mask)
    if len(masks) not in (1, len(files)):
        raise UsageError(f"give one mask or one per image: {len(files)} images, {len(masks)} masks")
    outputs = _outputs(files, args.output)
    model = _load_model(args.model)
    for i, (src, dst) in enumerate(zip(files, outputs)):
        x = imageio.read_image(src)
        m = imageio.read_image(masks[i if len(masks) > 1 else 0])
        if m.shape[:-1] != x.shape[:-1] and m.shape[-3:-1] != x.shape[-3:-1]:
            raise UsageError(f"mask of shape {m.shape} does not match image {src} of shape {x.shape}")
        m = (m.max(axis=-1, keepdims=True) > 0.5).astype("float32")
        batch = _fit_shape(model, x, src)
        m_batch = np.broadcast_to(m, x.shape).reshape(batch.shape)
        out = model.inpaint(batch, m_batch).reshape((len(batch),) + x.shape[-3:])
        imageio.write_image(dst, out if x.ndim == 4 else out[0])
    print(f"inpainted {len(files)} file(s) with {args.model} → {args.output}")
    return 0


def sample(args):
    """Draws samples from a model's learned distribution into a PNG grid."""
    from keras_dae import plotting

    if args.n < 1:
        raise UsageError(f"-n must be >= 1. Received: -n {args.n}")
    model = _load_model(args.model)
    if not hasattr(model, "sample"):
        raise UsageError(f"{args.model} cannot sample")
    kwargs = {} if args.steps is None else {"steps": args.steps}
    x = np.asarray(model.sample(args.n, seed=args.seed, **kwargs))
    low, high = model.value_range or (0.0, 1.0)
    x = np.clip((x - low) / (high - low), 0.0, 1.0)
    if x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        x = x.reshape(len(x), side, side, 1)
    per_row = int(np.ceil(np.sqrt(args.n)))
    rows = [x[i:i + per_row] for i in range(0, len(x), per_row)]
    path = plotting.save_image_atomic(plotting.image_grid(rows, scale=2), args.output)
    print(f"wrote {path} ({args.n} samples from {args.model})")
    return 0


def _inputs(path):
    from keras_dae import imageio

    try:
        return imageio.list_images(path)
    except (FileNotFoundError, ValueError) as e:
        raise UsageError(str(e)) from None


def _outputs(files, out):
    from keras_dae import imageio

    try:
        return imageio.output_paths(files, out)
    except ValueError as e:
        raise UsageError(str(e)) from None


def train(args):
    """Retrains a zoo entry from its recipe and regenerates its weights, card and entry."""
    from keras_dae import training

    if not os.path.exists(args.recipe):
        raise UsageError(f"no recipe at {args.recipe!r} (give a zoo/<name> folder or a recipe.py)")
    try:
        entry = training.train(args.recipe, epochs=args.epochs, out=args.out,
                               num_eval_images=args.num_eval_images, verbose=2,
                               budget_minutes=args.budget_minutes, install=args.install,
                               export_dir=args.export_dir, data_parallel=args.data_parallel,
                               export=not args.no_export)
    except training.TrainingPaused as paused:
        print(f"paused: {paused}; the same command resumes from the checkpoint")
        return 3
    if entry is None:
        print(f"trained; the model is in {args.out or 'zoo/<name>/checkpoint'}/{training.TRAINED_FILE}: "
              "the same command without --no-export measures and exports it")
        return 0
    print(f"trained {entry.name}: " + ", ".join(f"{k}={v:.2f}" for k, v in entry.metrics.items()))
    if not args.install:
        where = args.export_dir or f"outputs/zoo/{entry.name}"
        print(f"exported to {where}/ (load it with keras_dae.load('{where}/{entry.name}.keras'); "
              "--install puts it in the package)")
    return 0


def push(args):
    """Publishes a model to the Hugging Face Hub (Keras layout + generated card)."""
    import pathlib

    from keras_dae import hub

    def read(path):
        if path is None:
            return None
        if not os.path.isfile(path):
            raise UsageError(f"no such file: {path!r}")
        return pathlib.Path(path).read_text(encoding="utf-8")

    sha = hub.publish(args.model, args.target, card=read(args.card), eval_results=read(args.eval),
                      private=args.private, commit_message=args.message)
    print(f"published {args.model} to {args.target} at revision {sha}")
    print(f"load it with keras_dae.load('{args.target}@{sha}')")
    return 0


def list_zoo(args):
    """Lists the registered zoo models."""
    from keras_dae import registry

    names = registry.list_models(args.pattern)
    for name in names:
        e = registry.get(name)
        where = "packaged" if e.packaged_file() else "hub only"
        print(f"{name:<28} {where:<9} {e.hf_repo}@{(e.revision or 'unpublished')[:12]}  {e.description[:60]}")
    if not names:
        print("no registered model matches" + (f" {args.pattern!r}" if args.pattern else ""))
    return 0


def evaluate(args):
    """The evaluation harness: the model against the noisy input and classical denoisers."""
    from keras_dae import evaluation

    return evaluation.main(args.rest)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-dae",
        description="Denoising autoencoders for Keras 3 on TensorFlow, JAX and PyTorch.",
    )
    parser.add_argument("--backend", choices=("jax", "tensorflow", "torch"),
                        help="Keras backend (default: $KERAS_BACKEND, else Keras' default)")
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
    p.add_argument("--sigma", type=float, help="noise level on [0, 1] (default: estimated)")
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
    p.set_defaults(func=inpaint)

    p = sub.add_parser(
        "sample", help="draw samples from a model into a PNG grid",
        description="Samples by the model's own sampler: annealed Langevin dynamics for score "
        "models, the walkback (GSN) corrupt–denoise chain for the others.",
        epilog="example: keras-dae sample --model dae-mnist-saltpepper -n 64 samples.png",
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


def _one_line(error):
    text = str(error).strip("'\"") if isinstance(error, KeyError) else str(error)
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


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
