"""Inference latency: keras-dae's `denoise` against the same network in plain PyTorch and
against onnxruntime running the model's ONNX export, on the CPU.

    KERAS_BACKEND=jax python benchmarks/inference.py    # the active backend → results/inference_cpu_<backend>.json
    python benchmarks/inference.py --from-results       # only rewrite results/inference_cpu.md from the JSONs

Rows (a zoo model and an input; `--rows` picks some by name or prefix):

- `unet-mnist-gauss/1` and `/256`: one MNIST test digit `(1, 28, 28, 1)` and a batch of 256,
  σ = 0.3 given. PyTorch peer: `benchmarks/torch_unet.py`'s `UNet`, as `speed.py` builds it
  (parameter count checked equal to Keras'). Its weights are NOT copied (speed.py does not
  either; the stride-2 padding differs, see torch_unet.py), so its output is not the
  model's: same architecture and amount of work, which is what the timing needs.
- `dncnn-bsd400-gauss/64x64` and `/photo`: a 64×64 patch (the first BSD68 image's top-left
  corner) and that whole 481×321 photo, σ = 25/255 given. PyTorch peer: `DnCNN` below, the
  gray FiLM DnCNN in `torch.nn` (sinusoidal embedding of 10·log σ, Dense → SiLU → Dense,
  h·(1 + γ) + β on every hidden layer), the Keras weights copied in; its output must match
  `model.denoise` within 1e-4 before anything is timed (the same network, not a look-alike).
- `dncnn-cbsd432-gauss/photo`: the first CBSD68 photo, RGB, σ = 25/255, when
  `keras_dae.load` knows the model (skipped and recorded as such otherwise). Peer:
  `OpponentColor` below (opponent colour transform, the channels as a batch of gray images
  at per-channel σ through the gray `DnCNN`, the 3×3 cross-channel head), weights copied,
  checked within 1e-4 like the gray one.

Every way computes what `denoise` returns, x − σ·ε̂ (no clipping), from NumPy NHWC float32
in to NumPy out, host conversions included: keras-dae `model.denoise(x, sigma=σ)`; the peer
under `torch.inference_mode()` at torch's default thread count, in this process; onnxruntime
`InferenceSession` with default session options and the CPU provider on the file that
`keras_dae.zoo.export.export` writes from the active backend (its output is checked against
`denoise` within 1e-4 too). Each figure is the median of `calls` timed calls after `warmup`
untimed ones, the three ways interleaved call by call, round after round (the order
rotating), so a neighbour's load falls on all alike, with a pause of `PAUSE` = 0.1 s before
each call: onnxruntime's threads spin after each of its calls, and without the pause
whatever ran next was up to 2× slower (every call's time is kept in the JSON). A call
thus starts as a server's answer to a lone request does. Ratio = peer latency /
keras-dae latency: above 1, keras-dae is faster.

Defaults (`ROWS`): 3 warm-up calls (2 for photos), 15 timed at batch 1 and 64×64, 7 at 256, 5
for the gray photo, 3 for the colour one; `--repeats N` times N everywhere. The warm-up
covers keras-dae's tracing on torch (a shape's second call traces its graph,
`keras_dae.backend.TracedInference`), as it covers JAX's and TensorFlow's compilation.
`--quick` (tests, not a measurement): 2 + 2 calls, batch 256 cut to 4, photos to their 48×40
corner. The CPU time other processes took during the run (the machine's busy time from
/proc/stat less this process's own; the load average would count this run's own threads) is
recorded, and a run where they kept more than a quarter of a core busy on average is flagged:
on 2 busy cores PyTorch's default 2 OpenMP threads (the peer's; on torch, keras-dae's too) can
take 5–30× longer per call than on an idle machine (`--torch-threads 1` to compare).
"""

import argparse
import json
import os
import pathlib
import platform
import resource
import statistics
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import torch_unet  # noqa: E402 (beside this file)
from speed import interleaved  # noqa: E402 (the interleaved timing loop of speed.py)

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
BACKENDS = ("jax", "tensorflow", "torch")
TOLERANCE = 1e-4
WAYS = ("keras_dae", "pytorch", "onnxruntime")
PAUSE = 0.1  # s of sleep before each timed call (see the docstring)
BUSY_CORES = 0.25  # other processes' average use of the cores above which a run is flagged
# name: (model, input: digits (how many), patch, photo or rgb, σ, timed calls, warm-up calls)
ROWS = {"unet-mnist-gauss/1": ("unet-mnist-gauss", 1, 0.3, 15, 3),
        "unet-mnist-gauss/256": ("unet-mnist-gauss", 256, 0.3, 7, 3),
        "dncnn-bsd400-gauss/64x64": ("dncnn-bsd400-gauss", "patch", 25 / 255, 15, 3),
        "dncnn-bsd400-gauss/photo": ("dncnn-bsd400-gauss", "photo", 25 / 255, 5, 2),
        "dncnn-cbsd432-gauss/photo": ("dncnn-cbsd432-gauss", "rgb", 25 / 255, 3, 2)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", help="comma-separated row names or prefixes (default: all)")
    parser.add_argument("--repeats", type=int, help="timed calls per row (default: per row, 3 to 15)")
    parser.add_argument("--quick", action="store_true", help="2 warm-up and 2 timed calls on small inputs (tests)")
    parser.add_argument("--from-results", action="store_true", help="only write inference_cpu.md from the JSONs")
    parser.add_argument("--out", type=pathlib.Path, help="folder of the JSON and Markdown (default: benchmarks/results)")
    parser.add_argument("--torch-threads", type=int, help="torch.set_num_threads first (default: torch's own)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    out = args.out or RESULTS_DIR
    if args.from_results:
        path = write_markdown(out)
        print(f"wrote {path}")
        return 0
    picked = [r for r in ROWS if not args.rows or any(r == p or r.startswith(p) for p in args.rows.split(","))]
    if not picked:
        parser.error(f"--rows matches none of {', '.join(ROWS)}")
    if args.torch_threads:  # on the torch backend, Keras' threads too
        torch.set_num_threads(args.torch_threads)
    result = measure(args, picked, argv)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"inference_cpu_{result['backend']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


def load_average():
    return [round(v, 2) for v in os.getloadavg()]


def cpu_counters():
    """`(wall s, busy CPU s of the machine, CPU s of this process)`, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]
    except OSError:
        return None
    own = resource.getrusage(resource.RUSAGE_SELF)
    busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
    return time.monotonic(), busy, own.ru_utime + own.ru_stime


def others_cores(start, end):
    """Cores kept busy by other processes between two `cpu_counters`, on average (the load
    average would count this run's own threads)."""
    if start is None or end is None:
        return None
    return round(max(0.0, (end[1] - start[1]) - (end[2] - start[2])) / (end[0] - start[0]), 2)


def inputs(what, quick):
    """The clean NHWC float32 batch of a row (the noise is added by `measure`)."""
    from keras_dae import datasets

    if isinstance(what, int):  # MNIST test digits
        return datasets.load_mnist("test", num_images=min(what, 4) if quick else what)[0]
    image = datasets.load_image_folder("cbsd68" if what == "rgb" else "bsd68", num_images=1,
                                       color_mode="rgb" if what == "rgb" else "grayscale")[0]
    if what == "patch":
        image = image[:64, :64]
    elif quick:
        image = image[:40, :48]
    return image[None].astype("float32")


def measure(args, picked, argv):
    import keras
    import onnxruntime

    import keras_dae
    from keras_dae.zoo.export import export

    counters = cpu_counters()
    backend = keras.backend.backend()
    result = {"backend": backend, "device": "cpu", "quick": args.quick,
              "command": " ".join([f"KERAS_BACKEND={backend}", "python", "benchmarks/inference.py", *(argv or [])]),
              "date": time.strftime("%Y-%m-%d %H:%M"), "load_average_at_start": load_average(),
              "machine": {"processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
                          "platform": platform.platform()},
              "versions": {"python": platform.python_version(), "keras": keras.__version__,
                           backend: __import__(backend).__version__, "torch": torch.__version__,
                           "onnxruntime": onnxruntime.__version__, "numpy": np.__version__},
              "torch_threads": torch.get_num_threads(), "rows": []}
    models, tmp = {}, tempfile.TemporaryDirectory()
    for name in picked:
        model_name, what, sigma, calls, warmup = ROWS[name]
        row = {"row": name, "model": model_name, "sigma": sigma}
        result["rows"].append(row)
        if model_name not in models:
            try:
                model = keras_dae.load(model_name, compile=False)
            except ValueError as e:
                models[model_name] = str(e).splitlines()[0]
            else:
                start = time.perf_counter()
                onnx_path = export(model, pathlib.Path(tmp.name) / f"{model_name}.onnx")
                row["onnx_export_seconds"] = round(time.perf_counter() - start, 2)
                session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
                models[model_name] = (model, *torch_peer(model), session)
        if isinstance(models[model_name], str):
            row["skipped"] = models[model_name]
            print(f"{name}: skipped ({row['skipped']})", flush=True)
            continue
        x = inputs(what, args.quick)
        x = (x + sigma * np.random.default_rng(0).standard_normal(x.shape)).astype("float32")
        warmup, calls = (2, 2) if args.quick else (warmup, args.repeats or calls)
        time_row(row, *models[model_name], x, sigma, calls, warmup, quick=args.quick)
    tmp.cleanup()
    result["load_average_at_end"] = load_average()
    result["other_processes_cores"] = busy = others_cores(counters, cpu_counters())
    if busy is not None and busy > BUSY_CORES:
        print(f"WARNING: other processes kept {busy} cores busy on average during the run: timings are "
              "inflated by other work", flush=True)
    return result


def time_row(row, model, peer, peer_note, session, x, sigma, calls, warmup, quick=False):
    """Checks the peer and onnxruntime against `model.denoise` on `x`, then times the three."""
    import keras

    ways = {"keras_dae": lambda: model.denoise(x, sigma=sigma),
            "pytorch": lambda: torch_denoise(peer, x, sigma),
            "onnxruntime": lambda: session.run(None, {"x": x, "sigma": np.full(len(x), sigma, "float32")})[0]}
    reference = ways["keras_dae"]()
    row.update(input_shape=list(x.shape), pytorch_peer=dict(peer_note),
               onnxruntime_max_abs_diff=float(np.abs(ways["onnxruntime"]() - reference).max()),
               keras_conv2d=sorted({f"{type(layer).__module__}.{type(layer).__name__}" for layer in
                                    all_layers(model.network) if isinstance(layer, keras.layers.Conv2D)}))
    if peer_note["weights"] == "copied":
        row["pytorch_peer"]["max_abs_diff"] = diff = float(np.abs(ways["pytorch"]() - reference).max())
        if not diff <= TOLERANCE:
            raise AssertionError(f"{row['row']}: the PyTorch peer differs from model.denoise by {diff:.3g} "
                                 f"(> {TOLERANCE}): it is not the same network")
    if not row["onnxruntime_max_abs_diff"] <= TOLERANCE:
        raise AssertionError(f"{row['row']}: onnxruntime differs from model.denoise by "
                             f"{row['onnxruntime_max_abs_diff']:.3g} (> {TOLERANCE})")
    pause = 0.0 if quick else PAUSE
    row["ms"] = interleaved(ways, calls, warmup, pause=pause)
    row.update(warmup=warmup, calls=calls, pause_s=pause,
               median_ms={k: statistics.median(v) for k, v in row["ms"].items()})
    row["ratio"] = {k: row["median_ms"][k] / row["median_ms"]["keras_dae"] for k in WAYS[1:]}
    print(f"{row['row']} {tuple(x.shape)}: " + ", ".join(f"{k} {v:.2f} ms" for k, v in row["median_ms"].items())
          + " (×PyTorch {pytorch:.2f}, ×ORT {onnxruntime:.2f})".format(**row["ratio"]), flush=True)


# The PyTorch peers.

def torch_denoise(peer, x, sigma):
    """What `denoise` does, in PyTorch: NumPy NHWC in, x − σ·ε̂ out as NumPy NHWC."""
    with torch.inference_mode():
        xt = torch.from_numpy(x)
        s = torch.from_numpy(np.full(len(x), sigma, "float32"))
        eps = peer(xt.permute(0, 3, 1, 2), s).permute(0, 2, 3, 1)
        return (xt - s[:, None, None, None] * eps).contiguous().numpy()


def torch_peer(model):
    """`(module, note)`: the PyTorch ε̂ network of a zoo model (NCHW in and out)."""
    from speed import unet_arguments

    network = model.network
    names = {layer.name for layer in all_layers(network)}
    if "sigma_per_channel" in names:
        peer = OpponentColor(network)
    elif "conv_0" in names:
        peer = DnCNN(network)
    else:
        peer = torch_unet.UNet(**unet_arguments(network)).eval()
        torch_unet.check_param_count(peer, network.count_params())
        return peer, {"module": "torch_unet.UNet", "weights": "fresh (not copied)", "params": network.count_params()}
    with torch.no_grad():
        peer.load_keras(network)
    assert torch_unet.param_count(peer) == network.count_params(), "the peer is not the same architecture"
    return peer.eval(), {"module": type(peer).__name__, "weights": "copied", "params": network.count_params()}


def all_layers(network):
    """The layers of `network` and of the models nested in it."""
    for layer in network.layers:
        yield layer
        yield from all_layers(layer) if hasattr(layer, "layers") else ()


def find_layer(network, name):
    return next(layer for layer in all_layers(network) if layer.name == name)


def _copy(module, kernel, bias):
    kernel = kernel.transpose(3, 2, 0, 1) if kernel.ndim == 4 else kernel.T  # HWIO → OIHW, (in, out) → (out, in)
    module.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel)))
    module.bias.copy_(torch.from_numpy(bias))


class DnCNN(nn.Module):
    """`keras_dae.networks.dncnn(..., sigma_conditioning="film")`, channels first: conv3 +
    ReLU, then (conv3 → FiLM → ReLU) × (depth − 2), then conv3; `forward` returns ε̂ (and
    with `features=True` the last hidden features, the layer "code", first)."""

    def __init__(self, network):
        super().__init__()
        depth = sum(layer.name.startswith("conv_") and layer.name[5:].isdigit() for layer in all_layers(network))
        channels, filters = find_layer(network, "conv_0").kernel.shape[2], find_layer(network, "conv_0").filters
        sinusoidal = find_layer(network, "sigma_sinusoidal")
        self.embedding = torch_unet.SigmaEmbedding(sinusoidal.dim, sinusoidal.max_period, sinusoidal.scale)
        self.convs = nn.ModuleList(nn.Conv2d(channels if i == 0 else filters, channels if i == depth - 1
                                             else filters, 3, padding=1) for i in range(depth))
        self.films = nn.ModuleList(torch_unet.FiLM(filters, sinusoidal.dim) for _ in range(depth - 2))

    def load_keras(self, network):
        for i, conv in enumerate(self.convs):
            _copy(conv, *find_layer(network, f"conv_{i}").get_weights())
        for i, film in enumerate(self.films, 1):
            _copy(film.projection, *find_layer(network, f"conv_{i}_film").get_weights())
        _copy(self.embedding.dense_1, *find_layer(network, "sigma_dense_1").get_weights())
        _copy(self.embedding.dense_2, *find_layer(network, "sigma_embedding").get_weights())

    def forward(self, x, sigma, features=False):
        e = self.embedding(sigma)
        h = F.relu(self.convs[0](x))
        for conv, film in zip(self.convs[1:-1], self.films):
            h = F.relu(film(conv(h), e))
        out = self.convs[-1](h)
        return (h, out) if features else out


class OpponentColor(nn.Module):
    """`keras_dae.networks.opponent_color(gray_dncnn, head=True)`, channels first: RGB →
    opponent colour, its three channels as a batch of gray images at σ·‖row‖ through the
    gray `DnCNN`, ε̂ back to RGB, plus a 3×3 conv over the three channels' last features."""

    def __init__(self, network):
        super().__init__()
        config = lambda name, key: torch.tensor(find_layer(network, name).get_config()[key])  # noqa: E731
        self.register_buffer("to_opponent", config("to_opponent", "matrix"))
        self.register_buffer("offset", config("to_opponent", "offset"))
        self.register_buffer("scales", config("sigma_per_channel", "scales"))
        self.register_buffer("to_rgb", config("noise_to_rgb", "matrix"))
        self.gray = DnCNN(network)
        self.head = nn.Conv2d(3 * find_layer(network, "conv_0").filters, 3, 3, padding=1)

    def load_keras(self, network):
        self.gray.load_keras(network)
        _copy(self.head, *find_layer(network, "cross_channel_head").get_weights())

    def forward(self, x, sigma):
        b, c, h, w = x.shape
        opponent = torch.einsum("oc,bchw->bohw", self.to_opponent, x) + self.offset[None, :, None, None]
        features, eps = self.gray(opponent.reshape(b * c, 1, h, w), (sigma[:, None] * self.scales).reshape(-1),
                                  features=True)
        eps = torch.einsum("oc,bchw->bohw", self.to_rgb, eps.reshape(b, c, h, w))
        return eps + self.head(features.reshape(b, -1, h, w))


# The Markdown.

def write_markdown(results_dir):
    results_dir = pathlib.Path(results_dir)
    found = [json.loads(p.read_text()) for p in sorted(results_dir.glob("inference_cpu_*.json"))]
    found = {r["backend"]: r for r in found}
    backends = sorted(found, key=lambda b: BACKENDS.index(b) if b in BACKENDS else 9)
    cells = {b: {row["row"]: row for row in found[b]["rows"]} for b in backends}
    names = [n for n in ROWS if any(n in cells[b] for b in backends)]
    lines = ["# Inference latency on the CPU: keras-dae `denoise`, plain PyTorch, onnxruntime", "",
             ("Written by `python benchmarks/inference.py --from-results` (see its docstring for the method). "
              "Each cell: keras-dae's median `denoise` latency, then (×PyTorch, ×ORT): the plain-PyTorch peer's "
              "and onnxruntime's latency divided by keras-dae's (above 1: keras-dae is faster)."), "",
             "| row | input | " + " | ".join(backends) + " |", "|---" * (len(backends) + 2) + "|"]
    def cell(r):
        if r is None or "skipped" in r:
            return "not run" if r is None else "skipped"
        ms = r["median_ms"]["keras_dae"]
        return (f"{ms:.0f} ms" if ms >= 100 else f"{ms:.3g} ms") + \
            f" (×{r['ratio']['pytorch']:.2f}, ×{r['ratio']['onnxruntime']:.2f})"

    for name in names:
        shape = next((c[name]["input_shape"] for c in cells.values() if "input_shape" in c.get(name, {})), None)
        row = [name, "×".join(map(str, shape)) if shape else "—"] + [cell(cells[b].get(name)) for b in backends]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for b in backends:
        r = found[b]
        cores = r["machine"]["cpu_count"] or 1
        others = r.get("other_processes_cores")
        if others is None:  # runs from before the CPU counters
            busy = f"load average {r['load_average_at_start']} at start, {r['load_average_at_end']} at end on {cores} cores"
        else:
            busy = f"other processes kept {others} of the {cores} cores busy on average"
            busy += " — BUSY, timings inflated" if others > BUSY_CORES else ""
        lines.append(f"- **{b}** ({r['date']}, `{r['command']}`{', quick run: not a measurement' if r['quick'] else ''}): "
                     f"{busy}; "
                     + ", ".join(f"{k} {v}" for k, v in r["versions"].items()) + f"; torch threads {r['torch_threads']}.")
    rows = [row for r in found.values() for row in r["rows"]]
    lines += list(dict.fromkeys(f"- `{row['row']}` skipped: {row['skipped']}" for row in rows if "skipped" in row))
    for model in dict.fromkeys(row["model"] for row in rows if "pytorch_peer" in row):
        p = [row["pytorch_peer"] for row in rows if row["model"] == model and "pytorch_peer" in row]
        lines.append(f"- PyTorch peer of `{model}`: `{p[0]['module']}`, {p[0]['params']:,} parameters, weights "
                     f"{p[0]['weights']}" + (f" (max |peer − denoise| {max(q['max_abs_diff'] for q in p):.1e})"
                     if "max_abs_diff" in p[0] else ": same architecture and work, not the same outputs") + ".")
    path = results_dir / "inference_cpu.md"
    path.write_text("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    raise SystemExit(main())
