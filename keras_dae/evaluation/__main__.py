import sys

from keras_dae.evaluation.protocol import main

sys.exit(main())
