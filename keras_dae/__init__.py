"""keras-dae: denoising autoencoders for Keras 3, on TensorFlow, JAX and PyTorch."""

__version__ = "0.1.0"

from keras_dae import layers as layers
