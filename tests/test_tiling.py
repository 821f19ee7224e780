"""Any image size: windows cover the image, and a tiled denoise equals the whole-image one."""

import numpy as np
import pytest

from keras_dae import layers, models, networks, tiling
from tests.helpers import random_inputs


@pytest.mark.parametrize("length,tile,radius", [(10, 16, 3), (50, 20, 4), (97, 33, 16), (64, 64, 0)])
def test_windows_cover_every_pixel_once_away_from_inner_edges(length, tile, radius):
    spans = tiling.windows(length, tile, radius)
    covered = np.zeros(length, int)
    for a, b, c, d in spans:
        assert b - a == min(tile, length) and a <= c < d <= b
        assert c == 0 or c - a >= radius
        assert d == length or b - d >= radius
        covered[c:d] += 1
    np.testing.assert_array_equal(covered, 1)


def test_too_small_a_tile_is_refused():
    with pytest.raises(ValueError, match="tile_size"):
        tiling.windows(100, 8, 4)


def test_receptive_radius():
    assert tiling.receptive_radius(networks.dncnn(depth=17)) == 17
    assert tiling.receptive_radius(networks.dncnn(depth=5, sigma_conditioning="film", embedding_dim=8)) == 5
    assert tiling.receptive_radius(networks.unet((28, 28, 1))) is None  # fixed size: never tiled


@pytest.mark.parametrize("conditioned", [False, True])
def test_tiled_denoise_equals_the_whole_image(conditioned):
    net = networks.dncnn(depth=5, filters=8, sigma_conditioning="film" if conditioned else None,
                         embedding_dim=8)
    model = models.ResidualDAE(net, layers.AdditiveGaussian(sigma_range=(0.0, 0.2)))
    x = random_inputs((2, 61, 45, 1))
    sigma = 0.1 if conditioned else None
    whole = model.denoise(x, sigma=sigma)
    tiled = model.denoise(x, sigma=sigma, tile_size=16)  # 16-pixel windows, radius 5
    assert tiled.shape == whole.shape
    np.testing.assert_allclose(tiled, whole, atol=1e-4, rtol=0)
    if conditioned:  # blind use estimates σ in windows too
        np.testing.assert_allclose(model.denoise(x, tile_size=16), model.denoise(x), atol=1e-4, rtol=0)


def test_progress_reports_every_window_once():
    from keras_dae import tiling

    calls = []
    x = np.zeros((2, 50, 40, 1), "float32")
    out = tiling.predict_tiled(lambda b: b + 1.0, x, tile=24, radius=2, batch_size=3,
                               progress=lambda done, total: calls.append((done, total)))
    np.testing.assert_array_equal(out, x + 1.0)
    total = calls[-1][1]
    assert calls[-1] == (total, total) and [d for d, _ in calls] == sorted({d for d, _ in calls})
