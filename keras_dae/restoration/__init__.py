"""Plug-and-play restoration with keras-dae's σ-conditioned denoisers as the prior:
degradation operators (`operators`: blur, downsampling, masks) and the DPIR solver
(`hqs.restore`), all in `keras.ops`, so the same code runs on the three backends.

Example:

>>> import keras_dae
>>> from keras_dae.restoration import Blur, restore
>>> prior = keras_dae.load("dncnn-bsd400-gauss")
>>> sharp = restore(blurred, Blur(kernel), noise_sigma=2.55 / 255, model=prior)
"""

from keras_dae.restoration.hqs import ITERATIONS as ITERATIONS
from keras_dae.restoration.hqs import restore as restore
from keras_dae.restoration.hqs import schedule as schedule
from keras_dae.restoration.operators import Blur as Blur
from keras_dae.restoration.operators import Downsample as Downsample
from keras_dae.restoration.operators import Mask as Mask
from keras_dae.restoration.operators import Operator as Operator
from keras_dae.restoration.operators import bicubic_kernel as bicubic_kernel
from keras_dae.restoration.operators import check_kernel as check_kernel
