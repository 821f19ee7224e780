"""Network builders: plain functional `keras.Model`s, no training logic."""

from keras_dae.networks.common import ConstantSigma as ConstantSigma
from keras_dae.networks.common import EmbeddingBias as EmbeddingBias
from keras_dae.networks.common import decoder_model as decoder_model
from keras_dae.networks.common import encoder_model as encoder_model
from keras_dae.networks.common import is_conditioned as is_conditioned
from keras_dae.networks.color import opponent_color as opponent_color
from keras_dae.networks.conv import conv_dae as conv_dae
from keras_dae.networks.dncnn import dncnn as dncnn
from keras_dae.networks.mlp import TiedDense as TiedDense
from keras_dae.networks.mlp import mlp as mlp
from keras_dae.networks.unet import residual_block as residual_block
from keras_dae.networks.unet import unet as unet
