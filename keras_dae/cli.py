"""The `keras-dae` command line (also `python -m keras_dae`)."""

import argparse
import os
import sys


class UsageError(Exception):
    """Bad usage or input: a one-line message and exit code 2."""


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


def demo(args):
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


def train(args):
    """Retrains a zoo entry from its recipe and regenerates its weights, card and entry."""
    from keras_dae import training

    if not os.path.exists(args.recipe):
        raise UsageError(f"no recipe at {args.recipe!r} (give a zoo/<name> folder or a recipe.py)")
    entry = training.train(args.recipe, epochs=args.epochs, out=args.out,
                           num_eval_images=args.num_eval_images, verbose=2)
    print(f"trained {entry.name}: " + ", ".join(f"{k}={v:.2f}" for k, v in entry.metrics.items()))
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
        help="corrupt packaged MNIST digits with every corruption layer and write a PNG grid",
        description="Corrupts packaged MNIST test digits with every corruption layer and writes "
        "a PNG grid, one row per layer. Needs no network and no data folder.",
        epilog="example: keras-dae demo --out outputs/demo.png --backend jax",
    )
    p.add_argument("--out", default="outputs/demo.png", help="PNG to write (default: %(default)s)")
    p.add_argument("--num", type=int, default=12, help="digits per row (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="corruption seed (default: %(default)s)")
    p.set_defaults(func=demo)

    p = sub.add_parser(
        "train",
        help="retrain a zoo entry from its recipe and regenerate its card",
        description="Trains a zoo recipe (checkpointing every epoch; an interrupted run resumes), "
        "then packages the weights, measures them and regenerates the model card, the results "
        "and the registry entry.",
        epilog="example: keras-dae --backend tensorflow train zoo/dae-mnist-saltpepper",
    )
    p.add_argument("recipe", help="a zoo/<name> folder or its recipe.py")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs (the card says so)")
    p.add_argument("--out", help="checkpoint folder (default: outputs/zoo/<name>)")
    p.add_argument("--num-eval-images", type=int, help="evaluate on the first N test images only")
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


def main(argv=None):
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "command", None) == "eval":
        args.rest = extra + args.rest
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.backend:
        _switch_backend(args.backend)
    if not args.command:
        parser.print_help()
        return 2
    if getattr(args, "num", 1) < 1:
        parser.error(f"--num must be >= 1. Received: --num={args.num}")
    try:
        return args.func(args)
    except UsageError as e:
        print(f"keras-dae: error: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print(f"keras-dae: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
