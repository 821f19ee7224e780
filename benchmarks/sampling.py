"""Sample quality of the zoo's MNIST samplers, as a Fréchet distance in the features of the zoo
classifier (`keras_dae.evaluation.sample_quality`: the last hidden layer, 1,000 units, of
`sdae-mnist-mask-classifier`) and as the class histogram that classifier gives the samples.

    KERAS_BACKEND=torch python benchmarks/sampling.py choose    # settings, on validation digits
    KERAS_BACKEND=torch python benchmarks/sampling.py final     # the test table, once

`choose` draws `--n` (1,000) samples per Langevin setting of `unet-mnist-gauss` and measures
them against the 10,000 validation digits (the last 10,000 MNIST training images, never
trained on); each finished setting is saved at once, so a stopped run resumes.
`final` draws 10,000 samples with the chosen setting (the lowest validation distance, or
`--setting`), and measures against the 10,000 test digits beside two reference points in
the same space: the validation digits themselves (the floor) and the walkback/GSN chain of
`dae-mnist-saltpepper` (the classic). It writes `benchmarks/results/sampling/final.{json,md}` (and its table into docs/sampling.md and the
README),
the 64-sample figure `docs/samples_mnist.png` (the Langevin samples are kept per batch of
500 as 8-bit images in `partial-<setting>/` until the row is written, so a stopped run
resumes: commit that folder to continue on another machine), and with `--register` the chosen settings and
`fid_zoo_classifier@10k` into the registry entry of `unet-mnist-gauss` (`register` does
only that, from the saved results).
Distances depend on the number of samples: compare only rows of the same `n`.
"""

import argparse
import json
import pathlib
import shutil
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "results" / "sampling"
MODEL = "unet-mnist-gauss"
CLASSIC = "dae-mnist-saltpepper"
CLASSIC_STEPS = 100  # the walkback chain's default length

# The Langevin grid: (levels, steps per level, ε, start); σ from the trained 1.0 down to 0.01;
# the start is NCSN's uniform noise (None) or N(mean, 1) around a constant image. About 100
# model evaluations per sample (NCSN runs 1,000): what 10,000 final samples cost on 2 CPU
# cores (~45 min on torch) bounds it.
GRID = [(10, 10, 5e-5, None), (10, 10, 1e-4, None), (10, 10, 1e-4, 0.0), (10, 10, 2e-4, 0.0)]


def key(setting):
    levels, steps, eps, init = setting
    return f"levels={levels},steps_per_sigma={steps},step_size={eps:g}" + (
        "" if init is None else f",init_mean={init:g}")


def describe(setting):
    """The setting as the tables say it."""
    levels, steps, eps, init = setting
    start = "uniform (NCSN)" if init is None else f"N({init:g}, 1)"
    return f"annealed Langevin, {levels} σ × {steps} steps, ε = {eps:g}, start {start}"


def settings_of(setting):
    levels, steps, eps, init = setting
    chosen = {"sampler": "langevin", "sigma_max": 1.0, "sigma_min": 0.01, "levels": levels,
              "steps_per_sigma": steps, "step_size": eps, "denoise_final": True}
    return chosen if init is None else chosen | {"init_mean": init}


def digits():
    """(the first 50,000 training digits, the 10,000 validation digits, the 10,000 test digits)."""
    from keras_dae import datasets

    x_train, _ = datasets.load_mnist("train")
    x_test, _ = datasets.load_mnist("test")
    return x_train[:-10_000], x_train[-10_000:], x_test


def draw(model, n, seed, batch=500, cache=None, **kwargs):
    """`n` samples in batches (memory), each batch with its own seed; clipped to [0, 1].

    With `cache` (a folder), each finished batch is kept there as 8-bit images (as a saved
    image file would hold them) and read back instead of drawn again, so a stopped run
    resumes; the samples are then returned as those 8-bit values."""
    from keras_dae.utils import atomic_write

    out = []
    for first in range(0, n, batch):
        size, batch_seed = min(batch, n - first), seed + first // batch
        path = None if cache is None else pathlib.Path(cache) / f"seed{batch_seed}_n{size}.npz"
        if path is not None and path.exists():
            out.append(np.load(path, allow_pickle=False)["x"].astype("float32") / 255.0)
            continue
        x = np.clip(model.sample(size, seed=batch_seed, **kwargs), 0.0, 1.0)
        if path is not None:
            x = np.round(x * 255.0).astype("uint8")
            atomic_write(path, lambda f, x=x: np.savez_compressed(f, x=x))
            x = x.astype("float32") / 255.0
            print(f"batch {first // batch + 1}/{-(-n // batch)} kept in {path.parent.name}/", flush=True)
        out.append(x)
    return np.concatenate(out)


def measure(quality, samples, reference_features, seconds=None):
    """The distance and class histogram of `samples`, rounded to 8 bits first, as the MNIST
    digits they are compared with are (and as a saved image would be)."""
    samples = np.round(np.clip(samples, 0.0, 1.0) * 255.0) / 255.0
    row = {"n": len(samples),
           "fid": round(quality.frechet_distance(quality.features(samples), reference_features), 3),
           "class_histogram": [round(float(v), 4) for v in quality.class_histogram(samples)]}
    if seconds is not None:
        row["seconds"] = round(seconds, 1)
    return row


def write_json(path, data):
    from keras_dae.utils import atomic_write

    atomic_write(path, json.dumps(data, indent=1) + "\n")


def choose(args):
    import keras
    import keras_dae
    from keras_dae.evaluation.sample_quality import SampleQuality

    quality = SampleQuality.from_zoo()
    train, val, _ = digits()
    ref = quality.features(val)
    path = OUT / "choose.json"
    results = json.loads(path.read_text()) if path.exists() else {
        "model": MODEL, "backend": keras.backend.backend(), "reference": "10,000 validation digits",
        "floor": measure(quality, train[:args.n], ref)
        | {"what": f"the first {args.n} training digits against the 10,000 validation digits"},
        "rows": {}}
    model = keras_dae.load(MODEL)
    for setting in GRID:
        if key(setting) in results["rows"]:
            continue
        start = time.perf_counter()
        model.sampling = settings_of(setting)
        s = draw(model, args.n, args.seed)
        results["rows"][key(setting)] = measure(quality, s, ref, time.perf_counter() - start) | {
            "evaluations": setting[0] * setting[1] + 1}
        write_json(path, results)
        print(key(setting), results["rows"][key(setting)], flush=True)
    write_choice(results)
    best = min(results["rows"], key=lambda k: results["rows"][k]["fid"])
    print("lowest validation distance:", best, results["rows"][best]["fid"])


def write_choice(results):
    """`choose.md` and the `sampling-choice` block of docs/sampling.md from `choose.json`."""
    from keras_dae.utils import replace_block

    floor = results["floor"]
    lines = [f"{floor['n']:,} samples per setting against {results['reference']}; "
             f"{results['backend']} backend; σ from 1.0 down to 0.01, a last denoising step.", "",
             "| setting | start | distance | share of each class 0–9 |", "|---|---|---|---|",
             f"| {floor['what']} (the floor) | | {floor['fid']:.2f} | "
             + " ".join(f"{v:.2f}" for v in floor["class_histogram"]) + " |"]
    for name, row in results["rows"].items():
        setting, start = (name.split(",init_mean=") + ["uniform (NCSN)"])[:2]
        start = start if start == "uniform (NCSN)" else f"N({start}, 1)"
        lines.append(f"| {setting.replace(',', ', ')} | {start} | {row['fid']:.2f} | "
                     + " ".join(f"{v:.2f}" for v in row["class_histogram"]) + " |")
    text = "\n".join(lines) + "\n"
    (OUT / "choose.md").write_text(text)
    replace_block(ROOT / "docs" / "sampling.md", "sampling-choice", text, missing_ok=True)


def chosen_setting(args):
    if args.setting:
        levels, steps, eps, *init = args.setting.split(",")
        return int(levels), int(steps), float(eps), float(init[0]) if init else None
    rows = json.loads((OUT / "choose.json").read_text())["rows"]
    best = min(rows, key=lambda k: rows[k]["fid"])
    return next(s for s in GRID if key(s) == best)


def final(args):
    import keras
    import keras_dae
    from keras_dae.evaluation.sample_quality import SampleQuality

    quality = SampleQuality.from_zoo()
    _, val, test = digits()
    ref = quality.features(test)
    setting = chosen_setting(args)
    path = OUT / "final.json"
    results = json.loads(path.read_text()) if path.exists() else {
        "backend": keras.backend.backend(), "reference": "the 10,000 MNIST test digits",
        "feature_extractor": "sdae-mnist-mask-classifier, last hidden layer (1,000 units)",
        "rows": {}}
    results["rows"]["validation digits (floor)"] = measure(quality, val[:args.n], ref)
    if CLASSIC not in results["rows"]:
        start = time.perf_counter()
        s = draw(keras_dae.load(CLASSIC), args.n, args.seed, steps=CLASSIC_STEPS)
        results["rows"][CLASSIC] = measure(quality, s.reshape(-1, 28, 28, 1), ref, time.perf_counter() - start) | {
            "sampler": f"walkback, {CLASSIC_STEPS} steps", "evaluations": CLASSIC_STEPS}
        write_json(path, results)
    start = time.perf_counter()
    model = keras_dae.load(MODEL)
    chosen = settings_of(setting)
    model.sampling = chosen
    s = draw(model, args.n, args.seed, cache=OUT / f"partial-{key(setting)}")
    results["rows"][MODEL] = measure(quality, s, ref, time.perf_counter() - start) | {
        "sampler": describe(setting), "evaluations": setting[0] * setting[1] + 1, "settings": chosen}
    write_final(results)
    figure(s[:64], ROOT / "docs" / "samples_mnist.png")
    print(table(results))
    shutil.rmtree(OUT / f"partial-{key(setting)}", ignore_errors=True)  # the row is final
    if args.register:
        register(results["rows"][MODEL]["fid"], chosen)


def figure(samples, path):
    """Eight rows of eight samples, the first drawn, as a PNG."""
    from keras_dae import plotting

    rows = [samples[i:i + 8] for i in range(0, len(samples), 8)]
    plotting.save_image_atomic(plotting.image_grid(rows, scale=2, label_width=0), path)


def write_final(results):
    from keras_dae.utils import write_results

    text = table(results)
    if MODEL not in results["rows"]:
        kept = sorted(OUT.glob("partial-*/*.npz"))
        text += (f"\n`{MODEL}`'s 10,000 Langevin samples are still being drawn ({len(kept)} of 20 "
                 "batches of 500 kept; `python benchmarks/sampling.py final` resumes).\n")
    write_results(OUT / "final", results, text, tag="sampling-table",
                  quoted_in=(ROOT / "docs" / "sampling.md", ROOT / "README.md"))


def table(results):
    lines = [f"Fréchet distance to {results['reference']} in the features of "
             f"{results['feature_extractor']}; {results['backend']} backend.", "",
             "| samples | sampler | model evaluations | distance | share of each class 0–9 |",
             "|---|---|---|---|---|"]
    for name, row in results["rows"].items():
        hist = " ".join(f"{v:.2f}" for v in row["class_histogram"])
        lines.append(f"| {row['n']:,} {name} | {row.get('sampler', '–')} | {row.get('evaluations', '–')} "
                     f"| {row['fid']:.2f} | {hist} |")
    return "\n".join(lines) + "\n"


def register(fid, chosen):
    """Writes the chosen settings and the distance into `keras_dae/weights/registry.json`."""
    from keras_dae.utils import atomic_write
    from keras_dae.zoo import registry

    path = ROOT / "keras_dae" / "weights" / "registry.json"
    data = json.loads(path.read_text())
    entry = next(e for e in data["entries"] if e["name"] == MODEL)
    if fid is not None:
        entry["metrics"]["fid_zoo_classifier@10k"] = fid
    entry["sampling"] = chosen
    registry.ModelEntry.from_dict(entry)  # still a valid entry
    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    print(f"registered: {MODEL} fid_zoo_classifier@10k={fid}, sampling={chosen}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("stage", choices=("choose", "final", "register", "tables"),
                        help="register: write the chosen settings (and final.json's figure, once "
                        "measured) into the registry; tables: rewrite the markdown from the results")
    parser.add_argument("--n", type=int, default=None, help="samples (choose: 1,000; final: 10,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--setting", help="final: 'levels,steps_per_sigma,step_size[,init_mean]' "
                        "instead of the chosen one")
    parser.add_argument("--register", action="store_true", help="final: write the registry entry")
    args = parser.parse_args(argv)
    args.n = args.n or (1000 if args.stage == "choose" else 10_000)
    if args.stage == "tables":  # the markdown again, from the saved results
        write_choice(json.loads((OUT / "choose.json").read_text()))
        if (OUT / "final.json").exists():
            write_final(json.loads((OUT / "final.json").read_text()))
        return None
    if args.stage == "register":  # the chosen settings, and the test figure once measured
        row = json.loads((OUT / "final.json").read_text())["rows"].get(MODEL)
        return register(row["fid"], row["settings"]) if row else register(None, settings_of(chosen_setting(args)))
    (choose if args.stage == "choose" else final)(args)


if __name__ == "__main__":
    main()
