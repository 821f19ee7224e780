"""The encoder and decoder of an objective's network as `keras.Model`s: views sharing the
network's layers (and so its weights), built once per model and kept."""

from keras import ops

from keras_dae.layers import AdditiveGaussian
from keras_dae.networks.common import decoder_model, encoder_model


class _Views:
    """The models built on a network's layers (encoder, decoder), built once per key and
    kept for the life of the model that owns them.

    Keras' saving walks every public attribute, properties included, and remembers the
    objects it has visited by `id()`. A property that built a new model at each access
    handed it objects that die during the walk; a later one could take a dead one's `id`,
    be skipped as visited, and leave its layers unloaded (docs/upstream/saving_transient_ids.py).
    Kept views never die during a walk. Not a dict, so that neither Keras' attribute
    tracking nor its saving walk looks inside.
    """

    def __init__(self):
        self._models = {}

    def get(self, key, build):
        if key not in self._models:
            self._models[key] = build()
        return self._models[key]


class ViewsMixin:
    """`encoder`, `spatial_encoder` and `decoder` of a model with a `network` (and a
    `corruption` and `encoder_sigma`, for the σ the encoder of a conditioned network uses)."""

    @property
    def sigma_for_features(self):
        if self.encoder_sigma is not None:
            return self.encoder_sigma
        if isinstance(self.corruption, AdditiveGaussian):
            return float(ops.convert_to_numpy(self.corruption.sigma_min))
        return 0.0

    @property
    def encoder(self):
        """The encoder as a `keras.Model` on `x` alone (sharing the network's weights),
        with one feature vector per example (pooled for conv nets and U-Nets). The same
        object at every access (for the same `encoder_sigma`)."""
        sigma = self.sigma_for_features
        return self._view(("encoder", sigma),
                          lambda: encoder_model(self.network, pooled=True, sigma=sigma))

    @property
    def spatial_encoder(self):
        """The encoder's unpooled code (a feature map for conv nets and U-Nets)."""
        sigma = self.sigma_for_features
        return self._view(("spatial_encoder", sigma), lambda: encoder_model(
            self.network, pooled=False, sigma=sigma, name="spatial_encoder"))

    @property
    def decoder(self):
        """The decoder, from the code (and U-Net skips, σ embedding) to the network's output."""
        return self._view(("decoder",), lambda: decoder_model(self.network))

    def _view(self, key, build):
        if "_views" not in self.__dict__:
            self._views = _Views()
        return self._views.get(key, build)
