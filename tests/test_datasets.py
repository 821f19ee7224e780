import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

from keras_dae import datasets


def _fake_arrays(n_train=10_012, n_test=7, shape=(6, 6)):
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (n_train,) + shape, dtype=np.uint8),
        "y_train": np.arange(n_train) % 10,
        "x_test": rng.integers(0, 256, (n_test,) + shape, dtype=np.uint8),
        "y_test": np.arange(n_test) % 10,
    }


def _write_images(folder, n=3, size=(24, 20), mode="L"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        shape = size[::-1] + ((3,) if mode == "RGB" else ())
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(
            folder / f"im{i}.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_DAE_DATA", str(tmp_path))
    assert datasets.data_root() == str(tmp_path)
    monkeypatch.delenv("KERAS_DAE_DATA")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert datasets.data_root() == str(tmp_path / "kh" / "datasets")


def test_mnist_splits(mnist_path, monkeypatch):
    monkeypatch.setenv("KERAS_DAE_DATA", str(mnist_path.parents[1]))
    with np.load(mnist_path, allow_pickle=False) as f:
        x_train, y_train, y_test = f["x_train"], f["y_train"], f["y_test"]
    x, y = datasets.load_mnist("train")
    assert x.shape == (50_000, 28, 28, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() == 1.0
    np.testing.assert_array_equal(y, y_train[:50_000])
    x, y = datasets.load_mnist("val", num_images=100)
    np.testing.assert_allclose(x[..., 0], x_train[50_000:50_100] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(y, y_train[50_000:50_100])
    x, y = datasets.load_mnist("test", normalize=False)
    assert x.shape == (10_000, 28, 28, 1) and x.max() == 255.0
    np.testing.assert_array_equal(y, y_test)


@pytest.mark.parametrize("layout", ["flat", "nested"])
def test_local_npz_first(tmp_path, monkeypatch, layout):
    path = tmp_path / "fashion_mnist.npz" if layout == "flat" else (
        tmp_path / "fashion_mnist" / "fashion_mnist.npz")
    path.parent.mkdir(exist_ok=True)
    arrays = _fake_arrays()
    np.savez(path, **arrays)

    def no_download():
        raise AssertionError("the downloader must not be called")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", no_download)
    x, y = datasets.load_keras_dataset("fashion_mnist", "train", data_dir=str(tmp_path))
    assert x.shape == (12, 6, 6, 1)
    x, y = datasets.load_keras_dataset("fashion_mnist", "val", data_dir=str(tmp_path))
    np.testing.assert_array_equal(y, arrays["y_train"][12:])
    x, _ = datasets.load_keras_dataset("fashion_mnist", "test", data_dir=str(tmp_path))
    np.testing.assert_allclose(x[..., 0], arrays["x_test"] / 255.0, atol=1e-7)


def test_falls_back_to_downloader(tmp_path, monkeypatch):
    arrays = _fake_arrays(shape=(4, 4, 3))
    calls = []

    def load_data():
        calls.append(1)
        return (arrays["x_train"], arrays["y_train"][:, None]), (arrays["x_test"],
                                                                 arrays["y_test"][:, None])

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", load_data)
    x, y = datasets.load_keras_dataset("cifar10", "test", data_dir=str(tmp_path))
    assert calls and x.shape == (7, 4, 4, 3) and y.shape == (7,)


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="Received: split='validation'"):
        datasets.load_mnist("validation")
    with pytest.raises(ValueError, match="Received: name='svhn'"):
        datasets.load_keras_dataset("svhn")
    with pytest.raises(ValueError, match="No images"):
        datasets.list_images(str(tmp_path))


def test_no_framework_imported_by_datasets():
    code = ("import sys, keras_dae.datasets, keras_dae.metrics, keras_dae.evaluation, "
            "keras_dae.evaluation.baselines; "
            "print([m for m in ('tensorflow', 'torch', 'tensorflow_datasets') "
            "if m in sys.modules])")
    env = dict(os.environ, KERAS_BACKEND="jax")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_tfds_loader_with_mock_data(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=6):
        x, y = datasets.load_tfds("mnist", "train", data_dir=str(tmp_path))
    assert x.shape == (6, 28, 28, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and y.shape == (6,)


def test_image_folder_whole_images(tmp_path):
    _write_images(tmp_path / "gray", n=3)
    _write_images(tmp_path / "color", n=2, mode="RGB")
    images = datasets.load_image_folder(str(tmp_path / "gray"))
    assert len(images) == 3 and images[0].shape == (20, 24, 1) and images[0].max() <= 1.0
    color = datasets.load_image_folder(str(tmp_path / "color"), color_mode="rgb",
                                       normalize=False)
    assert color[0].shape == (20, 24, 3) and color[0].max() > 1.0
    gray_of_color = datasets.load_image_folder(str(tmp_path / "color"), num_images=1)
    assert len(gray_of_color) == 1 and gray_of_color[0].shape == (20, 24, 1)


def test_shared_gray_set(monkeypatch):
    root = os.environ.get("KERAS_DAE_DATA", "")
    if not os.path.isdir(os.path.join(root, "gray", "set12")):
        pytest.skip("set12 not found; set KERAS_DAE_DATA")
    images = datasets.load_image_folder("set12", normalize=False)
    assert len(images) == 12 and all(im.shape[-1] == 1 for im in images)
    assert {im.shape[:2] for im in images} <= {(256, 256), (512, 512)}


def test_patch_dataset_is_seeded_and_lazy(tmp_path):
    folder = _write_images(tmp_path / "imgs", n=4)
    ds = datasets.ImagePatchDataset(str(folder), patch_size=8, batch_size=6,
                                    steps_per_epoch=3, images_per_batch=2, seed=1)
    assert len(ds) == 3
    x, y = ds[0]
    assert x.shape == (6, 8, 8, 1) and x.dtype == np.float32 and x is y
    again = datasets.ImagePatchDataset(str(folder), patch_size=8, batch_size=6,
                                       steps_per_epoch=3, images_per_batch=2, seed=1)
    np.testing.assert_array_equal(again[0][0], x)
    assert not np.array_equal(ds[1][0], x)
    ds.on_epoch_end()
    assert not np.array_equal(ds[0][0], x)
    with pytest.raises(IndexError):
        ds[3]
    with pytest.raises(ValueError, match="Received: patch_size=0"):
        datasets.ImagePatchDataset(str(folder), patch_size=0)
    big = datasets.ImagePatchDataset(str(folder), patch_size=64, batch_size=2,
                                     steps_per_epoch=1)
    with pytest.raises(ValueError, match="Received: patch_size=64"):
        big[0]


def test_patch_dataset_feeds_fit(tmp_path):
    folder = _write_images(tmp_path / "imgs", n=3, mode="RGB")
    ds = datasets.ImagePatchDataset(str(folder), patch_size=8, batch_size=4,
                                    steps_per_epoch=2, color_mode="rgb", seed=0)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(3, 3, padding="same")])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and ds.epoch >= 2
    only_x = datasets.ImagePatchDataset(str(folder), patch_size=8, batch_size=4,
                                        steps_per_epoch=1, color_mode="rgb", targets=False)
    assert len(only_x[0]) == 1
    assert model.predict(only_x, verbose=0).shape == (4, 8, 8, 3)
