"""Keras 3.15.1 saving: objects visited by `id()` may die during the walk.

`saving_lib._load_state` (and `_save_state`) walk every attribute of a model, properties
included, and skip any object whose `id()` is in `visited_saveables`. A property that builds
a new object at each access (here `decoder` and `encoder`, views sharing the network's
layers) hands the walk objects that die once it moves on, while their ids stay in the set.
CPython reuses the memory of a freed object, so a model built later in the same walk can
get a dead one's id: it is then skipped, its layers are not loaded from where they were
saved, and the load fails with "Layer 'dense' expected 2 variables, but received 0" (or,
in a file with no other path to those layers, leaves them freshly initialised). Whether the
address is reused depends on when the garbage collector runs, so it fails now and then,
depending on what ran before in the process: keras-dae saw it on torch and on JAX.

Part 1 shows, deterministically, the dead objects whose ids the walk keeps. Part 2 makes
the allocator's choice explicit (the `encoder` view is given the dead `decoder` view's id)
to show what follows.

keras-dae's workaround: its models build each view once and keep it
(`keras_dae.models.views._Views`), so nothing the walk visits dies during it
(tests/test_models.py::test_loading_keeps_alive_what_it_visits).

    KERAS_BACKEND=jax python docs/upstream/saving_transient_ids.py
"""

import builtins
import gc
import os
import tempfile
import weakref

import keras
import numpy as np
from keras.src.saving import saving_lib


@keras.saving.register_keras_serializable("repro")
class Wrapper(keras.Model):
    def __init__(self, network=None, **kwargs):
        super().__init__(**kwargs)
        if network is None:
            x = keras.Input((4,))
            h = keras.layers.Dense(3, name="enc")(x)
            network = keras.Model(x, keras.layers.Dense(4, name="dec")(h))
        self.network = network

    def call(self, x):
        return self.network(x)

    @property
    def decoder(self):  # a new model at each access
        dec = self.network.get_layer("dec")
        return keras.Model(dec.input, dec.output)

    @property
    def encoder(self):  # likewise
        return keras.Model(self.network.inputs, self.network.get_layer("enc").output)

    def get_config(self):
        return {**super().get_config(), "network": keras.saving.serialize_keras_object(self.network)}

    @classmethod
    def from_config(cls, config):
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return cls(**config)


decoder_view, encoder_view = Wrapper.decoder.fget, Wrapper.encoder.fget
model = Wrapper()
model(np.zeros((1, 4)))
path = os.path.join(tempfile.mkdtemp(), "model.keras")
model.save(path)

# Part 1: the objects the loader visits, and which of them are dead once it has finished.
visited = []
load_state = saving_lib._load_state


def recording(saveable, *args, **kwargs):
    visited.append((weakref.ref(saveable), kwargs.get("inner_path", args[2] if len(args) > 2 else "")))
    return load_state(saveable, *args, **kwargs)


saving_lib._load_state = recording
loaded = keras.saving.load_model(path)
gc.collect()
print("visited:", [p or "<model>" for _, p in visited])
print("dead while their ids stay in visited_saveables:", [p for r, p in visited if r() is None])
saving_lib._load_state = load_state

# Part 2: CPython gives the encoder view the dead decoder view's address (made explicit
# here: each view is tagged, and saving_lib's id() answers the decoder's id for the encoder).
Wrapper.decoder = property(lambda self: tagged(decoder_view(self), "decoder"))
Wrapper.encoder = property(lambda self: tagged(encoder_view(self), "encoder"))
ids = {}


def tagged(view, role):
    view.__dict__["_role"] = role
    return view


def id_with_reuse(obj):
    role = getattr(obj, "__dict__", {}).get("_role")
    if role == "decoder":
        ids["decoder"] = builtins.id(obj)
    if role == "encoder" and "decoder" in ids:
        return ids["decoder"]
    return builtins.id(obj)


saving_lib.id = id_with_reuse  # what the module's calls to id() see
try:
    again = keras.saving.load_model(path)
    same = all(np.array_equal(a, b) for a, b in zip(model.get_weights(), again.get_weights()))
    print("load with the address reused: no error; weights equal:", same)
except ValueError as e:
    lines = str(e).splitlines()
    print("load with the address reused:", lines[0], "|", lines[2])
