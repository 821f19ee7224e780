"""What mixed precision gains: training images/s of the `unet-mnist-gauss` recipe model
(keras-dae `fit(x)`, the noise drawn in the step) under `float32`, `mixed_bfloat16` and
`mixed_float16` (with Keras' loss scaling), in one process per backend.

The three models are built in the same process and timed round-robin (`speed.keras_rates`:
a warm-up fit each, then `--repeats` rounds of one timed fit of `--steps` batches per model);
the figure is each model's best round, and the ratio is against float32 of the same round
set. Writes `benchmarks/results/precision_<device>.{json,md}` (one JSON per backend, the
table over the backends measured so far).

    python benchmarks/precision.py                     # every backend, each in its own process
    KERAS_BACKEND=torch python benchmarks/precision.py --one
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
BACKENDS = ("jax", "tensorflow", "torch")


def measure(args):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import keras
    import speed

    import keras_dae

    from keras_dae import datasets

    backend = keras.backend.backend()
    device, _ = speed.device_info()
    unet, _ = speed.recipes()
    batch = args.batch_size or unet.BATCH_SIZE
    plan = {"steps": args.steps, "warmup": args.warmup, "repeats": args.repeats, "seconds": args.seconds}
    x = speed.first(datasets.load_mnist("train")[0], plan["steps"] * batch)
    jobs = {}
    for policy in POLICIES:
        keras.config.set_dtype_policy(policy)
        keras_dae.set_random_seed(0)
        model = unet.build()
        model.compile(optimizer=keras.optimizers.Adam(unet.LEARNING_RATE))
        jobs[policy] = (model, x, None)
    keras.config.set_dtype_policy("float32")
    start = time.perf_counter()
    rates = speed.keras_rates(jobs, batch, plan)
    result = {"backend": backend, "device": device, "batch_size": batch, "plan": plan,
              "images_per_second": {p: max(r) for p, r in rates.items()}, "rounds": rates,
              "seconds": round(time.perf_counter() - start, 1), "date": time.strftime("%Y-%m-%d %H:%M"),
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores",
              "versions": {"keras": keras.__version__, backend: speed._version(backend)},
              "command": f"KERAS_BACKEND={backend} python benchmarks/precision.py --one "
                         f"--steps {args.steps} --repeats {args.repeats} --seconds {args.seconds:g}"}
    out = pathlib.Path(args.out) / f"precision_{device}_{backend}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["images_per_second"]), flush=True)
    return device


def _steps(plan):
    used = plan.get("steps_used")
    if not used or len(set(used.values())) == 1:
        return str(next(iter(used.values())) if used else plan["steps"])
    return ", ".join(f"{n} ({policy})" for policy, n in used.items())


def write_markdown(folder, device):
    results = [json.loads(p.read_text()) for p in sorted(pathlib.Path(folder).glob(f"precision_{device}_*.json"))]
    if not results:
        return None
    lines = ["| training images/s (U-Net, keras-dae `fit`) | " + " | ".join(r["backend"] for r in results) + " |",
             "|---|" + "---|" * len(results)]
    for policy in POLICIES:
        cells = []
        for r in results:
            rate, base = r["images_per_second"][policy], r["images_per_second"]["float32"]
            cells.append(f"{rate:,.0f}" + ("" if policy == "float32" else f" ({rate / base:.2f}×)"))
        lines.append(f"| {policy} | " + " | ".join(cells) + " |")
    lines += [""] + [f"- **{r['backend']}**: `{r['command']}`, {r['date']}; {r['machine']}, batch "
                     f"{r['batch_size']}, best of {r['plan']['repeats']} interleaved rounds of "
                     f"{_steps(r['plan'])} steps; keras {r['versions']['keras']}" for r in results]
    path = pathlib.Path(folder) / f"precision_{device}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", action="store_true", help="only the active backend ($KERAS_BACKEND)")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--steps", type=int, default=20, help="timed steps per fit")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds; the best counts")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="at most this long a timed fit: a slower policy gets fewer steps (at least 2)")
    parser.add_argument("--batch-size", type=int, help="default: the recipe's (64)")
    parser.add_argument("--out", default=str(RESULTS))
    args, _ = parser.parse_known_args(argv)
    if args.one:
        device = measure(args)
    else:
        forwarded, skip = [], False
        for a in (argv if argv is not None else sys.argv[1:]):
            if not skip and not a.startswith("--backends"):
                forwarded.append(a)
            skip = a == "--backends"
        for backend in args.backends.split(","):
            print(f"--- KERAS_BACKEND={backend}", flush=True)
            env = {**os.environ, "KERAS_BACKEND": backend}
            subprocess.run([sys.executable, __file__, "--one", *forwarded], env=env, cwd=ROOT, check=True)
        newest = max(pathlib.Path(args.out).glob("precision_*_*.json"), key=lambda p: p.stat().st_mtime)
        device = json.loads(newest.read_text())["device"]
    path = write_markdown(args.out, device)
    if path:
        print(path.read_text())


if __name__ == "__main__":
    main()
