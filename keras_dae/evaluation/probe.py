"""The linear probe: how linearly separable a frozen encoder's features make the classes."""

import numpy as np


def linear_probe(encoder, x_train, y_train, x_test, y_test, batch_size=256, max_iter=1000,
                 standardize=True):
    """Test accuracy of a logistic regression on frozen, standardized encoder features.

    Args:
        encoder: a Keras model or callable mapping images to features.
        x_train, y_train: images and labels the classifier is fitted on.
        x_test, y_test: images and labels it is scored on.
        batch_size: batch size of the feature extraction.
        max_iter: iterations of the solver.
        standardize: bool, scale each feature to zero mean and unit variance (fitted on
            `x_train`). Raw pixels do better without it (the near-constant border pixels
            are otherwise blown up); learned codes converge faster with it.

    Returns:
        The test accuracy, a float.

    Example:
    >>> acc = linear_probe(model.encoder, x_train[:10000], y_train[:10000], x_test, y_test)
    """
    import keras
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def features(x):
        out = [keras.ops.convert_to_numpy(encoder(x[i : i + batch_size], training=False)
                                          if isinstance(encoder, keras.Model)
                                          else encoder(x[i : i + batch_size]))
               for i in range(0, len(x), batch_size)]
        return np.concatenate(out).reshape(len(x), -1)

    train, test = features(x_train), features(x_test)
    if standardize:
        scaler = StandardScaler().fit(train)
        train, test = scaler.transform(train), scaler.transform(test)
    clf = LogisticRegression(max_iter=max_iter)
    clf.fit(train, y_train)
    return float(clf.score(test, y_test))
