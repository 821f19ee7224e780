"""The model zoo's registry: one typed, frozen entry per pretrained model, kept as data.

The shipped entries live in `keras_dae/weights/registry.json` (`{"entries": [{...}, ...]}`,
the keys being the fields of `ModelEntry`), next to the packaged weight files; adding a
pretrained model is adding one entry there (and its `.keras` file). `register` adds entries
at run time (tests, user zoos).
"""

import dataclasses
import fnmatch
import importlib.resources
import json
import re
import types

NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+){2,3}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_REPO_ID = re.compile(r"[\w.-]+/[\w.-]+")
REGISTRY_FILE = "registry.json"
# Where `ModelEntry.packaged` files are looked up: the package's `weights/` folder, as an
# importlib.resources Traversable (works from a wheel or a zip). Tests point it elsewhere.
WEIGHTS = importlib.resources.files("keras_dae").joinpath("weights")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One pretrained model of the zoo.

    Args:
        name: `{arch}-{dataset}-{corruption}[-{task}]`, lower case, e.g.
            `"unet-mnist-gauss"`.
        architecture: the network, in words (e.g. `"U-Net, 3 levels, 32 base filters"`).
        objective: the training objective (e.g. `"DAE, MSE reconstruction"`).
        dataset: the data set id used in the name and on the Hub (e.g. `"mnist"`).
        corruption: the training corruption (e.g. `"AdditiveGaussian σ~U[0, 1]"`).
        value_range: `(low, high)` of the inputs the model expects.
        hf_repo: the Hub repository, `"org/repo"`.
        revision: the pinned Hub commit (40 hex digits), or None before publication.
        sha256: SHA-256 (hex) of the weights file `weights_file`.
        weights_file: the weights file name in the Keras Hub layout.
        packaged: the file name, under `keras_dae/weights/`, of the `.keras` archive shipped
            in the package (its `weights_file` member has `sha256`), or None.
        license: licence of the weights (an SPDX-like Hub id, e.g. `"apache-2.0"`).
        data_license: licence of the training data (e.g. `"CC BY-SA 3.0"`).
        metrics: measured results, `{"psnr@sigma=0.5": 27.1, ...}` (metric `@` condition).
        description: one paragraph for listings and the model card.
        recipe: the training recipe, a path under `zoo/` or a short summary.
        task: what the model is for (e.g. `"denoising"`, `"inpainting"`).
        sampling: the settings of the model's `sample`, chosen on validation data, or None
            (`keras_dae.load` sets them as `model.sampling`).
    """

    name: str
    architecture: str
    objective: str
    dataset: str
    corruption: str
    hf_repo: str
    sha256: str
    value_range: tuple = (0.0, 1.0)
    revision: str | None = None
    weights_file: str = "model.weights.h5"
    packaged: str | None = None
    license: str = "apache-2.0"
    data_license: str = "CC BY-SA 3.0"
    metrics: types.MappingProxyType = dataclasses.field(default_factory=dict, hash=False)
    description: str = ""
    recipe: str = ""
    task: str = "denoising"
    sampling: types.MappingProxyType | None = dataclasses.field(default=None, hash=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not NAME_PATTERN.fullmatch(self.name):
            raise ValueError(
                "`name` must follow `{arch}-{dataset}-{corruption}[-{task}]` in lower-case "
                f"letters and digits, e.g. 'unet-mnist-gauss'. Received: name={self.name!r}"
            )
        if self.name.split("-")[1] != self.dataset:
            raise ValueError(
                f"The dataset part of `name` must equal `dataset`. Received: "
                f"name={self.name!r}, dataset={self.dataset!r}"
            )
        if not _REPO_ID.fullmatch(self.hf_repo or ""):
            raise ValueError(f"`hf_repo` must be 'org/repo'. Received: hf_repo={self.hf_repo!r}")
        if not _SHA256.fullmatch(self.sha256 or ""):
            raise ValueError(
                f"`sha256` must be 64 lower-case hex digits. Received: sha256={self.sha256!r}"
            )
        if self.revision is not None and not _COMMIT.fullmatch(self.revision):
            raise ValueError(
                "`revision` must be a full commit sha (40 hex digits), never a branch. "
                f"Received: revision={self.revision!r}"
            )
        if self.packaged is not None and (
            not self.packaged.endswith(".keras") or "/" in self.packaged or "\\" in self.packaged
        ):
            raise ValueError(
                "`packaged` must be a `.keras` file name under keras_dae/weights/. "
                f"Received: packaged={self.packaged!r}"
            )
        low, high = (float(v) for v in self.value_range)
        if not low < high:
            raise ValueError(f"`value_range` must be (low, high). Received: value_range={self.value_range!r}")
        object.__setattr__(self, "value_range", (low, high))
        metrics = {str(k): float(v) for k, v in dict(self.metrics).items()}
        object.__setattr__(self, "metrics", types.MappingProxyType(metrics))
        if self.sampling is not None:
            if not hasattr(self.sampling, "items"):
                raise ValueError(f"`sampling` must be a dict or None. Received: sampling={self.sampling!r}")
            object.__setattr__(self, "sampling", types.MappingProxyType(dict(self.sampling)))

    def to_dict(self):
        """The entry as JSON-ready data (the form of `registry.json`)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["value_range"] = list(self.value_range)
        data["metrics"] = dict(self.metrics)
        data["sampling"] = None if self.sampling is None else dict(self.sampling)
        return data

    @classmethod
    def from_dict(cls, data):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown ModelEntry fields {unknown} in entry {data.get('name')!r}")
        return cls(**data)

    def packaged_file(self):
        """The packaged `.keras` file as an `importlib.resources` Traversable, or None when
        the entry ships no weights or the file is missing from this installation."""
        if self.packaged is None:
            return None
        resource = WEIGHTS.joinpath(self.packaged)
        return resource if resource.is_file() else None


_ENTRIES = {}
_LOADED = False


def _ensure_loaded():
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    resource = importlib.resources.files("keras_dae").joinpath("weights", REGISTRY_FILE)
    if not resource.is_file():
        return
    for data in json.loads(resource.read_text(encoding="utf-8")).get("entries", []):
        register(ModelEntry.from_dict(data))


def register(entry, overwrite=False):
    """Adds `entry` (a `ModelEntry`) to the registry and returns it.

    Args:
        entry: the `ModelEntry`.
        overwrite: whether an entry of the same name may be replaced.

    Example:

    ```python
    register(ModelEntry(name="mlp-mnist-gauss", architecture="MLP 784-256-784",
                        objective="DAE", dataset="mnist", corruption="AdditiveGaussian σ=0.3",
                        hf_repo="me/mlp-mnist-gauss", sha256="0" * 64))
    ```
    """
    if not isinstance(entry, ModelEntry):
        raise TypeError(f"`entry` must be a ModelEntry. Received: entry={entry!r}")
    _ensure_loaded()
    if entry.name in _ENTRIES and not overwrite:
        raise ValueError(
            f"A model named {entry.name!r} is already registered; pass overwrite=True to "
            f"replace it. Received: entry.name={entry.name!r}"
        )
    _ENTRIES[entry.name] = entry
    return entry


def unregister(name):
    """Removes the entry called `name`; returns it (None if there was none)."""
    _ensure_loaded()
    return _ENTRIES.pop(name, None)


def get(name):
    """The `ModelEntry` called `name`; `KeyError` listing the closest names otherwise."""
    _ensure_loaded()
    try:
        return _ENTRIES[name]
    except (KeyError, TypeError):
        close = closest(name)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"No registered model named {name!r}.{hint}") from None


def closest(name, n=3):
    """Up to `n` registered names close to `name` (difflib), best first."""
    import difflib

    _ensure_loaded()
    return difflib.get_close_matches(str(name), list(_ENTRIES), n=n, cutoff=0.5)


def list_models(pattern=None):
    """Sorted names of the registered models, optionally filtered by an fnmatch pattern.

    Example:

    ```python
    keras_dae.list_models("unet-*")  # ['unet-mnist-gauss', 'unet-mnist-mask']
    ```
    """
    _ensure_loaded()
    names = sorted(_ENTRIES)
    return names if pattern is None else [n for n in names if fnmatch.fnmatchcase(n, pattern)]


def entries():
    """All registered entries, sorted by name."""
    _ensure_loaded()
    return [_ENTRIES[n] for n in sorted(_ENTRIES)]
