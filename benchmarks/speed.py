"""Training and inference speed: keras-dae against bare Keras and against plain PyTorch.

    KERAS_BACKEND=torch python benchmarks/speed.py    # the active backend → results/speed_<device>_<backend>.json
    python benchmarks/speed.py --all-backends         # jax, tensorflow, torch, one process each, then RESULTS.md
    python benchmarks/speed.py --from-results         # only rewrite benchmarks/RESULTS.md from the saved JSONs

For the zoo's U-Net (`zoo/unet-mnist-gauss`) and MLP stack (`zoo/sdae-mnist-mask`), on
MNIST training images, training images/s four ways, each the best of `--repeats` `fit`
calls of `--steps` batches (the three Keras models in turn, round after round; every round
is kept in the JSON), each timed from the end of its first step to the end of its last
(`keras_rates`: the steps, as the PyTorch loop is timed, not `fit`'s set-up, which the
recipe epoch below counts), after a warm-up `fit` of `--warmup` batches (tracing,
compilation) that is not timed:

1. keras-dae, corrupting: the recipe's model (`ResidualDAE` with AdditiveGaussian σ
   log-uniform in [0.01, 1]; for the MLP the whole `StackedDAE` 784-1000-1000-1000 as one
   deep DAE with masking noise ν = 0.25, i.e. its `fit`, not its greedy `pretrain`),
   compiled with Adam at the recipe's rate, `fit(x_clean)`: noise drawn in the step;
2. keras-dae, pairs: the same model, `fit([x̃, σ], x)` (MLP: `fit(x̃, x)`) on pairs made
   beforehand with NumPy: the wrapper without the corruption;
3. bare Keras: the recipe's network alone, `compile(Adam, loss="mse")`,
   `fit([x̃, σ], ε)` on the same pairs (ε the unit noise, which ResidualDAE predicts;
   MLP: `loss="binary_crossentropy"`, `fit(x̃, x)`). keras-dae's overhead is (3)/(2) − 1,
   and (3)/(1) − 1 with the corruption;
4. plain PyTorch: the same network written in `torch.nn` (`benchmarks/torch_unet.py`, its
   parameter count checked equal to Keras'), Adam and the same loss on the same pairs and
   batches, channels first, at torch's default thread count. With a Keras backend other
   than torch it runs first, in a child process (one framework per process; on a GPU,
   before JAX or TensorFlow reserve its memory).

Then the end-to-end cost of a U-Net recipe epoch, in seconds per 1,000 training images:
the model of (1) trained one epoch of `--epoch-images` images the recipe's way
(`ArrayBatches`, `SyncDatasetEpoch`, `validation_data` for val_loss, `ValidationPSNR` at
σ = 0.1, 0.3, 0.5 one digit per `denoise` call), its 2,000 validation images and 500 PSNR
digits scaled by epoch images / 50,000 so each costs per training image what it costs in
the full recipe (Adam at the recipe's peak rate instead of its warm-up/cosine schedule,
whose cost is one scalar per step); against fit alone (1,000 / the rate of (1)). Last,
`denoise` latency at batch 1 and 256 (median of several calls after warm-up calls),
against the bare network's `predict` (the two called in turn) and the PyTorch module's
forward (NumPy in and out).

Defaults: CPU 20 timed steps, 3 warm-up, 10 rounds (best; in a run of 5, the
torch MLP's keras-dae `fit(pairs)` spread from 2,730 to 3,243 images/s), a 2,048-image epoch; GPU 200 steps,
5 warm-up, 3 repeats, a 10,240-image epoch; batch 64 (U-Net) and 128 (MLP), the recipes'.
`jit_compile` is Keras' default ("auto") unless `--jit-compile`; the JSON records what it
resolved to. `--tuned-allocator` runs everything, the PyTorch peer too, after
`keras_dae.runtime.tune_allocator()` (as `keras-dae train` does; default: glibc's malloc
as it comes). `--quick` runs a few steps of everything, the U-Net one level deep (for the test;
not a measurement).
`--out DIR` puts the JSON and RESULTS.md in DIR instead. A run of one backend writes its
JSON only; `--from-results` then rebuilds RESULTS.md from every JSON there.

Measure on an idle machine: RESULTS.md flags a run whose load average exceeded half the
cores. PyTorch's OpenMP threads suffer most from shared cores (on 2 busy cores a batch-1
forward of this U-Net took 529 ms with torch's default 2 threads, 4 ms with 1 thread).
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from speed_report import BACKENDS, TRAIN_IMAGES, render, write_markdown  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
MARKDOWN = ROOT / "benchmarks" / "RESULTS.md"
LATENCY_SIGMA = 0.3
PSNR_DIGITS = 500      # zoo/unet-mnist-gauss/recipe.py: ValidationPSNR(x_val[:500], ...)
DEFAULTS = {"cpu": dict(steps=20, warmup=3, repeats=10, epoch_images=2048, calls=(20, 9), call_warmup=3),
            "gpu": dict(steps=200, warmup=5, repeats=3, epoch_images=10240, calls=(50, 20), call_warmup=2),
            "quick": dict(steps=2, warmup=1, repeats=1, epoch_images=None, calls=(2, 1), call_warmup=1)}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, help="timed steps per fit (default: 60 CPU, 200 GPU)")
    parser.add_argument("--warmup", type=int, help="untimed warm-up steps (default: 3 CPU, 5 GPU)")
    parser.add_argument("--repeats", type=int, help="timed fits per figure, median (default: 1 CPU, 3 GPU)")
    parser.add_argument("--batch-size", type=int, help="both networks' batch (default: the recipes', 64 and 128)")
    parser.add_argument("--epoch-images", type=int, help="training images of the recipe epoch (default: 2048 CPU, 10240 GPU)")
    parser.add_argument("--jit-compile", action="store_true", help="compile with jit_compile=True (default: 'auto')")
    parser.add_argument("--quick", action="store_true", help="a few steps of everything (tests)")
    parser.add_argument("--all-backends", action="store_true", help="each backend in its own process, then RESULTS.md")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="with --all-backends (comma-separated)")
    parser.add_argument("--from-results", action="store_true", help="only rewrite RESULTS.md from the saved JSONs")
    parser.add_argument("--out", type=pathlib.Path,
                        help="folder of the JSONs and RESULTS.md (default: benchmarks/results/ and benchmarks/RESULTS.md)")
    parser.add_argument("--tuned-allocator", action="store_true",
                        help="keras_dae.runtime.tune_allocator() first (default: glibc's malloc defaults)")
    parser.add_argument("--peer", type=pathlib.Path, help=argparse.SUPPRESS)  # child process: PyTorch only
    args = parser.parse_args(argv)
    results_dir = args.out or RESULTS_DIR
    markdown = args.out / "RESULTS.md" if args.out else MARKDOWN
    if not (args.from_results or args.all_backends):
        args.allocator = allocator(args)
    if args.peer:
        return run_peer(args, args.peer)
    if args.from_results:
        write_markdown(results_dir, markdown)
        return 0
    if args.all_backends:
        return run_all(args, argv, results_dir, markdown)
    result = measure(args, argv)
    path = results_dir / f"speed_{result['device']}_{result['backend']}.json"
    from keras_dae.utils import atomic_write

    atomic_write(path, json.dumps(result, indent=2) + "\n")
    print(render([result]))
    print(f"wrote {path}")
    return 0


def run_all(args, argv, results_dir, markdown):
    """Each backend in a child process with this command line, then RESULTS.md."""
    forwarded, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--all-backends" or a.startswith("--backends="):
            pass
        elif a == "--backends":
            skip = True
        else:
            forwarded.append(a)
    failed = []
    for backend in args.backends.split(","):
        print(f"--- KERAS_BACKEND={backend}", flush=True)
        env = {**os.environ, "KERAS_BACKEND": backend}
        if subprocess.run([sys.executable, __file__, *forwarded], env=env, cwd=ROOT).returncode:
            failed.append(backend)
    write_markdown(results_dir, markdown)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


def allocator(args):
    """The malloc settings of this process (the PyTorch peer, in this process or its own,
    gets the same)."""
    if not args.tuned_allocator:
        return "glibc defaults"
    from keras_dae import runtime

    tuned = runtime.tune_allocator()
    return ", ".join(f"{k} {v // 2**20} MiB" for k, v in tuned.items()) or "defaults (not glibc, or opted out)"


def settings(args, device):
    base = DEFAULTS["quick" if args.quick else device]
    pick = lambda name: getattr(args, name) if getattr(args, name) is not None else base[name]  # noqa: E731
    return {"steps": pick("steps"), "warmup": pick("warmup"), "repeats": pick("repeats"),
            "epoch_images": pick("epoch_images"), "denoise_calls": {"1": base["calls"][0], "256": base["calls"][1]},
            "denoise_warmup_calls": base["call_warmup"]}


def recipes(quick=False):
    """The recipes timed, `(unet-mnist-gauss, sdae-mnist-mask)`. `quick` (the tests' few steps
    of everything): the U-Net recipe with a one-level U-Net of 8 channels (`quick_unet`),
    the MLP recipe as it is."""
    from keras_dae.training import load_recipe

    unet, mlp = load_recipe(ROOT / "zoo" / "unet-mnist-gauss"), load_recipe(ROOT / "zoo" / "sdae-mnist-mask")
    return (quick_unet(unet) if quick else unet), mlp


def quick_unet(recipe):
    """`recipe` (the U-Net's: its constants, data and objective) building its model with a
    one-level U-Net of 8 channels. A test of a benchmark script checks the script's own code;
    with the recipe's three-level network each model it builds costs its compilation (first
    `fit`: JAX 3.5 s, TensorFlow 8.1 s; this one 1.4 / 3.2 s, 2026-12-07)."""
    import types

    public = {k: v for k, v in vars(recipe).items() if not k.startswith("_")}
    return types.SimpleNamespace(**{**public, "build": lambda: recipe.build(widths=(8,))})


def batch_sizes(args, unet, mlp):
    return {"unet": args.batch_size or unet.BATCH_SIZE, "mlp": args.batch_size or mlp.BATCH_SIZE}


def first(x, n):
    """The first `n` images of `x`, repeated when it has fewer."""
    return np.resize(x, (n,) + x.shape[1:]) if len(x) < n else x[:n]


def mnist(n):
    """The first `n` MNIST training images (the data of every timed step)."""
    from keras_dae import datasets

    return first(datasets.load_mnist("train", num_images=min(n, TRAIN_IMAGES))[0], n)


def gaussian_pairs(x, sigma_range, seed=0):
    """`(x̃, σ, ε)` with σ log-uniform in `sigma_range` and x̃ = x + σ·ε, from NumPy."""
    rng = np.random.default_rng(seed)
    sigma = np.exp(rng.uniform(*np.log(sigma_range), len(x))).astype("float32")
    eps = rng.standard_normal(x.shape).astype("float32")
    return (x + sigma[:, None, None, None] * eps).astype("float32"), sigma, eps


def latency_inputs(x):
    """The noisy digits of the latency figures: σ = LATENCY_SIGMA."""
    return (x + LATENCY_SIGMA * np.random.default_rng(1).standard_normal(x.shape)).astype("float32")


def keras_networks(quick=False):
    """The recipes' networks, freshly built: `(unet, mlp)`."""
    unet, mlp = recipes(quick)
    return unet.build().network, mlp.build().network


def unet_arguments(network):
    """The `torch_unet.UNet` arguments of a `keras_dae.networks.unet` FiLM network, read
    from its layers (so the peer follows the recipe)."""
    names = [layer.name for layer in network.layers]
    depth = sum(name.startswith("skip_") for name in names)
    return {"input_shape": tuple(network.inputs[0].shape[1:]),
            "widths": tuple(network.get_layer(f"skip_{i}").output.shape[-1] for i in range(depth)),
            "blocks_per_level": sum(name.startswith("down_0_") and name.endswith("_add") for name in names),
            "embedding_dim": network.get_layer("sigma_embedding").output.shape[-1]}


# The PyTorch peer.

def run_peer(args, out):
    """Times the PyTorch peers and writes their figures to `out` (JSON)."""
    import importlib.util

    import torch
    from torch.nn import functional as F

    spec = importlib.util.spec_from_file_location("torch_unet", ROOT / "benchmarks" / "torch_unet.py")
    torch_unet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(torch_unet)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    unet_recipe, mlp_recipe = recipes(args.quick)
    plan, batch = settings(args, "gpu" if device == "cuda" else "cpu"), batch_sizes(args, unet_recipe, mlp_recipe)
    keras_unet, keras_mlp = keras_networks(args.quick)
    torch.manual_seed(0)
    result = {"device": device, "torch": torch.__version__, "threads": torch.get_num_threads(), "allocator": args.allocator,
              "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None, "settings": plan}

    n = plan["steps"] * batch["unet"]
    x_noisy, sigma, eps = gaussian_pairs(mnist(n), unet_recipe.SIGMA_RANGE)
    nchw = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))  # noqa: E731
    net = torch_unet.UNet(**unet_arguments(keras_unet))
    params = torch_unet.check_param_count(net, keras_unet.count_params())
    rates = torch_rates(net.to(device), F.mse_loss, [nchw(x_noisy), torch.from_numpy(sigma)], nchw(eps),
                        batch["unet"], plan, device, unet_recipe.LEARNING_RATE)
    result["unet"] = {"pytorch": max(rates), "runs": rates, "params": params}
    noisy = latency_inputs(mnist(256))
    result["denoise_ms"] = {k: torch_latency(net, np.ascontiguousarray(noisy[:int(k)].transpose(0, 3, 1, 2)),
                                             np.full(int(k), LATENCY_SIGMA, "float32"), calls,
                                             plan["denoise_warmup_calls"], device)
                            for k, calls in plan["denoise_calls"].items()}

    n = plan["steps"] * batch["mlp"]
    x = mnist(n)
    flat = lambda a: torch.from_numpy(a.reshape(len(a), -1))  # noqa: E731
    mlp = torch_unet.TiedMLP(mlp_recipe.build().widths)
    params = torch_unet.check_param_count(mlp, keras_mlp.count_params())
    rates = torch_rates(mlp.to(device), F.binary_cross_entropy, [flat(mlp_recipe.mask(x))], flat(x),
                        batch["mlp"], plan, device, mlp_recipe.LEARNING_RATE)
    result["mlp"] = {"pytorch": max(rates), "runs": rates, "params": params}
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def torch_rates(model, loss_fn, inputs, target, batch_size, plan, device, lr):
    """Images/s of a plain PyTorch training loop (shuffled batches, moved to `device`
    each step as `fit` does), one figure per repeat."""
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7)  # Keras' epsilon
    model.train()

    def run(steps):
        order = torch.randperm(len(target))
        for i in range(steps):
            rows = order[i * batch_size:(i + 1) * batch_size]
            batch = [t[rows].to(device) for t in inputs]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(*batch), target[rows].to(device))
            loss.backward()
            optimizer.step()
        loss.item()  # waits for the device

    run(plan["warmup"])
    rates = []
    for _ in range(plan["repeats"]):
        start = time.perf_counter()
        run(plan["steps"])
        rates.append(plan["steps"] * batch_size / (time.perf_counter() - start))
    return rates


def torch_latency(model, x, sigma, calls, warmup, device):
    import torch

    model.eval()
    with torch.inference_mode():
        def call():
            return model(torch.from_numpy(x).to(device), torch.from_numpy(sigma).to(device)).cpu().numpy()
        return latency_ms(call, calls, warmup)


def interleaved(ways, calls, warmup, pause=0.0):
    """Wall times in ms of each of `ways` (name: call), called in turn, round after round,
    after `warmup` untimed rounds (also benchmarks/inference.py's timing). The order rotates
    from round to round, so that no way always runs right after the same other one, and
    `pause` seconds of sleep before each call let the previous call's threads go idle:
    onnxruntime's spin for a while after each of its calls and slow whatever runs next
    (64×64 DnCNN on torch, 2 cores, interleaved without a pause: keras-dae 55 ms, plain
    PyTorch 33, onnxruntime 29; with 0.1 s: 27 / 25 / 22)."""
    names = list(ways)
    for _ in range(warmup):
        for f in ways.values():
            f()
    times = {name: [] for name in ways}
    for round_ in range(calls):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            if pause:
                time.sleep(pause)
            start = time.perf_counter()
            ways[name]()
            times[name].append(1000.0 * (time.perf_counter() - start))
    return times


def latency_ms(call, calls, warmup=2):
    """Median wall time of `call()` in ms, after `warmup` untimed calls; or, for a dict of
    `name: call`, the median of each, their calls interleaved (a round each, in turn) so
    that a machine warming up or a neighbour's load falls on all of them alike. (Timed one
    after the other, five batch-256 calls on torch put keras-dae's `denoise` 40 % behind the
    bare network's `predict`; interleaved, the two are level.)"""
    times = interleaved(call if isinstance(call, dict) else {None: call}, calls, warmup)
    medians = {name: statistics.median(t) for name, t in times.items()}
    return medians if isinstance(call, dict) else medians[None]


# The Keras side.

def keras_rates(jobs, batch_size, plan):
    """Images/s of `model.fit(x, y)` for each `name: (model, x, y)`: a warm-up fit each,
    then `repeats` rounds in which every model runs one fit of `steps` full batches, timed
    from the end of its first step to the end of its last (each waited for on the device),
    as the PyTorch peer's loop is timed: the steps, not `fit`'s set-up around them. (On
    TensorFlow a whole `fit` call of 20 steps took either ~5 or ~10 s on 2 cores, as tf.data's
    autotuned pipeline sometimes stalls for seconds when it starts or ends; the steps inside
    ran at one speed.) Round-robin, so that a slower spell of the machine falls on every
    model alike.

    With `plan["seconds"]`, a model whose timed fit would take longer than that gets fewer
    steps (at least 2; its rate from a 2-step fit after the warm-up), and `plan["steps_used"]`
    records the steps of each: float16 on a CPU can train 50× slower than float32."""
    import keras

    head = lambda d, k: None if d is None else ([a[:k] for a in d] if isinstance(d, list) else d[:k])  # noqa: E731

    class StepClock(keras.callbacks.Callback):
        """The time at the end of the first and of the last step, each after the device
        has finished it (JAX dispatches steps asynchronously)."""

        def __init__(self, steps):
            super().__init__()
            self.steps, self.times = steps, []

        def on_train_batch_end(self, batch, logs=None):
            if batch in (0, self.steps - 1):
                keras.ops.convert_to_numpy(self.model.optimizer.iterations)
                self.times.append(time.perf_counter())

    def timed_fit(model, x, y, steps):
        clock = StepClock(steps)
        model.fit(head(x, steps * batch_size), head(y, steps * batch_size), batch_size=batch_size,
                  epochs=1, verbose=0, callbacks=[clock])
        first, last = clock.times
        return (steps - 1) * batch_size / (last - first)

    steps = {}
    for name, (model, x, y) in jobs.items():
        model.fit(head(x, plan["warmup"] * batch_size), head(y, plan["warmup"] * batch_size),
                  batch_size=batch_size, epochs=1, verbose=0)
        steps[name] = plan["steps"]
        if plan.get("seconds"):
            affordable = int(plan["seconds"] * timed_fit(model, x, y, 2) / batch_size)
            steps[name] = min(plan["steps"], max(2, affordable))
    if plan.get("seconds"):
        plan["steps_used"] = steps
    rates = {name: [] for name in jobs}
    for _ in range(plan["repeats"]):
        for name, (model, x, y) in jobs.items():
            rates[name].append(timed_fit(model, x, y, steps[name]))
    return rates


def device_info():
    """`(device, GPU name or None)` of the active Keras backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        return ("gpu", gpus[0].device_kind) if gpus else ("cpu", None)
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return ("gpu", tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")) if gpus else ("cpu", None)
    import torch

    return ("gpu", torch.cuda.get_device_name(0)) if torch.cuda.is_available() else ("cpu", None)


def measure(args, argv):
    import keras

    import keras_dae

    backend = keras.backend.backend()
    # The 1-minute load average lags: wait (up to 2 min) for the work before this run, a
    # previous backend's run included, to leave it, so that a busy flag means other work.
    deadline = time.time() + (0 if args.quick else 120)
    while os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1) and time.time() < deadline:
        time.sleep(5)
    load_average = [round(v, 2) for v in os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:  # the peer first: see the module docstring
        peer_path = pathlib.Path(tmp) / "peer.json"
        if backend == "torch":
            run_peer(args, peer_path)
        else:
            env = {**os.environ, "KERAS_BACKEND": "torch"}
            subprocess.run([sys.executable, __file__, *argv, "--peer", str(peer_path)], env=env, check=True)
        peer = json.loads(peer_path.read_text())
    peer["in_process"] = backend == "torch"

    from keras_dae import datasets
    from keras_dae.callbacks import SyncDatasetEpoch

    device, gpu = device_info()
    plan = settings(args, device)
    unet_recipe, mlp_recipe = recipes(args.quick)
    batch = batch_sizes(args, unet_recipe, mlp_recipe)
    jit = True if args.jit_compile else "auto"
    keras_dae.set_random_seed(0)
    start = time.perf_counter()
    x_train, x_val = datasets.load_mnist("train")[0], datasets.load_mnist("val")[0]
    data_load_seconds = time.perf_counter() - start
    result = {"backend": backend, "device": device, "quick": args.quick,
              "command": " ".join([f"KERAS_BACKEND={backend}", "python", "benchmarks/speed.py", *argv]),
              "date": time.strftime("%Y-%m-%d %H:%M"), "load_average_at_start": load_average,
              "machine": {"processor": platform.processor() or platform.machine(), "platform": platform.platform(),
                          "cpu_count": os.cpu_count(), "gpu": gpu},
              "versions": {"python": platform.python_version(), "keras": keras.__version__,
                           backend: _version(backend), "torch": peer["torch"]},
              "settings": {**plan, "batch_size": batch, "jit_compile": {"requested": jit}, "allocator": args.allocator},
              "pytorch_peer": {k: peer.get(k) for k in ("device", "threads", "gpu", "in_process", "settings", "allocator")}}

    def compiled(model, **kwargs):
        model.compile(optimizer=keras.optimizers.Adam(kwargs.pop("lr")), jit_compile=jit, **kwargs)
        result["settings"]["jit_compile"]["resolved"] = bool(model.jit_compile)
        return model

    # U-Net.
    x = first(x_train, plan["steps"] * batch["unet"])
    x_noisy, sigma, eps = gaussian_pairs(x, unet_recipe.SIGMA_RANGE)
    lr = unet_recipe.LEARNING_RATE
    model = compiled(unet_recipe.build(), lr=lr)
    bare = compiled(unet_recipe.build().network, lr=lr, loss="mse")
    runs = keras_rates({"keras_dae_corrupting": (model, x, None),
                        "keras_dae_pairs": (compiled(unet_recipe.build(), lr=lr), [x_noisy, sigma], x),
                        "bare_keras": (bare, [x_noisy, sigma], eps)}, batch["unet"], plan)
    result["unet"] = {**{k: max(v) for k, v in runs.items()}, "pytorch": peer["unet"]["pytorch"],
                      "runs": {**runs, "pytorch": peer["unet"]["runs"]},
                      "params": {"keras": bare.count_params(), "pytorch": peer["unet"]["params"]}}

    # The recipe's epoch, on the model of (1): its train step is compiled already.
    epoch_images = max((plan["epoch_images"] or 2 * batch["unet"]) // batch["unet"], 1) * batch["unet"]
    scale = epoch_images / TRAIN_IMAGES
    val_n, psnr_n = max(1, round(unet_recipe.VAL_IMAGES * scale)), max(1, round(PSNR_DIGITS * scale))
    phases, psnr = epoch_callbacks(x_val[:psnr_n], unet_recipe.SIGMAS)

    def epoch(images):
        batches = datasets.ArrayBatches(images, batch_size=batch["unet"], seed=unet_recipe.SEED)
        psnr.seconds = 0.0
        start = time.perf_counter()
        model.fit(batches, validation_data=(x_val[:val_n],), epochs=1, shuffle=False, verbose=0,
                  callbacks=[SyncDatasetEpoch(batches), phases, psnr])
        return time.perf_counter() - start

    epoch(x_train[:batch["unet"]])  # compiles the evaluation and the batch-1 prediction
    seconds = epoch(first(x_train, epoch_images))
    result["recipe_epoch"] = {"train_images": epoch_images, "val_images": val_n, "psnr_digits": psnr_n,
                              "psnr_sigmas": list(unet_recipe.SIGMAS), "seconds": seconds,
                              "train_seconds": phases.train_seconds, "val_loss_seconds": phases.val_seconds,
                              "psnr_seconds": psnr.seconds, "data_load_seconds": data_load_seconds}

    # denoise latency (the weights of (1) after its few steps; latency does not depend on them).
    result["denoise_ms"] = {"keras_dae": {}, "bare_keras": {}, "pytorch": peer["denoise_ms"]}
    noisy = latency_inputs(x_train[:256])
    for k, calls in plan["denoise_calls"].items():
        xb, sb = noisy[:int(k)], np.full(int(k), LATENCY_SIGMA, "float32")
        medians = latency_ms({"keras_dae": lambda: model.denoise(xb, sigma=LATENCY_SIGMA),
                              "bare_keras": lambda: bare.predict([xb, sb], batch_size=256, verbose=0)},
                             calls, plan["denoise_warmup_calls"])
        for name, ms in medians.items():
            result["denoise_ms"][name][k] = ms

    # MLP stack.
    x = first(x_train, plan["steps"] * batch["mlp"])
    masked, lr = mlp_recipe.mask(x), mlp_recipe.LEARNING_RATE
    bare = compiled(mlp_recipe.build().network, lr=lr, loss="binary_crossentropy")
    runs = keras_rates({"keras_dae_corrupting": (compiled(mlp_recipe.build(), lr=lr), x, None),
                        "keras_dae_pairs": (compiled(mlp_recipe.build(), lr=lr), masked, x),
                        "bare_keras": (bare, masked, x)}, batch["mlp"], plan)
    result["mlp"] = {**{k: max(v) for k, v in runs.items()}, "pytorch": peer["mlp"]["pytorch"],
                     "runs": {**runs, "pytorch": peer["mlp"]["runs"]},
                     "params": {"keras": bare.count_params(), "pytorch": peer["mlp"]["params"]}}
    result["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    return result


def _version(module):
    try:
        return __import__(module).__version__
    except ImportError:
        return None


def epoch_callbacks(images, sigmas):
    """`(phases, psnr)`: the recipe's `ValidationPSNR`, timing itself, and a callback
    timing an epoch's training steps and its val_loss evaluation (each waited for: JAX
    dispatches asynchronously)."""
    import keras

    from keras_dae.callbacks import ValidationPSNR

    class Phases(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_test_begin(self, logs=None):
            keras.ops.convert_to_numpy(self.model.optimizer.iterations)  # the steps have finished
            self.test_start = time.perf_counter()
            self.train_seconds = self.test_start - self.start

        def on_test_end(self, logs=None):
            [float(v) for v in (logs or {}).values()]  # the evaluation has finished
            self.val_seconds = time.perf_counter() - self.test_start

    class TimedPSNR(ValidationPSNR):
        seconds = 0.0

        def on_epoch_end(self, epoch, logs=None):
            start = time.perf_counter()
            super().on_epoch_end(epoch, logs)
            self.seconds += time.perf_counter() - start

    return Phases(), TimedPSNR(images, sigmas, seed=1)


if __name__ == "__main__":
    raise SystemExit(main())
