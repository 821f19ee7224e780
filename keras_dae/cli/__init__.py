"""The `keras-dae` command line (also `python -m keras_dae`): the parser and `main` (`parser`),
the commands (`commands`) and the demo (`demo`). Thin: parse, call the library, print."""

from keras_dae.cli.parser import main as main
