"""keras-dae: denoising autoencoders for Keras 3, on TensorFlow, JAX and PyTorch."""

__version__ = "0.1.0"

from keras_dae import callbacks as callbacks
from keras_dae import layers as layers
from keras_dae import models as models
from keras_dae import networks as networks
from keras_dae import downstream as downstream
# The rest of the API map (README), reachable after `import keras_dae` alone.
from keras_dae import archives as archives
from keras_dae import backend as backend
from keras_dae import baselines as baselines
from keras_dae import datasets as datasets
from keras_dae import evaluation as evaluation
from keras_dae import inpainting as inpainting
from keras_dae import metrics as metrics
from keras_dae import probe as probe
from keras_dae import results as results
from keras_dae import runs as runs
from keras_dae import runtime as runtime
from keras_dae import sampling as sampling
from keras_dae import stages as stages
from keras_dae import tiling as tiling
from keras_dae import training as training
from keras_dae import utils as utils
from keras_dae.hub import load as load, publish as publish
from keras_dae.registry import list_models as list_models
from keras_dae.evaluation import evaluate as evaluate
