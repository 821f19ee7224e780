"""Load and publish zoo models: registry names, the Hugging Face Hub, local files.

A packaged zoo model is one `.keras` archive under `keras_dae/weights/`, whose members are
the files of the Keras Hub layout; `keras_dae.zoo.archives` writes, reads and checks them
(`package`, `weights_sha256`), and they are reachable from here as before.
"""

import importlib.resources
import os
import re
import shutil
import tempfile
import zipfile

import keras

from keras_dae import layers, models, networks  # noqa: F401  (registers every class a zoo file names)
from keras_dae.utils import atomic_write
from keras_dae.zoo import registry
from keras_dae.zoo.archives import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    extract_archive,
    is_layout,
    read_bytes,
    saved_keras_version,
    sha256_hex,
)
from keras_dae.zoo.archives import package as package, weights_sha256 as weights_sha256
from keras_dae.zoo.cards import model_card as model_card

PARTS = ("encoder", "decoder")
ACCEPTED_FORMS = (
    "a registered name (see keras_dae.list_models()), e.g. 'unet-mnist-gauss'",
    "'hf://org/repo' or 'hf://org/repo@revision', a Hub repository in the Keras layout",
    "a local '.keras' file",
    "a local folder in the Keras Hub layout (config.json, model.weights.h5, metadata.json)",
)
_HF_URI = re.compile(r"hf://(?P<repo>[\w.-]+/[\w.-]+)(?:@(?P<rev>[\w./-]+))?")
_REVISION = re.compile(r"[\w./-]+")
_REPO_LIKE = re.compile(r"[\w.-]+/[\w.-]+(?:@\S+)?")


class IntegrityError(ValueError):
    """The weights' SHA-256 differs from the one the registry records."""


def load(name_or_path, revision=None, part=None, compile=True, cache_dir=None, token=None):
    """Loads a zoo model, a Hub repository or a local file, ready on the active backend.

    Resolution: `"hf://org/repo[@revision]"` downloads through huggingface_hub (its cache,
    `HF_ENDPOINT`, `HF_HUB_OFFLINE`); a registered name loads the `.keras` archive shipped
    in the package (no network) unless `revision` asks for a Hub revision or nothing is
    packaged, in which case the registry's repository is downloaded at `revision` or at the
    registry's pinned commit; anything else must be an existing `.keras` file or Keras Hub
    folder. Registered names contain neither `/` nor `.`, so `./name` always means a local
    folder, and `org/repo` is refused rather than guessed. Weights of a registered entry
    are checked against its SHA-256 whenever they are the registered commit's or the
    packaged ones. Models load with `safe_mode=True`.

    Args:
        name_or_path: a registered name, an `hf://` URI, or a local path.
        revision: a Hub branch, tag or commit; for `hf://` URIs it may also follow `@`.
        part: None for the whole model, or `"encoder"` / `"decoder"` for that attribute
            of the model (a `keras.Model` for fine-tuning, returned uncompiled).
        compile: whether to compile: with the saved compile config if any, else with Adam
            at a fine-tuning rate (1e-4; the weights ship without optimizer state), plus
            sparse categorical cross-entropy on logits and accuracy for a registered
            classifier (task `"image-classification"`), or `loss="mse"` for other models
            that do not define `compute_loss`.
        cache_dir: the huggingface_hub cache folder (default: its own, `HF_HUB_CACHE`).
        token: a Hub token (default: huggingface_hub's, e.g. `HF_TOKEN`).

    Returns:
        A `keras.Model`.

    Example:

    ```python
    model = keras_dae.load("unet-mnist-gauss")
    model.fit(x_train, epochs=1)  # continues training at once
    features = keras_dae.load("hf://org/repo@0123abc", part="encoder")
    ```
    """
    if revision is not None and not (isinstance(revision, str) and _REVISION.fullmatch(revision)):
        raise ValueError("`revision` must be a Hub branch, tag or commit (letters, digits, '.', '_', "
                         f"'-', '/'). Received: revision={revision!r}")
    if part is not None and part not in PARTS:
        raise ValueError(f"`part` must be None or one of {PARTS}. Received: part={part!r}")
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(f"`name_or_path` must be a string or a path. Received: name_or_path={name_or_path!r}")
    source = os.fspath(name_or_path)
    entries = registry.list_models()
    entry = None  # the registry entry behind the source, if any
    if isinstance(name_or_path, str) and source.startswith("hf://"):
        repo_id, rev = _parse_hf(source, revision, "name_or_path")
        folder, commit = _download(repo_id, rev, cache_dir, token)
        for candidate in registry.entries():
            if candidate.hf_repo == repo_id:
                entry = candidate
                if entry.revision == commit:
                    _verify(read_bytes(os.path.join(folder, entry.weights_file)), entry, f"hf://{repo_id}@{commit}")
        model = _load_model(folder, compile)
    elif isinstance(name_or_path, str) and source in entries:
        entry = registry.get(source)
        model = _load_entry(entry, revision, compile, cache_dir, token)
    elif os.path.exists(source):
        if revision is not None:
            raise ValueError(
                f"`revision` applies to Hub sources only, not to the local path "
                f"{source!r}. Received: revision={revision!r}"
            )
        if not is_layout(source) and not zipfile.is_zipfile(source):
            raise ValueError(
                f"Not a Keras model: name_or_path={source!r} is neither a `.keras` archive "
                f"nor a folder holding {CONFIG_FILE}.\n" + _forms()
            )
        model = _load_model(source, compile)
    else:
        raise _unknown(source)
    if entry is not None and entry.sampling is not None and hasattr(model, "sampling"):
        model.sampling = dict(entry.sampling)  # the sampler settings chosen for this entry
    if part is not None:
        if not hasattr(model, part):
            raise ValueError(
                f"{type(model).__name__} has no `{part}` attribute to return. "
                f"Received: part={part!r}, name_or_path={source!r}"
            )
        return getattr(model, part)
    if compile and not getattr(model, "compiled", False):
        _compile_defaults(model, entry.task if entry else None)
    return model


def publish(model_or_name, target, card=None, eval_results=None, private=False,
            commit_message=None, token=None):
    """Publishes a model to the Hugging Face Hub in the layout Keras uses for the Hub.

    The repository receives `config.json`, `metadata.json` and `model.weights.h5` (no
    pickle; what `model.save("hf://…")` writes, so `keras.saving.load_model("hf://…")`
    loads it once keras_dae is imported) and a `README.md` model card. A registered name
    or a `.keras` file is published from its archive's members, byte for byte.

    Args:
        model_or_name: a `keras.Model`, a registered name with packaged weights, or a
            path to a `.keras` file or a Keras Hub folder.
        target: `"hf://org/repo"`.
        card: the model card's Markdown; None generates it with `model_card`.
        eval_results: the evaluation table for the generated card (Markdown, or an object
            with `to_markdown()` such as `keras_dae.evaluation.EvaluationResult`).
        private: whether a newly created repository is private.
        commit_message: the commit message (default: `"Publish <name> with keras-dae"`).
        token: a Hub token with write access (default: huggingface_hub's).

    Returns:
        The commit sha of the upload: pass it as `revision` to pin what was published.

    Example:

    ```python
    sha = keras_dae.publish("unet-mnist-gauss", "hf://keras-dae/unet-mnist-gauss")
    model = keras_dae.load(f"hf://keras-dae/unet-mnist-gauss@{sha}")
    ```
    """
    from huggingface_hub import HfApi

    repo_id, rev = _parse_hf(target, None, "target")
    if rev is not None:
        raise ValueError(f"`target` must not carry a revision; commits go to main. Received: target={target!r}")
    with tempfile.TemporaryDirectory(prefix="keras_dae_publish_") as folder:
        entry, name = _write_layout(model_or_name, folder)
        if card is None:
            info = entry.to_dict() if entry else {"name": name, "hf_repo": repo_id}
            info.setdefault("sha256", sha256_hex(read_bytes(os.path.join(folder, WEIGHTS_FILE))))
            info["hf_repo"] = repo_id
            info["keras_version"] = saved_keras_version(folder)
            card = model_card(info, eval_results=eval_results)
        atomic_write(os.path.join(folder, "README.md"), card)
        api = HfApi(token=token, library_name="keras", library_version=keras.__version__)
        try:
            repo_url = api.create_repo(repo_id, private=private, exist_ok=True)
            commit = api.upload_folder(
                repo_id=repo_url.repo_id, folder_path=folder,
                commit_message=commit_message or f"Publish {name} with keras-dae",
            )
        except OSError as e:
            raise OSError(f"Could not publish to target={target!r}: {type(e).__name__}: {e}") from e
    return commit.oid


def _forms():
    return "Accepted forms:\n" + "\n".join(f"  - {form}" for form in ACCEPTED_FORMS)


def _unknown(source):
    if _REPO_LIKE.fullmatch(source):
        tail = source.split("@")[0].split("/")[-1]
        hint = f" To load it from the Hub, write 'hf://{source}'."
        if tail in registry.list_models():
            hint += f" The registered model {tail!r} loads by its bare name."
        return ValueError(
            f"name_or_path={source!r} looks like a Hub repository id; it is never resolved "
            f"implicitly.{hint}\n" + _forms()
        )
    close = registry.closest(source)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    known = ", ".join(registry.list_models()) or "(none)"
    return ValueError(
        f"Unknown model: name_or_path={source!r} is neither a registered name nor an "
        f"existing file or folder.{hint}\nRegistered: {known}.\n" + _forms()
    )


def _parse_hf(uri, revision, argument):
    match = _HF_URI.fullmatch(uri) if isinstance(uri, str) else None
    if match is None:
        raise ValueError(f"`{argument}` must look like 'hf://org/repo[@revision]'. Received: {argument}={uri!r}")
    rev = match["rev"]
    if rev is not None and revision is not None and rev != revision:
        raise ValueError(
            f"Two different revisions asked: {argument}={uri!r} and revision={revision!r}"
        )
    return match["repo"], rev or revision


def _download(repo_id, revision, cache_dir, token):
    """Snapshot of `repo_id` at `revision` in the huggingface_hub cache: (folder, commit)."""
    import huggingface_hub

    where = f"hf://{repo_id}" + (f"@{revision}" if revision else "")
    try:
        folder = huggingface_hub.snapshot_download(
            repo_id=repo_id, revision=revision, cache_dir=cache_dir, token=token,
            library_name="keras-dae", library_version=_version(),
        )
    except OSError as e:
        raise OSError(f"Could not fetch {where}: {type(e).__name__}: {e}") from e
    if not is_layout(folder):
        raise ValueError(f"{where} is not in the Keras Hub layout: no {CONFIG_FILE} in it.")
    return folder, os.path.basename(os.path.normpath(folder))


def _load_entry(entry, revision, compile, cache_dir, token):
    packaged = entry.packaged_file()
    if revision is None and packaged is not None:
        with importlib.resources.as_file(packaged) as path:
            with zipfile.ZipFile(path) as zf:
                _verify(zf.read(entry.weights_file), entry, f"the packaged {entry.packaged}")
            return _load_model(path, compile)
    revision = revision or entry.revision
    if revision is None:
        raise ValueError(
            f"{entry.name!r} has neither packaged weights nor a published revision yet; "
            f"pass revision=... to load a Hub revision of {entry.hf_repo}."
        )
    folder, commit = _download(entry.hf_repo, revision, cache_dir, token)
    if commit == entry.revision:
        _verify(read_bytes(os.path.join(folder, entry.weights_file)), entry, f"hf://{entry.hf_repo}@{commit}")
    return _load_model(folder, compile)


def _verify(data, entry, where):
    digest = sha256_hex(data)
    if digest != entry.sha256:
        raise IntegrityError(
            f"SHA-256 mismatch for {entry.weights_file} of {entry.name!r} from {where}: "
            f"expected {entry.sha256}, got {digest}. The file is corrupt or was replaced; "
            "refusing to load it."
        )


def _load_model(path, compile):
    from keras_dae import backend
    from keras_dae.layers import adopt_convolutions

    model = keras.saving.load_model(path, compile=compile, safe_mode=True)
    adopt_convolutions(model)  # Keras' Conv2D as keras-dae's: the same outputs, faster on torch
    return backend.survive_errors(model)


FINE_TUNE_LEARNING_RATE = 1e-4


def _compile_defaults(model, task=None):
    # A trained model ships without optimizer state: a fresh Adam at the usual 1e-3 first
    # undoes part of the training (dae-mnist-saltpepper: 22.02 → 19.94 dB after four
    # steps), at 1e-4 it holds (21.96 dB) and continues from there.
    kwargs = {"optimizer": keras.optimizers.Adam(FINE_TUNE_LEARNING_RATE)}
    if task == "image-classification":  # logits, integer labels
        kwargs.update(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
    elif type(model).compute_loss is keras.Model.compute_loss:
        kwargs["loss"] = "mse"
    model.compile(**kwargs)


def _write_layout(model_or_name, folder):
    """Writes the Keras Hub layout of `model_or_name` into `folder`: (entry or None, name)."""
    if isinstance(model_or_name, keras.Model):
        keras.saving.save_model(model_or_name, folder, zipped=False)
        return None, model_or_name.name
    if not isinstance(model_or_name, (str, os.PathLike)):
        raise TypeError(
            "`model_or_name` must be a keras.Model, a registered name or a path. "
            f"Received: model_or_name={model_or_name!r}"
        )
    source = os.fspath(model_or_name)
    if source in registry.list_models():
        entry = registry.get(source)
        packaged = entry.packaged_file()
        if packaged is None:
            raise ValueError(
                f"{source!r} has no packaged weights to publish. Received: model_or_name={source!r}"
            )
        with importlib.resources.as_file(packaged) as path:
            extract_archive(path, folder)
        _verify(read_bytes(os.path.join(folder, entry.weights_file)), entry, f"the packaged {entry.packaged}")
        return entry, entry.name
    if is_layout(source):
        for name in os.listdir(source):
            src = os.path.join(source, name)
            copy = shutil.copytree if os.path.isdir(src) else shutil.copyfile
            copy(src, os.path.join(folder, name))
    elif os.path.isfile(source) and zipfile.is_zipfile(source):
        extract_archive(source, folder)
    else:
        raise ValueError(
            "`model_or_name` is neither a registered name with packaged weights nor a "
            f"`.keras` file or Keras Hub folder. Received: model_or_name={source!r}"
        )
    digest = weights_sha256(folder)
    entry = next((e for e in registry.entries() if e.sha256 == digest), None)
    return entry, entry.name if entry else os.path.basename(source.rstrip("/\\")).removesuffix(".keras")


def _version():
    import keras_dae

    return keras_dae.__version__
