"""The zoo registry: typed entries, validation, look-up; and every shipped entry, checked
without new test code (parametrized over `keras_dae/weights/registry.json`)."""

import json
import zipfile

import pytest

import keras_dae
from keras_dae.zoo import archives, registry

FIELDS = dict(architecture="MLP 784-256-784", objective="DAE, MSE", dataset="mnist",
              corruption="AdditiveGaussian σ=0.3", hf_repo="someone/mlp-mnist-gauss",
              sha256="ab" * 32)


@pytest.fixture
def temp_names():
    names = []
    yield names
    for name in names:
        registry.unregister(name)


def make(name, **overrides):
    return registry.ModelEntry(name=name, **{**FIELDS, **overrides})


@pytest.mark.parametrize("name", ["mlp-mnist-gauss", "unet-mnist-mask-inpaint", "sdae2-mnist-saltpepper"])
def test_valid_names(name):
    assert make(name).name == name


@pytest.mark.parametrize("field, value, match", [
    ("name", "mnist-gauss", "name="),
    ("name", "UNet-mnist-gauss", "name="),
    ("name", "unet_mnist_gauss", "name="),
    ("name", "a-mnist-b-c-d", "name="),
    ("name", "unet-cifar10-gauss", "dataset="),
    ("hf_repo", "no-slash", "hf_repo="),
    ("sha256", "abc", "sha256="),
    ("revision", "main", "revision="),
    ("packaged", "../evil.keras", "packaged="),
    ("packaged", "model.h5", "packaged="),
    ("value_range", (1.0, 0.0), "value_range="),
])
def test_invalid_fields_name_the_argument(field, value, match):
    fields = {"name": "mlp-mnist-gauss", **FIELDS, field: value}
    with pytest.raises(ValueError, match=match):
        registry.ModelEntry(**fields)


def test_entries_are_frozen_data_that_round_trip_through_json():
    entry = make("mlp-mnist-gauss", metrics={"psnr@sigma=0.3": 24}, revision="c" * 40,
                 value_range=[-1, 1])
    assert entry.value_range == (-1.0, 1.0) and entry.metrics["psnr@sigma=0.3"] == 24.0
    with pytest.raises(AttributeError):
        entry.name = "other-mnist-gauss"
    with pytest.raises(TypeError):
        entry.metrics["psnr"] = 1.0
    again = registry.ModelEntry.from_dict(json.loads(json.dumps(entry.to_dict())))
    assert again == entry and hash(again) == hash(entry)
    with pytest.raises(ValueError, match="Unknown ModelEntry fields \\['colour'\\]"):
        registry.ModelEntry.from_dict({**entry.to_dict(), "colour": "red"})


def test_register_get_list_and_unregister(temp_names):
    for name in ("zz-mnist-gauss", "zz-mnist-mask", "yy-mnist-gauss"):
        registry.register(make(name))
        temp_names.append(name)
    assert registry.list_models("zz-*") == ["zz-mnist-gauss", "zz-mnist-mask"]
    assert registry.list_models("*-mnist-gauss")[-2:] == ["yy-mnist-gauss", "zz-mnist-gauss"]
    assert keras_dae.list_models() == sorted(keras_dae.list_models())
    assert registry.get("zz-mnist-mask").name == "zz-mnist-mask"
    with pytest.raises(ValueError, match="already registered"):
        registry.register(make("zz-mnist-mask"))
    registry.register(make("zz-mnist-mask", description="v2"), overwrite=True)
    assert registry.get("zz-mnist-mask").description == "v2"
    with pytest.raises(KeyError, match="Did you mean 'zz-mnist-mask'"):
        registry.get("zz-mnist-masc")
    with pytest.raises(TypeError, match="entry="):
        registry.register({"name": "zz-mnist-gauss"})
    assert registry.unregister("zz-mnist-gauss").name == "zz-mnist-gauss"
    assert "zz-mnist-gauss" not in keras_dae.list_models()


SHIPPED = [entry.name for entry in registry.entries()]
# The opponent-colour network's output is the gray trunk's unit noise (per channel) plus the
# cross-channel head on the code: not a function of the code alone, so no decoder view.
WITHOUT_DECODER = {"dncnn-cbsd432-gauss"}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_entry_is_packaged_verified_and_loads_offline(name):
    entry = registry.get(name)
    assert entry.packaged_file() is not None, f"{name}: keras_dae/weights/{entry.packaged} missing"
    with entry.packaged_file().open("rb") as f, zipfile.ZipFile(f) as zf:
        assert archives.sha256_hex(zf.read(entry.weights_file)) == entry.sha256
    model = keras_dae.load(name)
    assert model.compiled
    if entry.task == "image-classification":  # a head on an encoder: logits of the classes
        assert model.output_shape == (None, 10), f"{name}: output shape {model.output_shape}"
        return
    for attribute in ("denoise", "encoder"):
        assert hasattr(model, attribute), f"{name}: no `{attribute}`"
    if name in WITHOUT_DECODER:
        with pytest.raises(ValueError, match="has no decoder"):
            model.decoder
    else:
        assert model.decoder is not None
