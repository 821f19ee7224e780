"""The commands of `keras-dae` (see `keras_dae.cli` for the parser): each takes the parsed
arguments and returns the exit code, or raises `UsageError` for a one-line message and code 2.
"""

import os
import re
import sys
import textwrap

import numpy as np


class UsageError(Exception):
    """Bad usage or input: a one-line message and exit code 2."""


DEFAULT_MODEL = "unet-mnist-gauss"
# Images that are not 28×28 gray digits go to the natural-image denoiser (σ given or
# estimated); the converted DnCNN-S σ = 25 until keras-dae's own is trained.
PHOTO_MODEL = "dncnn-bsd400-gauss"
PHOTO_MODEL_FALLBACK = "dncnn-bsd400-gauss25"
# Colour photographs go to the colour denoiser (while it is in the registry); with a gray
# model given they are denoised channel by channel. A gray image saved as RGB (three equal
# channels) is read as gray (imageio.read_image) and goes to the gray model.
COLOR_MODEL = "dncnn-cbsd432-gauss"


def parse_sigma(text, flag="--sigma"):
    """A noise level on the image's [0, 1] scale, as a number (`0.098`) or a fraction
    (`25/255`); a value above 1 is refused with the value divided by 255, since most tools
    take σ on the 0–255 scale."""
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*(?:/\s*([0-9.eE+-]+)\s*)?", text)
    try:
        value = float(match[1]) / (float(match[2]) if match[2] else 1.0)
    except (TypeError, ValueError, ZeroDivisionError):
        raise UsageError(f"{flag} must be a number on [0, 1] or a fraction such as 25/255. "
                         f"Received: {flag} {text}") from None
    if not 0.0 <= value <= 1.0:
        hint = f": on the 0–255 scale that is {flag} {value / 255:.4g} (or {flag} {text.strip()}/255)" \
            if 1.0 < value <= 255.0 else ""
        raise UsageError(f"{flag} is on the image's [0, 1] scale{hint}. Received: {flag} {text}")
    return value


def _progress(total, unit):
    """A progress bar on a terminal (none when stderr is a file or a pipe, or for one item)."""
    if total < 2 or not sys.stderr.isatty():
        return None
    import keras

    return keras.utils.Progbar(total, unit_name=unit)


def _window_progress():
    """`progress(done, total)` for `denoise` of a tiled image: a bar per pass of the model,
    on a terminal only (None otherwise)."""
    if not sys.stderr.isatty():
        return None
    state = {"bar": None, "done": 0}

    def progress(done, total):
        if state["bar"] is None or done < state["done"]:  # a new pass (blind use: two)
            state["bar"] = _progress(total, "window")
        state["done"] = done
        if state["bar"] is not None:
            state["bar"].update(done)

    return progress


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
    from keras_dae.zoo import registry

    return PHOTO_MODEL if PHOTO_MODEL in registry.list_models() else PHOTO_MODEL_FALLBACK


def _default_model(x):
    """The zoo model for an image when --model is not given: the MNIST U-Net for 28×28 gray
    digits, the colour photo denoiser for colour images (when registered), the gray photo
    denoiser for anything else."""
    from keras_dae.zoo import registry

    if tuple(x.shape[-3:]) == (28, 28, 1):
        return DEFAULT_MODEL
    if x.shape[-1] == 3 and COLOR_MODEL in registry.list_models():
        return COLOR_MODEL
    return _photo_model()


def _per_channel(model, x):
    """A colour image for a gray model: its channels as a batch of gray images."""
    gray = model.example_shape[-1] == 1
    return gray and x.ndim == 3 and x.shape[-1] == 3


def denoise(args):
    """Denoises image files (PNG, JPEG, TIFF, BMP, WebP, NPY), one file or a folder."""
    from keras_dae import imageio

    sigma = None if args.sigma is None else parse_sigma(args.sigma)
    files = _inputs(args.input)
    outputs = _outputs(files, args.output, args.input)
    models, used, warned, failed = {}, set(), False, []
    if args.model:
        models[args.model] = _load_model(args.model)  # a bad --model fails before any file
    bar = _progress(len(files), "file")
    for i, (src, dst) in enumerate(zip(files, outputs)):
        try:
            x, bits, alpha = imageio.read_image(src, return_bits=True, max_pixels=args.max_pixels,
                                                return_alpha=True)
            name = args.model or _default_model(x)
            model = models.get(name) or models.setdefault(name, _load_model(name))
            used.add(name)
            if _per_channel(model, x):
                if not warned:
                    print(f"note: {name} is a grayscale model; colour images are denoised channel by "
                          f"channel (without --model they go to the colour model, {COLOR_MODEL})",
                          file=sys.stderr)
                    warned = True
                out = model.denoise(np.moveaxis(x, -1, 0)[..., None], sigma=sigma)
                out = np.moveaxis(out[..., 0], 0, -1)
            else:
                batch = _fit_shape(model, x, src)
                out = model.denoise(batch, sigma=sigma, progress=_window_progress()).reshape(
                    (len(batch),) + x.shape[-3:])
                out = out if x.ndim == 4 else out[0]
            imageio.write_image(dst, out, bits=bits, quality=args.quality, alpha=alpha)
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
    outputs = _outputs(files, args.output, args.input)
    model = _load_model(args.model)
    for i, (src, dst) in enumerate(zip(files, outputs)):
        x = imageio.read_image(src, max_pixels=args.max_pixels)
        m = imageio.read_image(masks[i if len(masks) > 1 else 0])
        if m.shape[:-1] != x.shape[:-1] and m.shape[-3:-1] != x.shape[-3:-1]:
            raise UsageError(f"mask of shape {m.shape} does not match image {src} of shape {x.shape}")
        m = (m.max(axis=-1, keepdims=True) > 0.5).astype("float32")
        batch = _fit_shape(model, x, src)
        m_batch = np.broadcast_to(m, x.shape).reshape(batch.shape)
        out = model.inpaint(batch, m_batch).reshape((len(batch),) + x.shape[-3:])
        imageio.write_image(dst, out if x.ndim == 4 else out[0], quality=args.quality)
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


def _outputs(files, out, source):
    from keras_dae import imageio

    try:
        return imageio.output_paths(files, out, folder_input=os.path.isdir(source))
    except ValueError as e:
        raise UsageError(str(e)) from None


def train(args):
    """Retrains a zoo entry from its recipe and regenerates its weights, card and entry."""
    import keras

    from keras_dae import runtime, training

    if not os.path.exists(args.recipe):
        raise UsageError(f"no recipe at {args.recipe!r} (give a zoo/<name> folder or a recipe.py)")
    if keras.backend.backend() in runtime.PAYS_ON:  # this process is ours (keras_dae.runtime)
        runtime.tune_allocator()
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

    from keras_dae.zoo import hub

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
    from keras_dae.zoo import registry

    import shutil

    names = registry.list_models(args.pattern)
    width = max(40, min(shutil.get_terminal_size().columns, 100) - 4)
    for name in names:
        e = registry.get(name)
        where = "packaged" if e.packaged_file() else "hub only"
        print(f"{name}  ({where}; {e.hf_repo}@{(e.revision or 'unpublished')[:12]})")
        print(textwrap.fill(e.description, width, initial_indent="    ", subsequent_indent="    "))
    if not names:
        print("no registered model matches" + (f" {args.pattern!r}" if args.pattern else ""))
    return 0


def evaluate(args):
    """The evaluation harness: the model against the noisy input and classical denoisers."""
    from keras_dae import evaluation

    return evaluation.main(args.rest)


def _one_line(error):
    text = str(error).strip("'\"") if isinstance(error, KeyError) else str(error)
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
