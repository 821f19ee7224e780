import sys

from keras_dae.cli import main

sys.exit(main())
