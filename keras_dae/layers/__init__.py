"""Corruption layers, σ-embeddings, and the layers keras-dae's networks are built of."""

from keras_dae.layers.adversarial import AdversarialNoise as AdversarialNoise
from keras_dae.layers.base import Corruption as Corruption
from keras_dae.layers.color import ChannelsToBatch as ChannelsToBatch
from keras_dae.layers.color import ColorMatrix as ColorMatrix
from keras_dae.layers.color import SigmaPerChannel as SigmaPerChannel
from keras_dae.layers.compose import Compose as Compose
from keras_dae.layers.compose import RandomChoice as RandomChoice
from keras_dae.layers.convolution import Conv2D as Conv2D
from keras_dae.layers.convolution import adopt_convolutions as adopt_convolutions
from keras_dae.layers.embedding import FiLM as FiLM
from keras_dae.layers.embedding import SigmaChannel as SigmaChannel
from keras_dae.layers.embedding import SinusoidalEmbedding as SinusoidalEmbedding
from keras_dae.layers.gaussian import AdditiveGaussian as AdditiveGaussian
from keras_dae.layers.impulse import SaltAndPepper as SaltAndPepper
from keras_dae.layers.masking import BlockMasking as BlockMasking
from keras_dae.layers.masking import GaussianMasking as GaussianMasking
from keras_dae.layers.masking import MaskingNoise as MaskingNoise
from keras_dae.layers.normalization import GroupNormalization as GroupNormalization
from keras_dae.layers.resampling import UpSampling2D as UpSampling2D
