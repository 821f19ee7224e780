"""keras-dae: denoising autoencoders for Keras 3, on TensorFlow, JAX and PyTorch."""

__version__ = "0.1.0"

from keras_dae import callbacks as callbacks
from keras_dae import layers as layers
from keras_dae import models as models
from keras_dae import networks as networks
from keras_dae import downstream as downstream
from keras_dae.hub import load as load, publish as publish
from keras_dae.registry import list_models as list_models
from keras_dae.evaluation import evaluate as evaluate
