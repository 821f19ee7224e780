"""Training speed of the U-Net and DnCNN recipes on JAX and TensorFlow under the settings
those backends offer (XLA and its CPU flags, oneDNN, threads, `jit_compile`,
`steps_per_execution`, bfloat16), each against the same network in plain PyTorch, in one run.

    python benchmarks/train_settings.py                  # → results/train_settings.json and .md
    python benchmarks/train_settings.py --models unet --backends jax --settings default,steps_per_execution=8

Every (backend, setting, model) runs in its own process (environment variables such as
`XLA_FLAGS` and `TF_ENABLE_ONEDNN_OPTS` are read when the framework starts), after one
process timing the plain-PyTorch peers: `torch_unet.UNet` for the U-Net (as
`benchmarks/speed.py`) and `inference.DnCNN` for the DnCNN (the recipe's network in
`torch.nn`, weights copied), Adam and the MSE of the predicted noise, the same batches.

What is timed: keras-dae's `fit(x_clean)` of the recipe's model (noise drawn in the step),
`--steps` batches after a warm-up `fit` of `--warmup` batches (tracing, compilation),
from the first to the last step that a callback sees finished (reading the optimizer's
step counter, which waits for the device), best of `--repeats` fits; the U-Net on MNIST
training digits, batch 64, the DnCNN on 40×40 crops of train400, batch 64 (the recipes').
Images/s; the ratio is keras-dae's rate over plain PyTorch's.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

# name: (environment, options). Options: jit_compile, steps_per_execution, policy, threads.
SETTINGS = {
    "jax": {
        "default": ({}, {}),
        "jit_compile=False": ({}, {"jit_compile": False}),
        "steps_per_execution=8": ({}, {"steps_per_execution": 8}),
        "XLA legacy CPU runtime": ({"XLA_FLAGS": "--xla_cpu_use_thunk_runtime=false"}, {}),
        "XLA fast math": ({"XLA_FLAGS": "--xla_cpu_enable_fast_math=true"}, {}),
        "XLA one Eigen thread": ({"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"}, {}),
        "mixed_bfloat16": ({}, {"policy": "mixed_bfloat16"}),
    },
    "tensorflow": {
        "default": ({}, {}),
        "jit_compile=False": ({}, {"jit_compile": False}),
        "steps_per_execution=8": ({}, {"steps_per_execution": 8}),
        "oneDNN off": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, {}),
        "XLA legacy CPU runtime": ({"XLA_FLAGS": "--xla_cpu_use_thunk_runtime=false"}, {}),
        "1 intra-op thread": ({}, {"threads": 1}),
        "mixed_bfloat16": ({}, {"policy": "mixed_bfloat16"}),
    },
}
MODELS = ("unet", "dncnn")
RESULTS = HERE / "results"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="jax,tensorflow")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--settings", help="comma-separated setting names (default: all of each backend)")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # JSON: one measurement in this process
    args = parser.parse_args(argv)
    if args.child:
        job = json.loads(args.child)
        result = measure_keras(**job) if job["backend"] != "torch" else measure_torch(**job)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    return drive(args)


def drive(args):
    models = args.models.split(",")
    plan = {"steps": args.steps, "warmup": args.warmup, "repeats": args.repeats}
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpu_count": os.cpu_count(), "plan": plan,
              "command": "python benchmarks/train_settings.py " + " ".join(sys.argv[1:]), "rows": []}
    result["pytorch"] = child({"backend": "torch", "models": models, **plan}, {})
    print(f"plain PyTorch: {result['pytorch']}", flush=True)
    for backend in args.backends.split(","):
        names = args.settings.split(",") if args.settings else list(SETTINGS[backend])
        for name in names:
            env, options = SETTINGS[backend][name]
            job = {"backend": backend, "models": models, "options": options, **plan}
            rates = child(job, env)
            row = {"backend": backend, "setting": name, "env": env, "options": options, **rates}
            result["rows"].append(row)
            print(f"{backend} {name}: " + ", ".join(
                f"{m} {rates[m]['images_per_second']:.1f} img/s ({rates[m]['images_per_second'] / result['pytorch'][m]['images_per_second']:.2f}×)"
                for m in models), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train_settings.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "train_settings.md").write_text(markdown(result))
    print(f"wrote {args.out / 'train_settings.md'}")
    return 0


def child(job, env):
    """Runs one measurement in a fresh process; its `RESULT` line as a dict."""
    full_env = {**os.environ, **env, "KERAS_BACKEND": job["backend"]}
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(job)], env=full_env,
                          capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        return {m: {"images_per_second": float("nan"), "error": proc.stderr.strip().splitlines()[-1:]}
                for m in job["models"]}
    return json.loads(lines[-1][len("RESULT "):])


def data(model_name, n):
    """`n` training inputs of a recipe: MNIST digits (`speed.mnist`) or the DnCNN recipe's own
    40×40 train400 patches (its `ImagePatchDataset`), in [0, 1]."""
    from speed import mnist

    if model_name == "unet":
        return mnist(n)
    patches = recipe(model_name).data()[0][0]
    return np.concatenate([patches[i][0] for i in range(-(-n // patches.batch_size))])[:n]


def recipe(model_name):
    from keras_dae.training import load_recipe

    return load_recipe(ROOT / "zoo" / {"unet": "unet-mnist-gauss", "dncnn": "dncnn-bsd400-gauss"}[model_name])


def measure_keras(backend, models, options, steps, warmup, repeats):
    import keras

    import keras_dae

    if options.get("threads"):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(options["threads"])
    if options.get("policy"):
        keras.config.set_dtype_policy(options["policy"])
    out = {}
    for name in models:
        r = recipe(name)
        keras_dae.set_random_seed(0)
        model = r.build()
        model.compile(optimizer=keras.optimizers.Adam(r.LEARNING_RATE), jit_compile=options.get("jit_compile", "auto"),
                      steps_per_execution=options.get("steps_per_execution", 1))
        spe = options.get("steps_per_execution", 1)
        n_steps = -(-steps // spe) * spe + spe  # whole executions, one more to start the clock
        x = data(name, n_steps * r.BATCH_SIZE)
        model.fit(x[:warmup * spe * r.BATCH_SIZE], batch_size=r.BATCH_SIZE, epochs=1, verbose=0)
        rates = [timed_fit(model, x, r.BATCH_SIZE) for _ in range(repeats)]
        out[name] = {"images_per_second": max(rates), "runs": rates, "jit_compile": bool(model.jit_compile),
                     "steps_timed": n_steps - spe}
    return out


def timed_fit(model, x, batch_size):
    """Images/s between the first and the last step a callback sees finished."""
    import keras

    marks = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))  # waits for the device
            marks.append((step, time.perf_counter()))

    model.fit(x, batch_size=batch_size, epochs=1, verbose=0, shuffle=False, callbacks=[Clock()])
    (s0, t0), (s1, t1) = marks[0], marks[-1]
    return (s1 - s0) * batch_size / (t1 - t0)


def measure_torch(backend, models, steps, warmup, repeats):
    import torch
    from torch.nn import functional as F

    import inference
    import torch_unet
    from speed import torch_rates, unet_arguments

    out = {}
    for name in models:
        r = recipe(name)
        network = r.build().network
        torch.manual_seed(0)
        if name == "unet":
            peer = torch_unet.UNet(**unet_arguments(network))
        else:
            peer = inference.DnCNN(network)
            with torch.no_grad():
                peer.load_keras(network)
        n = steps * r.BATCH_SIZE
        x = data(name, n)
        rng = np.random.default_rng(0)
        low, high = (np.asarray(r.SIGMA_RANGE, "float64") / (255.0 if name == "dncnn" else 1.0))
        sigma = rng.uniform(max(low, 1e-3), high, n).astype("float32")
        eps = rng.standard_normal(x.shape).astype("float32")
        noisy = x + sigma[:, None, None, None] * eps
        nchw = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))  # noqa: E731
        plan = {"steps": steps, "warmup": warmup, "repeats": repeats}
        rates = torch_rates(peer, F.mse_loss, [nchw(noisy), torch.from_numpy(sigma)], nchw(eps),
                            r.BATCH_SIZE, plan, "cpu", r.LEARNING_RATE)
        out[name] = {"images_per_second": max(rates), "runs": rates, "threads": torch.get_num_threads()}
    return out


def markdown(result):
    models = list(result["pytorch"])
    lines = ["# Training speed per setting, JAX and TensorFlow, against plain PyTorch", "",
             f"Written by `{result['command'].strip()}` ({result['date']}, {result['cpu_count']} cores; "
             "method: the script's docstring). Images/s of keras-dae's `fit`, best of "
             f"{result['plan']['repeats']} fits of {result['plan']['steps']} steps; (n×): over plain PyTorch in the same run.", "",
             "| backend | setting | " + " | ".join(models) + " |", "|---|---|" + "---|" * len(models),
             "| torch | plain PyTorch | " + " | ".join(f"{result['pytorch'][m]['images_per_second']:.1f}" for m in models) + " |"]
    for row in result["rows"]:
        cells = []
        for m in models:
            rate = row[m]["images_per_second"]
            cells.append("failed" if rate != rate else f"{rate:.1f} ({rate / result['pytorch'][m]['images_per_second']:.2f}×)")
        lines.append(f"| {row['backend']} | {row['setting']} | " + " | ".join(cells) + " |")
    errors = [f"- {row['backend']} {row['setting']} {m}: {row[m]['error']}" for row in result["rows"]
              for m in models if "error" in row[m]]
    return "\n".join(lines + ([""] + errors if errors else [])) + "\n"


if __name__ == "__main__":
    sys.exit(main())
