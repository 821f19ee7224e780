"""Data sets: Keras' image sets, tensorflow-datasets, and folders of images.

Local files are read first, with no network: the data root is `$KERAS_DAE_DATA` when set
(tests and CI point it at `../shared/data`), else Keras' cache `~/.keras/datasets`
(`$KERAS_HOME/datasets`). A Keras set `NAME` is read from `<root>/NAME/NAME.npz` or
`<root>/NAME.npz` (the arrays `x_train, y_train, x_test, y_test`, as
`keras.datasets.NAME.load_data()` returns them) with `np.load`; when neither exists, the
real downloader `keras.datasets.NAME.load_data()` is called (which itself reuses Keras' cache).

Splits: `"train"` is the training set less its last 10,000 images, `"val"` is those last
10,000 (for MNIST: 50,000 / 10,000, the classic split), `"test"` is the test set. The test
set is never used for model selection.

Images are returned as float32 NHWC arrays, in [0, 1] when `normalize=True` (else [0, 255]).
"""

import os

import keras
import numpy as np

KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")
SPLITS = ("train", "val", "test")
NUM_VAL = 10_000
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def data_root():
    """The local data root: `$KERAS_DAE_DATA`, else Keras' `~/.keras/datasets`.

    Example:
    ```python
    os.environ["KERAS_DAE_DATA"] = "../shared/data"
    data_root()  # '../shared/data'
    ```
    """
    root = os.environ.get("KERAS_DAE_DATA")
    if root:
        return os.path.expanduser(root)
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return os.path.join(keras_home, "datasets")


def _load_arrays(name, root):
    if name not in KERAS_DATASETS:
        raise ValueError(f"`name` must be one of {KERAS_DATASETS}. Received: name={name!r}")
    root = data_root() if root is None else root
    for path in (os.path.join(root, name, f"{name}.npz"), os.path.join(root, f"{name}.npz")):
        if os.path.isfile(path):
            with np.load(path, allow_pickle=False) as f:
                return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    return getattr(keras.datasets, name).load_data()


def load_keras_dataset(name, split="train", normalize=True, num_images=None, data_dir=None):
    """One split of a `keras.datasets` image set, local files first.

    Args:
        name: `"mnist"`, `"fashion_mnist"`, `"cifar10"` or `"cifar100"`.
        split: `"train"`, `"val"` (last 10,000 training images) or `"test"`.
        normalize: scale to [0, 1]; else keep [0, 255] (as float32).
        num_images: keep only the first `num_images` of the split.
        data_dir: data root to read instead of `data_root()`.

    Returns:
        `(x, y)`: float32 images `(N, H, W, C)` and integer labels `(N,)`.

    Example:
    >>> x, y = load_keras_dataset("fashion_mnist", "val")
    """
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}. Received: split={split!r}")
    if num_images is not None and num_images < 1:
        raise ValueError(f"`num_images` must be positive. Received: num_images={num_images}")
    (x_train, y_train), (x_test, y_test) = _load_arrays(name, data_dir)
    if split == "test":
        x, y = x_test, y_test
    elif split == "train":
        x, y = x_train[:-NUM_VAL], y_train[:-NUM_VAL]
    else:
        x, y = x_train[-NUM_VAL:], y_train[-NUM_VAL:]
    if num_images is not None:
        x, y = x[:num_images], y[:num_images]
    x = x.astype("float32")
    if x.ndim == 3:
        x = x[..., None]
    if normalize:
        x /= 255.0
    return x, np.asarray(y).reshape(-1).astype("int64")


def load_mnist(split="train", normalize=True, num_images=None, data_dir=None):
    """MNIST as float32 `(N, 28, 28, 1)` images and int labels.

    Splits: train = first 50,000 training images, val = last 10,000, test = the 10,000
    test images. See `load_keras_dataset` for the arguments.

    Example:
    >>> x, y = load_mnist("val")
    >>> x.shape, float(x.max())
    ((10000, 28, 28, 1), 1.0)
    """
    return load_keras_dataset("mnist", split, normalize, num_images, data_dir)


def load_tfds(name, split="train", data_dir=None, image_key="image", label_key="label",
              normalize=True, download=True):
    """A tensorflow-datasets image set as NumPy arrays (imports tfds only when called).

    With `data_dir` holding the prepared set, nothing is downloaded. The default `data_dir`
    is `<data_root()>/tensorflow_datasets` when that folder exists, else tfds' own default.
    Beware: with no network and nothing prepared, tfds retries for minutes before failing.

    Args:
        name: tfds name, e.g. `"mnist"`, `"fashion_mnist"`.
        split: tfds split string, e.g. `"train[:50000]"` or `"test"`.
        data_dir: tfds data directory.
        image_key: feature holding the image.
        label_key: feature holding the label, or `None`.
        normalize: scale uint8 images to [0, 1].
        download: let tfds download and prepare the set if missing.

    Returns:
        `(x, y)`: float32 images `(N, H, W, C)` and labels (or `None`).

    Example:
    >>> x, y = load_tfds("mnist", "test", data_dir="/data/tensorflow_datasets")
    """
    import tensorflow_datasets as tfds

    if data_dir is None:
        candidate = os.path.join(data_root(), "tensorflow_datasets")
        data_dir = candidate if os.path.isdir(candidate) else None
    # Batches, not `batch_size=-1`: the latter aborted the process under mock_data.
    ds = tfds.load(name, split=split, data_dir=data_dir, batch_size=1024, download=download)
    batches = list(tfds.as_numpy(ds))
    x = np.concatenate([b[image_key] for b in batches]).astype("float32")
    if x.ndim == 3:
        x = x[..., None]
    if normalize:
        x /= 255.0
    y = np.concatenate([b[label_key] for b in batches]) if label_key else None
    return x, y


def image_set_dir(directory):
    """The folder of an image set: `directory` itself, or a set named by its folder under
    `<data_root()>/gray/` (`"train400"`, `"bsd68"`, `"set12"`) or `<data_root()>/color/`
    (`"cbsd432"`, `"cbsd68"`, `"kodak24"`, `"mcmaster"`)."""
    if os.path.isdir(directory) or os.sep in directory:
        return directory
    for kind in ("gray", "color"):
        candidate = os.path.join(data_root(), kind, directory)
        if os.path.isdir(candidate):
            return candidate
    return directory


def list_images(directory):
    """Sorted paths of the PNG/JPEG/BMP/TIFF files directly inside `directory`."""
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` is not a folder. Received: directory={directory!r}")
    names = sorted(n for n in os.listdir(directory) if n.lower().endswith(IMAGE_EXTENSIONS))
    if not names:
        raise ValueError(f"No images found in `directory`. Received: directory={directory!r}")
    return [os.path.join(directory, n) for n in names]


def load_image(path, color_mode="grayscale", normalize=True):
    """One image file as float32 `(H, W, C)`, C = 1 (grayscale) or 3 (rgb)."""
    from PIL import Image

    if color_mode not in ("grayscale", "rgb"):
        raise ValueError(
            f"`color_mode` must be 'grayscale' or 'rgb'. Received: color_mode={color_mode!r}"
        )
    with Image.open(path) as im:
        im = im.convert("L" if color_mode == "grayscale" else "RGB")
        x = np.asarray(im, dtype="float32")
    if x.ndim == 2:
        x = x[..., None]
    return x / 255.0 if normalize else x


def load_image_folder(directory, color_mode="grayscale", normalize=True, num_images=None):
    """Whole images of a folder (for evaluation), as a list of float32 `(H, W, C)` arrays.

    A list, not an array: benchmark sets such as BSD68 mix portrait and landscape images.
    A set name may be given as `directory` (`image_set_dir`: `"bsd68"`, `"set12"`,
    `"train400"` under `gray/`, `"cbsd68"`, `"kodak24"`, ... under `color/`).

    Example:
    >>> images = load_image_folder("set12", normalize=False)
    """
    paths = list_images(image_set_dir(directory))[:num_images]
    return [load_image(p, color_mode, normalize) for p in paths]


class ImagePatchDataset(keras.utils.PyDataset):
    """Random patches of a folder of images, batch by batch, for `fit` on any backend.

    Each batch reads only the images it draws patches from (no whole-set load). The draws of
    batch `i` in epoch `e` come from `np.random.default_rng([seed, e, i])`: reproducible and
    the same whatever order workers fetch batches in; the epoch advances in `on_epoch_end`.

    Args:
        directory: folder of images, or a set name (`image_set_dir`).
        patch_size: side of the square patches.
        batch_size: patches per batch.
        steps_per_epoch: batches per epoch.
        images_per_batch: distinct images a batch draws its patches from.
        color_mode: `"grayscale"` or `"rgb"`.
        normalize: scale to [0, 1]; else [0, 255].
        augment: random flips and 90-degree rotations.
        targets: `True` yields `(patches, patches)`, `False` yields `patches` alone.
        seed: integer seed.
        images: optional slice (or list of indices) of the folder's sorted files to draw
            from, e.g. `slice(0, 380)` to hold the last 20 images out for validation.
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size` of `PyDataset`.

    Example:
    ```python
    ds = ImagePatchDataset("train400", patch_size=40, batch_size=128, steps_per_epoch=100)
    model.fit(ds, epochs=10, shuffle=False, callbacks=[keras_dae.callbacks.SyncDatasetEpoch(ds)])
    ```
    """

    def __init__(self, directory, patch_size=40, batch_size=128, steps_per_epoch=100,
                 images_per_batch=8, color_mode="grayscale", normalize=True, augment=True,
                 targets=True, seed=0, images=None, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("patch_size", patch_size), ("batch_size", batch_size),
                           ("steps_per_epoch", steps_per_epoch),
                           ("images_per_batch", images_per_batch)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value}")
        directory = image_set_dir(directory)
        self.paths = list_images(directory)
        if images is not None:
            paths = self.paths
            self.paths = paths[images] if isinstance(images, slice) else [paths[i] for i in images]
            if not self.paths:
                raise ValueError(f"`images` selects no file of {directory}. Received: images={images!r}")
        self.patch_size = patch_size
        self.batch_size = batch_size
        self.steps_per_epoch = steps_per_epoch
        self.images_per_batch = min(images_per_batch, len(self.paths), batch_size)
        self.color_mode = color_mode
        self.normalize = normalize
        self.augment = augment
        self.targets = targets
        self.seed = seed
        self.epoch = 0

    def __len__(self):
        return self.steps_per_epoch

    def __getitem__(self, index):
        if not 0 <= index < self.steps_per_epoch:
            raise IndexError(f"Batch index out of range. Received: index={index}")
        rng = np.random.default_rng([self.seed, self.epoch, index])
        chosen = rng.choice(len(self.paths), self.images_per_batch, replace=False)
        owner = np.arange(self.batch_size) % self.images_per_batch
        p = self.patch_size
        batch = []
        for k, i in enumerate(chosen):
            image = load_image(self.paths[i], self.color_mode, self.normalize)
            h, w = image.shape[:2]
            if h < p or w < p:
                raise ValueError(
                    f"`patch_size` exceeds an image of {h}x{w} ({self.paths[i]}). "
                    f"Received: patch_size={p}"
                )
            for _ in range(int(np.sum(owner == k))):
                r, c = rng.integers(0, h - p + 1), rng.integers(0, w - p + 1)
                patch = image[r : r + p, c : c + p]
                if self.augment:
                    patch = np.rot90(patch, rng.integers(4))
                    if rng.integers(2):
                        patch = patch[:, ::-1]
                batch.append(patch)
        x = np.ascontiguousarray(np.stack(batch), dtype="float32")
        return (x, x) if self.targets else (x,)

    def on_epoch_end(self):
        self.epoch += 1

    def set_epoch(self, epoch):
        """Draws the batches of `epoch` next (a resumed run continues the same sequence)."""
        self.epoch = int(epoch)


class ArrayBatches(keras.utils.PyDataset):
    """Batches of in-memory arrays, reshuffled every epoch from `(seed, epoch)`.

    `fit` on plain arrays shuffles with each backend's own random state, so a run resumed
    from a checkpoint (or run on another backend) sees the data in another order. Here the
    order of epoch `e` is `np.random.default_rng([seed, e]).permutation(N)` on every
    backend, and `set_epoch` (see `keras_dae.callbacks.SyncDatasetEpoch`) lets a resumed
    run continue the very sequence an uninterrupted one would have seen.

    Args:
        x: array `(N, ...)`, the inputs.
        y: optional array `(N, ...)`, the targets (batches are `(x, y)`, else `(x,)`).
        batch_size: examples per batch (the last batch may be smaller).
        shuffle: reshuffle every epoch (False keeps the array order).
        seed: integer seed of the order.
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size` of `PyDataset`.

    Example:

    Pass `shuffle=False` to `fit`: the order is this dataset's; with `shuffle=True` Keras
    would also permute the batches with Python's global `random` state.

    >>> batches = ArrayBatches(x_train, batch_size=64, seed=0)
    >>> model.fit(batches, epochs=10, shuffle=False,
    ...           callbacks=[keras_dae.callbacks.SyncDatasetEpoch(batches)])
    """

    def __init__(self, x, y=None, batch_size=32, shuffle=True, seed=0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
        if y is not None and len(y) != len(x):
            raise ValueError(f"`x` and `y` must have the same length. Received: {len(x)} and {len(y)}")
        if len(x) == 0:
            raise ValueError("`x` is empty. Received: x of shape " + str(np.shape(x)))
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.set_epoch(0)

    def set_epoch(self, epoch):
        """Serves the batches of `epoch` next."""
        self.epoch = int(epoch)
        n = len(self.x)
        self.order = np.random.default_rng([self.seed, self.epoch]).permutation(n) if self.shuffle else np.arange(n)

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index out of range. Received: index={index}")
        rows = np.sort(self.order[index * self.batch_size : (index + 1) * self.batch_size])
        x = self.x[rows]
        return (x,) if self.y is None else (x, self.y[rows])

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)
