"""Training the zoo: a recipe run from data to a measured card (`recipes`), a run in progress
and its checkpoint (`runs`), training in stages (`stages`) and reopening a finished staged
run (`reopen`)."""

from keras_dae.training.recipes import TRAINED_FILE as TRAINED_FILE
from keras_dae.training.recipes import export as export
from keras_dae.training.recipes import golden_outputs as golden_outputs
from keras_dae.training.recipes import load_recipe as load_recipe
from keras_dae.training.recipes import train as train
from keras_dae.training.recipes import warmup_cosine_adam as warmup_cosine_adam
from keras_dae.training.reopen import reopen as reopen
from keras_dae.training.runs import EpochLog as EpochLog
from keras_dae.training.runs import PartLog as PartLog
from keras_dae.training.runs import PauseAtEpochEnd as PauseAtEpochEnd
from keras_dae.training.runs import TrainingPaused as TrainingPaused
from keras_dae.training.runs import checkpoint_dir as checkpoint_dir
from keras_dae.training.runs import hardware as hardware
from keras_dae.training.runs import read_log as read_log
from keras_dae.training.stages import Stage as Stage
