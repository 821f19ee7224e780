"""benchmarks/RESULTS.md from the JSON runs of `benchmarks/speed.py`: a table per device,
a column per backend, each figure with its ratio to plain PyTorch, then each run's machine,
command and date."""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
BACKENDS = ("jax", "tensorflow", "torch")
TRAIN_IMAGES = 50_000  # the recipes train on the first 50,000 MNIST training images

FIT_ROWS = (("keras_dae_corrupting", "(1) keras-dae `fit(x)`: the corruption drawn in the step"),
            ("keras_dae_pairs", "(2) keras-dae `fit(pairs)`: precomputed noisy/clean pairs"),
            ("bare_keras", "(3) bare Keras: the network alone, `compile(loss=…)`, same pairs"),
            ("pytorch", "(4) plain PyTorch: the same network, loss, pairs and batch"))
SECTIONS = {"unet": "U-Net (`unet-mnist-gauss` network, 0.65 M parameters): training images/s",
            "mlp": "MLP stack (`sdae-mnist-mask`, 784-1000-1000-1000 tied, as one DAE, BCE): training images/s"}


def _num(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def _speed(ratio):
    return f" ({ratio:.2f}×)"


def rows(result):
    """`[(label, cell)]` of one run; label None for a section heading."""
    out = []
    for section, title in SECTIONS.items():
        r = dict(result[section])
        r.update({k: max(v) for k, v in r.get("runs", {}).items()})  # best round (speed.py's docstring)
        out.append((None, title))
        out.append(("batch size", str(result["settings"]["batch_size"][section])))
        for key, label in FIT_ROWS:
            out.append((label, _num(r[key]) + ("" if key == "pytorch" else _speed(r[key] / r["pytorch"]))))
        out.append(("keras-dae overhead vs bare Keras, pairs: (3)/(2) − 1", f"{r['bare_keras'] / r['keras_dae_pairs'] - 1:+.0%}"))
        out.append(("keras-dae overhead vs bare Keras, with the corruption: (3)/(1) − 1",
                    f"{r['bare_keras'] / r['keras_dae_corrupting'] - 1:+.0%}"))
    e = result["recipe_epoch"]
    per_1000 = 1000.0 / e["train_images"]
    fit_alone = 1000.0 / result["unet"]["keras_dae_corrupting"]
    out += [(None, "U-Net recipe epoch: seconds per 1,000 training images"),
            ("end to end (batches, corruption, steps, val_loss, validation PSNR)", f"{e['seconds'] * per_1000:.2f}"),
            ("· of which the training steps (with batching and corruption)", f"{e['train_seconds'] * per_1000:.2f}"),
            ("· of which val_loss", f"{e['val_loss_seconds'] * per_1000:.2f}"),
            ("· of which validation PSNR (one `denoise` call per digit and σ)", f"{e['psnr_seconds'] * per_1000:.2f}"),
            ("fit alone: 1,000 / the U-Net's rate (1)", f"{fit_alone:.2f}"),
            ("end to end / fit alone", f"{e['seconds'] * per_1000 / fit_alone:.2f}×"),
            (None, "`denoise` latency of the U-Net, ms (median)")]
    d = result["denoise_ms"]
    for k in ("1", "256"):
        out += [(f"keras-dae `denoise`, batch {k}", f"{_num(d['keras_dae'][k])}{_speed(d['pytorch'][k] / d['keras_dae'][k])}"),
                (f"bare Keras `predict`, batch {k}", f"{_num(d['bare_keras'][k])}{_speed(d['pytorch'][k] / d['bare_keras'][k])}"),
                (f"plain PyTorch forward, batch {k}", _num(d["pytorch"][k]))]
    return out


def run_note(result):
    s, m, e, p = result["settings"], result["machine"], result["recipe_epoch"], result["pytorch_peer"]
    jit = s["jit_compile"]
    versions = ", ".join(f"{k} {v}" for k, v in result["versions"].items() if v)
    flags = "**quick run (a few steps): not a measurement.** " if result["quick"] else ""
    load = result["load_average_at_start"][0]  # at the end it counts the run's own work
    if p["device"].replace("cuda", "gpu") != result["device"]:
        flags += f"**the PyTorch peer ran on {p['device']}, Keras on {result['device']}: ratios not comparable.** "
    if load > 0.5 * m["cpu_count"]:
        flags += (f"**the machine was busy (load average {load:g} on {m['cpu_count']} cores at the start): "
                  "not comparable.** ")
    return (f"- **{result['backend']}**: {flags}`{result['command']}`, {result['date']}; "
            f"{m['processor']}, {m['cpu_count']} CPU cores{', ' + m['gpu'] if m['gpu'] else ''} "
            f"({m['platform']}), load average {result['load_average_at_start'][0]:g} at the start"
            f"{', %g at the end' % result['load_average_at_end'][0] if 'load_average_at_end' in result else ''}; "
            f"{versions}; "
            f"jit_compile {jit['requested']!r} → {jit.get('resolved')}; {s['steps']} timed steps after "
            f"{s['warmup']} warm-up steps, best of {s['repeats']} rounds; PyTorch peer on {p['device']}, "
            f"{p['threads']} threads, {'in this process' if p['in_process'] else 'in a child process'}; "
            f"recipe epoch: {e['train_images']:,} training images, val_loss on {e['val_images']:,} and PSNR on "
            f"{e['psnr_digits']:,} digits × {len(e['psnr_sigmas'])} σ (the recipe's 2,000 and 500 for "
            f"{TRAIN_IMAGES:,} images, scaled by {e['train_images']:,}/{TRAIN_IMAGES:,}); "
            f"data loading once per run {e['data_load_seconds']:.1f} s; malloc: "
            f"{s.get('allocator', 'glibc defaults')}; `denoise` over "
            f"{s['denoise_calls']['1']} calls (batch 1) and {s['denoise_calls']['256']} (batch 256).")


def render(results):
    """The markdown of runs of one device: a column per backend, then each run's details."""
    results = sorted(results, key=lambda r: BACKENDS.index(r["backend"]) if r["backend"] in BACKENDS else 9)
    columns = [rows(r) for r in results]
    lines = ["| | " + " | ".join(r["backend"] for r in results) + " |", "|---" * (len(results) + 1) + "|"]
    for i, (label, _) in enumerate(columns[0]):
        if label is None:
            lines.append(f"| **{columns[0][i][1]}** |" + " |" * len(results))
        else:
            lines.append(f"| {label} | " + " | ".join(c[i][1] for c in columns) + " |")
    return "\n".join(lines + ["", *[run_note(r) for r in results]])


def write_markdown(results_dir, path):
    from keras_dae.utils import atomic_write

    results_dir = pathlib.Path(results_dir).resolve()
    found = [json.loads(p.read_text()) for p in sorted(results_dir.glob("speed_*.json"))]
    shown = results_dir.relative_to(ROOT) if results_dir.is_relative_to(ROOT) else results_dir
    parts = ["# Speed: keras-dae, bare Keras and plain PyTorch", "",
             "Written by `python benchmarks/speed.py --from-results` (or `--all-backends`) from "
             f"`{shown}/speed_*.json`; how each figure is measured: the docstring of "
             "`benchmarks/speed.py`. (n×) is speed relative to plain PyTorch in the same run "
             "(images/s ratio, or inverse latency ratio): below 1 is slower. The machine, command and "
             "date of every column are listed under its table."]
    for device in ("cpu", "gpu"):
        runs = [r for r in found if r["device"] == device]
        if runs:
            parts += ["", f"## {device.upper()}", "", render(runs)]
        elif device == "gpu" and found:
            parts += ["", "## GPU", "", "Not measured: no run on a GPU is in the results yet (no GPU "
                      "was available). `bash benchmarks/gpu.sh` on a GPU machine runs this benchmark "
                      "on every backend and adds this table."]
        precision = results_dir / f"precision_{device}.md"  # benchmarks/precision.py's table
        if precision.is_file():
            parts += ["", f"### Mixed precision, {device.upper()} (`python benchmarks/precision.py`; "
                      "(n×) against float32 of the same run)", "", precision.read_text().strip()]
    if not found:
        parts += ["", f"No results in `{results_dir}` yet."]
    atomic_write(path, "\n".join(parts) + "\n")
    print(f"wrote {path}")
    return path


