"""`DAE`: the denoising objective as a `keras.Model`, and the machinery the others share."""

import keras
import numpy as np
from keras import ops

from keras_dae import backend
from keras_dae.callbacks import unshare_averages
from keras_dae.layers import AdditiveGaussian, AdversarialNoise, Corruption
from keras_dae.models.inference import InferenceMixin
from keras_dae.models.views import ViewsMixin
from keras_dae.networks.common import is_conditioned

_LOSSES = ("mse", "bce")
_ALIASES = {"binary_crossentropy": "bce", "mean_squared_error": "mse"}


def _per_sample(values, x):
    return ops.reshape(values, (-1,) + (1,) * (len(x.shape) - 1))


def _deserialize(obj):
    return keras.saving.deserialize_keras_object(obj) if isinstance(obj, dict) else obj


def _tensor(v):
    """NumPy data (as eager, un-jitted trainers pass it) as a backend tensor."""
    return ops.convert_to_tensor(v) if isinstance(v, (np.ndarray, np.generic)) else v


def _mean_over_features(v):
    return ops.mean(v, axis=tuple(range(1, len(v.shape))))


@keras.saving.register_keras_serializable(package="keras_dae")
class DAE(InferenceMixin, ViewsMixin, keras.Model):
    """A denoising autoencoder (Vincent et al., 2008): corrupt, then reconstruct the clean x.

    `fit(clean_x)` corrupts every batch afresh with `corruption` (its own seeded
    generator, so the noise differs from step to step on every backend) and reconstructs
    the clean batch. `fit(x, x)` — the same array passed twice, as Keras autoencoder
    tutorials write it — means the same: clean data, corrupted. `fit(noisy_x, clean_x)`
    (two different arrays) trains on the given pairs and adds no corruption; whether data
    is paired is read from the first element of a dataset, generator, `PyDataset` or
    `DataLoader`. A σ-conditioned network needs its noisy inputs as `[x_noisy, sigma]`.
    `evaluate` and `validation_data` corrupt clean data with a fixed seed (`eval_seed`,
    reset at each `evaluate`, so `val_loss` is comparable across epochs), one forward pass
    per batch; with pairs they use them as given. `predict` and `denoise` never corrupt.

    The objective lives in `compute_loss` (which every Keras trainer calls) and the
    corruption in `call(training=True)`, so the same code trains on TensorFlow, JAX and
    PyTorch. In training, `call` returns a dict (`x_hat`, `x_tilde`, `sigma`, `mask`,
    `raw`); at inference it returns the denoised tensor. Metrics passed to `compile`
    compare the denoised output with the clean target.

    A σ-conditioned network (one taking `[x, sigma]`) is given the σ each example was
    corrupted with; at inference it takes `[x_noisy, sigma]`. Where no σ is given (e.g.
    `inpaint`), it gets the lowest σ it was trained with (`sigma_for_features`), never a σ
    outside its training range; `denoise` warns when asked for a σ outside that range.

    Args:
        network: a `keras.Model` mapping `x` (or `[x, sigma]`) to the reconstruction, e.g.
            from `keras_dae.networks`.
        corruption: a `keras_dae.layers.Corruption`; defaults to
            `AdditiveGaussian(sigma=0.1 × the value range's width)`.
        loss: `"mse"` or `"bce"` (binary cross-entropy; needs data and outputs in [0, 1]).
        alpha: float, weight of the corrupted elements (those the corruption's `mask`
            marks as replaced), Vincent et al. (2010)'s emphasis.
        beta: float, weight of the other elements.
        value_range: `(low, high)` of clean data, or None if unbounded; σ is in its units.
        eval_seed: int, the seed of the corruption used by `evaluate`.
        encoder_sigma: float or None, σ given to a conditioned network's encoder when it
            serves as a feature extractor (`encoder`); None means the lowest σ of the
            corruption.
        sampling: dict or None, the settings `sample` uses (keys
            `keras_dae.models.inference.SAMPLING_KEYS`: `sampler`, `sigma_max`, `sigma_min`,
            `levels`, `steps_per_sigma`, `step_size`, `denoise_final`, `init_mean`); None for the
            sampler's defaults. A zoo entry's are set by `keras_dae.load`.
        **kwargs: `keras.Model` arguments (`name`, ...).

    Example:

    >>> net = keras_dae.networks.conv_dae((28, 28, 1))
    >>> model = keras_dae.models.DAE(net, keras_dae.layers.AdditiveGaussian(sigma=0.3))
    >>> model.compile(optimizer="adam")
    >>> model.fit(x_train, epochs=5, validation_data=(x_val,))
    >>> clean = model.denoise(noisy)
    """

    def __init__(self, network, corruption=None, loss="mse", alpha=1.0, beta=1.0,
                 value_range=(0.0, 1.0), eval_seed=1234, encoder_sigma=None, sampling=None, **kwargs):
        super().__init__(**kwargs)
        network = _deserialize(network)
        if not isinstance(network, keras.Model):
            raise ValueError(f"`network` must be a keras.Model. Received: network={network!r}")
        if value_range is not None:
            value_range = tuple(float(v) for v in value_range)
            if len(value_range) != 2 or not value_range[0] < value_range[1]:
                raise ValueError(
                    f"`value_range` must be (low, high) with low < high. Received: value_range={value_range!r}"
                )
        width = 1.0 if value_range is None else value_range[1] - value_range[0]
        corruption = _deserialize(corruption) or AdditiveGaussian(sigma=0.1 * width)
        if not isinstance(corruption, Corruption):
            raise ValueError(
                f"`corruption` must be a keras_dae corruption layer. Received: corruption={corruption!r}"
            )
        loss = _ALIASES.get(loss, loss)
        if loss not in _LOSSES:
            raise ValueError(f"`loss` must be one of {_LOSSES}. Received: loss={loss!r}")
        self.network = network
        self.corruption = corruption
        self.reconstruction_loss = loss
        self.alpha, self.beta = float(alpha), float(beta)
        self.value_range = value_range
        self.eval_seed = int(eval_seed)
        self.encoder_sigma = None if encoder_sigma is None else float(encoder_sigma)
        self.conditioned = is_conditioned(network)
        self.sampling = sampling
        self.eval_seed_generator = keras.random.SeedGenerator(self.eval_seed)
        self._eval_state = ops.convert_to_numpy(self.eval_seed_generator.state.value)
        self._paired = False       # how fit's data arrives (clean, or noisy/clean pairs)
        self._eval_paired = False  # the same for evaluate
        self._evaluating = False   # inside evaluate: call corrupts with the eval generator
        self.built = True

    # The objective: subclasses override `_outputs`, `_per_sample_loss`, `_corrupted_outputs`.

    def _network(self, x_tilde, sigma):
        if not self.conditioned:
            return self.network(x_tilde)
        if sigma is None:  # never σ = 0 (log σ = −27.6 in the embedding): the lowest trained σ
            low = (self.corruption.sigma_min if self.encoder_sigma is None and
                   isinstance(self.corruption, AdditiveGaussian) else self.sigma_for_features)
            sigma = ops.ones((ops.shape(x_tilde)[0],), x_tilde.dtype) * ops.cast(low, x_tilde.dtype)
        return self.network([x_tilde, ops.reshape(ops.cast(sigma, x_tilde.dtype), (-1,))])

    def _outputs(self, x_tilde, sigma=None, mask=None):
        """The network's prediction on `x_tilde` as a dict with at least `x_hat`."""
        raw = self._network(x_tilde, sigma)
        return self._pack(raw, raw, x_tilde, sigma, mask)

    def _pack(self, x_hat, raw, x_tilde, sigma, mask):
        batch = ops.shape(x_tilde)[0]
        sigma = ops.zeros((batch,), x_tilde.dtype) if sigma is None else ops.reshape(ops.cast(sigma, x_tilde.dtype), (-1,))
        mask = ops.zeros_like(x_tilde) if mask is None else mask
        return {"x_hat": x_hat, "raw": raw, "x_tilde": x_tilde, "sigma": sigma, "mask": mask}

    def _elementwise(self, prediction, target):
        # float32 whatever the compute dtype: in float16, 1 − 1e-7 rounds to 1 and BCE is NaN.
        prediction, target = ops.cast(prediction, "float32"), ops.cast(target, "float32")
        if self.reconstruction_loss == "bce":
            p = ops.clip(prediction, 1e-7, 1.0 - 1e-7)
            return -(target * ops.log(p) + (1.0 - target) * ops.log(1.0 - p))
        return ops.square(prediction - target)

    def _weighted(self, elementwise, mask):
        if self.alpha == 1.0 and self.beta == 1.0:
            return _mean_over_features(elementwise)
        weights = self.alpha * ops.cast(mask, elementwise.dtype) + self.beta * (1.0 - ops.cast(mask, elementwise.dtype))
        return _mean_over_features(weights * elementwise)

    def _per_sample_loss(self, x, outputs):
        """The loss of each example, `(batch,)`, given the clean `x` and `outputs`."""
        return self._weighted(self._elementwise(outputs["x_hat"], x), outputs["mask"])

    def _corrupt(self, x, seed_generator):
        if isinstance(self.corruption, AdversarialNoise):
            loss_fn = lambda v: ops.mean(self._per_sample_loss(x, self._outputs(v)))  # noqa: E731
            return self.corruption.perturb(x, loss_fn), self.corruption.no_info(x)
        return self.corruption.corrupt_with(x, seed_generator)

    def _corrupted_outputs(self, x, seed_generator):
        """Corrupts the clean `x` and returns the network's outputs on it."""
        x_tilde, info = self._corrupt(x, seed_generator)
        return self._outputs(x_tilde, info["sigma"], info["mask"])

    # Keras hooks.

    def _split(self, inputs):
        if isinstance(inputs, dict):
            x, sigma = inputs["x"], inputs.get("sigma")
        elif isinstance(inputs, (list, tuple)):
            if len(inputs) != 2:
                raise ValueError(f"Inputs must be `x` or `[x, sigma]`. Received: {len(inputs)} inputs")
            x, sigma = inputs
        else:
            x, sigma = inputs, None
        return _tensor(x), _tensor(sigma)

    def call(self, inputs, training=False):
        x, sigma = self._split(inputs)
        if not (training or self._evaluating):
            return self._outputs(x, sigma)["x_hat"]
        paired = self._paired if training else self._eval_paired
        if paired and sigma is None and self.conditioned:
            raise ValueError(_PAIRS_NEED_SIGMA.format(type(self).__name__))
        if not paired and sigma is None:
            generator = self.corruption.seed_generator if training else self.eval_seed_generator
            return self._corrupted_outputs(x, generator)
        return self._outputs(x, sigma)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        target, outputs = self._loss_terms(x, y, y_pred, training)
        per_sample = self._per_sample_loss(target, outputs)
        if sample_weight is not None:
            w = ops.reshape(ops.cast(sample_weight, per_sample.dtype), (-1,))
            loss = ops.sum(per_sample * w) / ops.maximum(ops.sum(w), 1e-12)
        else:
            loss = ops.mean(per_sample)
        for extra in self.losses:
            loss = loss + ops.cast(ops.sum(extra), loss.dtype)
        return loss

    def _loss_terms(self, x, y, y_pred, training):
        """(clean target, outputs): the call's outputs (one forward pass per step), or
        computed here when `compute_loss` is called without them."""
        x_in, sigma = self._split(x)
        if y is None:
            if sigma is not None:
                raise ValueError(
                    "Inputs `[x, sigma]` are noisy inputs and need clean targets: "
                    "fit([x_noisy, sigma], x_clean). Received: y=None"
                )
            if isinstance(y_pred, dict):
                return x_in, y_pred
            generator = self.corruption.seed_generator if training else self.eval_seed_generator
            return x_in, self._corrupted_outputs(x_in, generator)
        if self.conditioned and sigma is None:
            raise ValueError(_PAIRS_NEED_SIGMA.format(type(self).__name__))
        if isinstance(y_pred, dict):
            return _tensor(y), y_pred
        return _tensor(y), self._outputs(x_in, sigma)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        target = self._split(x)[0] if y is None else _tensor(y)
        x_hat = y_pred["x_hat"] if isinstance(y_pred, dict) else y_pred
        return super().compute_metrics(x, target, x_hat, sample_weight=sample_weight)

    def compile(self, *args, **kwargs):
        loss = kwargs.get("loss", args[1] if len(args) > 1 else None)
        if loss is not None:
            raise ValueError(
                f"{type(self).__name__} defines its own objective: pass `loss=` to the "
                f"constructor, not to compile(). Received: loss={loss!r}"
            )
        return super().compile(*args, **kwargs)

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def _set_paired(self, paired):
        if paired != self._paired:
            self._paired = paired
            self.train_function = None

    def _set_eval_paired(self, paired):
        if paired != self._eval_paired:
            self._eval_paired = paired
            self.test_function = None

    def fit(self, x=None, y=None, *args, **kwargs):
        if y is not None and y is x:  # fit(x, x): clean data, as in the Keras tutorials
            y = None
        x, first = _peek(x)
        paired = y is not None or _is_pair(first)
        inputs = x if y is not None else (first[0] if _is_pair(first) else None)
        if paired and self.conditioned and self._split(inputs)[1] is None:  # before any tracing
            raise ValueError(_PAIRS_NEED_SIGMA.format(type(self).__name__))
        self._set_paired(paired)
        backend.build_optimizer(self)
        history = super().fit(x, y, *args, **kwargs)
        unshare_averages(self)
        return history

    def train_on_batch(self, x, y=None, *args, **kwargs):
        self._set_paired(y is not None and y is not x)
        backend.build_optimizer(self)
        return super().train_on_batch(x, None if y is x else y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        if y is not None and y is x:
            y = None
        x, first = _peek(x)
        self._set_eval_paired(y is not None or _is_pair(first))
        self.reset_eval_corruption()
        self._evaluating = True
        try:
            return super().evaluate(x, y, *args, **kwargs)
        finally:
            self._evaluating = False

    def test_on_batch(self, x, y=None, *args, **kwargs):
        self._set_eval_paired(y is not None and y is not x)
        self._evaluating = True
        try:
            return super().test_on_batch(x, None if y is x else y, *args, **kwargs)
        finally:
            self._evaluating = False

    def reset_eval_corruption(self):
        """Resets the generator `evaluate` corrupts with (done at the start of each
        `evaluate`, so every evaluation of the same data sees the same noise)."""
        self.eval_seed_generator.state.assign(self._eval_state)

    # The user-facing API.

    def predict(self, x, batch_size=None, *args, **kwargs):
        if self.conditioned and self._split(x)[1] is None:
            raise ValueError(
                f"{type(self).__name__} is conditioned on σ: predict([x_noisy, sigma]) or "
                "denoise(x_noisy, sigma=...). Received: x alone"
            )
        replicas = _replicas()
        if replicas == 1 or not _is_arrays(x):
            return super().predict(x, batch_size, *args, **kwargs)
        # Under a data-parallel distribution every batch splits across the devices: pad
        # the examples (and the batch size) to a multiple of the device count, then drop
        # the padding, so that `denoise` of one image works inside `DataParallel.scope()`.
        n, padded = _pad_batch(x, replicas)
        batch_size = -(-(batch_size or 32) // replicas) * replicas
        return super().predict(padded, batch_size, *args, **kwargs)[:n]

    def predict_step(self, *args):
        # On torch, a traced graph of `call` from a signature's second call on, instead of
        # Keras' layer-by-layer Python (`keras_dae.backend.TracedInference`). JAX's
        # predict_step takes (state, data), and is compiled, as TensorFlow's is.
        if keras.backend.backend() == "torch":
            traced = self.__dict__.get("_traced_inference")
            if traced is None:
                traced = backend.TracedInference()
                object.__setattr__(self, "_traced_inference", traced)
            x, _, _ = keras.utils.unpack_x_y_sample_weight(args[-1])
            outputs = traced(self, x)
            if outputs is not None:
                return outputs
        return super().predict_step(*args)

    def predict_on_batch(self, x):
        replicas = _replicas()
        if replicas == 1 or not _is_arrays(x):
            return super().predict_on_batch(x)
        n, padded = _pad_batch(x, replicas)
        return super().predict_on_batch(padded)[:n]  # numpy, as Keras returns it

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "network": keras.saving.serialize_keras_object(self.network),
            "corruption": keras.saving.serialize_keras_object(self.corruption),
            "loss": self.reconstruction_loss,
            "alpha": self.alpha,
            "beta": self.beta,
            "value_range": self.value_range,
            "eval_seed": self.eval_seed,
            "encoder_sigma": self.encoder_sigma,
            "sampling": None if self.sampling is None else dict(self.sampling),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = _deserialize(config["network"])
        config["corruption"] = _deserialize(config["corruption"])
        return cls(**config)


def _replicas():
    """The devices each batch is split across: 1 unless a `keras.distribution` is active."""
    distribution = keras.distribution.distribution()
    mesh = getattr(distribution, "device_mesh", None)
    return 1 if mesh is None else int(np.prod(mesh.shape))


def _is_arrays(x):
    parts = x if isinstance(x, (list, tuple)) else [x]
    return all(isinstance(p, np.ndarray) for p in parts)


def _pad_batch(x, multiple):
    """`(n, x padded)`: the examples repeated at the end to a multiple of `multiple`."""
    parts = list(x) if isinstance(x, (list, tuple)) else [x]
    n = len(parts[0])
    extra = (-n) % multiple
    if extra:
        parts = [np.concatenate([p, np.repeat(p[-1:], extra, axis=0)]) for p in parts]
    return n, (parts if isinstance(x, (list, tuple)) else parts[0])


def _is_pair(element):
    return isinstance(element, (tuple, list)) and len(element) >= 2 and element[1] is not None


_PAIRS_NEED_SIGMA = (
    "{} is conditioned on σ: pairs must give it, fit([x_noisy, sigma], x_clean) (or "
    "fit(x_clean) to corrupt clean data). Received: (x_noisy, x_clean) pairs without sigma"
)


def _prepend(first, rest):
    yield first
    yield from rest


def _peek(data):
    """`(data, first)`: the first element of a dataset, read for every kind `fit` takes
    (tf.data: its spec; `PyDataset`, torch `DataLoader`: their first batch; a one-shot
    generator: its first batch, put back in front of the others), None for arrays."""
    import types

    spec = getattr(data, "element_spec", None)
    if spec is not None:
        return data, spec
    if isinstance(data, keras.utils.PyDataset):
        return data, data[0]
    if isinstance(data, (types.GeneratorType, map, filter, zip)) or (
            hasattr(data, "__next__") and iter(data) is data):
        first = next(data)
        return _prepend(first, data), first
    if hasattr(data, "__iter__") and hasattr(data, "batch_size") and hasattr(data, "dataset"):
        return data, next(iter(data))  # a torch DataLoader
    return data, None
