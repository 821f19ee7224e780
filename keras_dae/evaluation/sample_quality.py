"""How good samples are, as numbers: the Fréchet distance between samples and real images in
the features of a fixed classifier, and the class histogram that classifier gives them.

The Fréchet distance (Heusel et al., 2017) fits a Gaussian to each set of features and
measures ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½). Its value depends on the feature extractor
and on the number of samples (it is biased upwards for small sets), so distances are
comparable only within one extractor and one sample count. keras-dae measures MNIST samples
in the last hidden layer (1,000 units) of the zoo's `sdae-mnist-mask-classifier` (98.6 %
test accuracy); the features are computed once per set and reused.

Example:

>>> quality = SampleQuality.from_zoo()
>>> ref = quality.features(x_test)
>>> quality.frechet_distance(quality.features(samples), ref)
>>> quality.class_histogram(samples)
"""

import numpy as np

CLASSIFIER = "sdae-mnist-mask-classifier"
FEATURE_LAYER = "encoder"  # the classifier's last hidden layer: 1,000 sigmoid units


def frechet_distance(features_a, features_b):
    """The Fréchet distance between Gaussians fitted to two feature sets `(n, d)`.

    Args:
        features_a, features_b: arrays of shape `(n_a, d)` and `(n_b, d)`, n ≥ 2.

    Returns:
        A float ≥ 0 (up to rounding).
    """
    from scipy import linalg

    a, b = (np.asarray(f, "float64") for f in (features_a, features_b))
    for name, f in (("features_a", a), ("features_b", b)):
        if f.ndim != 2 or len(f) < 2:
            raise ValueError(f"`{name}` must have shape (n >= 2, d). Received: shape {f.shape}")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"The feature sizes differ. Received: {a.shape[1]} and {b.shape[1]}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
    if not np.all(np.isfinite(root)):  # a singular product: nudge both (as pytorch-fid does)
        eps = 1e-6 * np.eye(len(cov_a))
        root = linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    root = np.real(root)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root))


class SampleQuality:
    """A fixed classifier turned into a ruler for samples.

    Args:
        classifier: a `keras.Model` mapping images to logits, with a sub-model or layer
            named `feature_layer` whose output is the feature space.
        feature_layer: the name of that layer (default: the zoo classifier's `encoder`).
        batch_size: batch size of the forward passes.
    """

    def __init__(self, classifier, feature_layer=FEATURE_LAYER, batch_size=1000):
        import keras

        self.classifier = classifier
        layer = classifier.get_layer(feature_layer)
        self._features = layer if isinstance(layer, keras.Model) else keras.Model(
            classifier.inputs, layer.output)
        self.feature_layer = feature_layer
        self.batch_size = int(batch_size)

    @classmethod
    def from_zoo(cls, name=CLASSIFIER, **kwargs):
        """The ruler of keras-dae's tables: the zoo classifier `name`'s last hidden layer."""
        import keras_dae

        return cls(keras_dae.load(name), **kwargs)

    def _map(self, fn, x):
        x = np.asarray(x, "float32")
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4 or len(x) == 0:
            raise ValueError(f"`x` must be a non-empty batch of images (n, h, w, c). Received: shape {x.shape}")
        return np.concatenate([np.asarray(fn(x[i:i + self.batch_size]))
                               for i in range(0, len(x), self.batch_size)])

    def features(self, x):
        """The feature vectors `(n, d)` of images `x` in [0, 1], `(n, 28, 28, 1)`."""
        return self._map(self._features.predict_on_batch, x).reshape(len(x), -1)

    def predict_classes(self, x):
        """The classifier's class for each image."""
        return self._map(self.classifier.predict_on_batch, x).argmax(-1)

    def class_histogram(self, x):
        """The fraction of images `x` the classifier puts in each of its classes, summing to 1."""
        counts = np.bincount(self.predict_classes(x), minlength=self.classifier.outputs[0].shape[-1])
        return counts / counts.sum()

    def frechet_distance(self, features_a, features_b):
        """`frechet_distance` of two feature sets (from `features`)."""
        return frechet_distance(features_a, features_b)
