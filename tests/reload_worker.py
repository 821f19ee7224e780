"""A long-lived process that reloads `.keras` files under the backend of its own
environment: the tests send one JSON request per line, it answers one JSON line.

Starting a Python process and importing Keras on a backend costs seconds; one worker per
backend for the whole test session makes the cross-backend reload checks cheap.
"""

import json
import sys
import traceback

import keras
import numpy as np

import keras_dae  # noqa: F401  (registers the serializable classes)


def check(request):
    data = np.load(request["arrays"], allow_pickle=False)
    xs = [data[f"x{i}"] for i in range(request["num_inputs"])]
    model = keras.saving.load_model(request["path"], safe_mode=True)
    out = model(xs if request["multi"] else xs[0], training=False)
    got = keras.ops.convert_to_numpy(out)
    return float(np.max(np.abs(got - data["expected"])))


def main():
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"ok": True, "max_abs_diff": check(request)}
        except Exception:
            answer = {"ok": False, "error": traceback.format_exc()[-3000:]}
        keras.utils.clear_session()
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
