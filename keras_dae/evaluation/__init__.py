"""The evaluation protocols and their tables: Gaussian denoising beside classical denoisers
(`protocol`), inpainting (`inpainting`), the linear probe of an encoder (`probe`), the
classical denoisers themselves (`baselines`), the result table (`results`) and the quality of
samples as a Fréchet distance in a zoo classifier's features (`sample_quality`).

`python -m keras_dae.evaluation [MODEL] --dataset mnist ...` runs `evaluate` from the shell.
"""

from keras_dae.evaluation.common import COLOR as COLOR
from keras_dae.evaluation.common import Blind as Blind
from keras_dae.evaluation.common import PerChannel as PerChannel
from keras_dae.evaluation.common import add_gaussian_noise as add_gaussian_noise
from keras_dae.evaluation.common import cache_dir as cache_dir
from keras_dae.evaluation.common import load_eval_images as load_eval_images
from keras_dae.evaluation.common import scores as scores
from keras_dae.evaluation.inpainting import INPAINTING_PROTOCOL_VERSION as INPAINTING_PROTOCOL_VERSION
from keras_dae.evaluation.inpainting import evaluate_inpainting as evaluate_inpainting
from keras_dae.evaluation.inpainting import make_masks as make_masks
from keras_dae.evaluation.probe import linear_probe as linear_probe
from keras_dae.evaluation.protocol import DEFAULT_BASELINES as DEFAULT_BASELINES
from keras_dae.evaluation.protocol import PROTOCOL_VERSION as PROTOCOL_VERSION
from keras_dae.evaluation.protocol import evaluate as evaluate
from keras_dae.evaluation.protocol import main as main
from keras_dae.evaluation.results import EvaluationResult as EvaluationResult
from keras_dae.evaluation.results import published_table as published_table
from keras_dae.evaluation.results import versions as versions
