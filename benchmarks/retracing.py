"""What a folder of differently sized photos costs in tracing: `denoise` of one gray photo of
each of several sizes, twice in a row, on the active backend; the first call of a new size
includes whatever the backend compiles for it (JAX: a new XLA program per shape; TensorFlow:
Keras' `reduce_retracing` turns the function shape-generic after its second shape; torch:
keras-dae's traced graph from a shape's second call on, `keras_dae.backend.TracedInference`).

    KERAS_BACKEND=jax python benchmarks/retracing.py     # → results/retracing_<backend>.json
    python benchmarks/retracing.py --from-results        # results/retracing.md from the JSONs

The sizes are those of photos (BSD68's two orientations, a Kodak-like 512×768, and others),
visited in an order that comes back to two of them; random pixels, σ = 25/255,
`dncnn-bsd400-gauss`. Wall times of single calls (not medians): a run shows the pattern,
not a precise figure.
"""

import argparse
import json
import os
import pathlib
import sys
import time

SIZES = [(321, 481), (481, 321), (320, 480), (300, 400), (512, 768), (321, 481), (256, 256), (300, 400)]
RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-results", action="store_true", help="only write retracing.md from the JSONs")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    parser.add_argument("--sizes", help="comma-separated HxW (default: the photo sizes above)")
    args = parser.parse_args(argv)
    if not args.from_results:
        sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")] if args.sizes else SIZES
        result = measure(sizes)
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / f"retracing_{result['backend']}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {path}")
    write_markdown(args.out)
    return 0


def measure(sizes):
    import keras
    import numpy as np

    import keras_dae

    model = keras_dae.load("dncnn-bsd400-gauss", compile=False)
    rng = np.random.default_rng(0)
    rows = []
    for h, w in sizes:
        x = rng.random((1, h, w, 1)).astype("float32")
        seconds = []
        for _ in range(2):
            start = time.perf_counter()
            model.denoise(x, sigma=25 / 255)
            seconds.append(round(time.perf_counter() - start, 3))
        rows.append({"size": [h, w], "first_s": seconds[0], "second_s": seconds[1]})
        print(f"{keras.backend.backend()} {h}×{w}: first {seconds[0]:.2f} s, again {seconds[1]:.2f} s", flush=True)
    return {"backend": keras.backend.backend(), "date": time.strftime("%Y-%m-%d %H:%M"),
            "command": f"KERAS_BACKEND={keras.backend.backend()} python benchmarks/retracing.py",
            "cpu_count": os.cpu_count(), "rows": rows}


def write_markdown(out):
    found = {r["backend"]: r for r in (json.loads(p.read_text()) for p in sorted(out.glob("retracing_*.json")))}
    if not found:
        return
    backends = sorted(found)
    lines = ["# `denoise` of differently sized photos: first call of a size, then again", "",
             "Written by `python benchmarks/retracing.py --from-results` (method: its docstring). "
             "Seconds, `dncnn-bsd400-gauss`, one gray image per call, σ = 25/255.", "",
             "| # | size | " + " | ".join(f"{b} first / again" for b in backends) + " |",
             "|---|---|" + "---|" * len(backends)]
    for i, row in enumerate(found[backends[0]]["rows"]):
        cells = []
        for b in backends:
            r = found[b]["rows"][i] if i < len(found[b]["rows"]) else None
            cells.append(f"{r['first_s']:.2f} / {r['second_s']:.2f}" if r else "—")
        lines.append(f"| {i + 1} | {row['size'][0]}×{row['size'][1]} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- **{b}**: {found[b]['date']}, `{found[b]['command']}`, {found[b]['cpu_count']} cores." for b in backends]
    (out / "retracing.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / 'retracing.md'}")


if __name__ == "__main__":
    sys.exit(main())
