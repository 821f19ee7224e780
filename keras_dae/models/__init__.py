"""Denoising objectives as `keras.Model` subclasses."""

from keras_dae.models.base import DAE as DAE
from keras_dae.models.inpainting import InpaintingDAE as InpaintingDAE
from keras_dae.models.residual import ResidualDAE as ResidualDAE
from keras_dae.models.score import ScoreDAE as ScoreDAE
from keras_dae.models.stacked import StackedDAE as StackedDAE
from keras_dae.models.walkback import WalkbackDAE as WalkbackDAE
