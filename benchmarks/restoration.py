"""Plug-and-play restoration with keras-dae's denoisers as priors, measured
(`keras_dae.evaluation.restoration` has the protocol).

    python benchmarks/restoration.py choose-iterations   # on validation crops (train400's held-out)
    python benchmarks/restoration.py table --dataset bsd68 --crop 192   # the test table, once
    python benchmarks/restoration.py summary --write   # README.md's table, from the saved tables
    python benchmarks/restoration.py figure            # docs/restoration.png: one crop, each task

`choose-iterations` runs each task kind at a few iteration counts on the last 8 images of
train400 (held out of the gray denoiser's training), central 128×128 crops, and prints the
best count per kind: the value of `keras_dae.restoration.ITERATIONS`. `table` measures the
prior and the classical method of each task on a test set and writes
`benchmarks/results/restoration/<dataset>-<model>.{json,md}`.
"""

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PARTIAL = ROOT / "benchmarks/results/restoration/partial"
CANDIDATES = {"deblur": (8, 16), "sr": (16, 24), "inpaint": (24, 48)}
VALIDATION_TASKS = {"deblur": ("deblur-2.55", "deblur-7.65"), "sr": ("sr-2", "sr-4"),
                    "inpaint": ("inpaint-50", "inpaint-80")}


def choose_iterations(model_name, num_images=8, crop=128, kinds=None, out=None, tasks=None, candidates=None,
                      lams=None, sigma_starts=None):
    import numpy as np

    from keras_dae import datasets, load
    from keras_dae.evaluation import restoration as protocol
    from keras_dae.restoration import restore
    from keras_dae.restoration.hqs import LAMBDA, SIGMA_START

    model = load(model_name)
    paths = datasets.list_images(datasets.image_set_dir("train400"))[-num_images:]
    clean = protocol.center_crops([datasets.load_image(p) for p in paths], crop)
    lines = [f"validation: last {num_images} train400 images, central {crop}×{crop}, prior {model_name}",
             "", "| task | iterations: PSNR |", "|---|---|"]
    best = {}
    for kind in kinds or CANDIDATES:
        counts = tuple(candidates or CANDIDATES[kind])
        settings = [(n, lam, start) for n in counts for lam in (lams or [LAMBDA])
                    for start in (sigma_starts or [SIGMA_START * 255])]
        totals = dict.fromkeys(settings, 0.0)
        for task in VALIDATION_TASKS[kind]:
            if tasks and task not in tasks:
                continue
            cases = protocol.degrade(task, clean, seed=1)
            per = len(cases) // len(clean)
            cells = []
            for n, lam, start in settings:
                values = [protocol._psnr(clean[i // per], restore(y, op, noise, model, iterations=n, lam=lam,
                                                                  sigma_start=start / 255),
                                         protocol.border(task)) for i, (y, op, noise) in enumerate(cases)]
                totals[n, lam, start] += float(np.mean(values))
                cells.append(label(n, lam, start, lams, sigma_starts) + f": {np.mean(values):.3f}")
            lines.append(f"| {task} | " + ", ".join(cells) + " |")
            print(lines[-1], flush=True)
        best[kind] = max(totals, key=totals.get)
    lines += ["", "chosen: " + ", ".join(f"{k} " + label(*setting, lams, sigma_starts) for k, setting in best.items())]
    print(lines[-1])
    if out:
        pathlib.Path(out).write_text("\n".join(lines) + "\n")
    return best


def label(n, lam, start, lams, sigma_starts):
    """`8`, or `8 (λ 0.23)`, `8 (σ₁ 49/255)`: what varies among the compared settings."""
    extra = ([f"λ {lam:g}"] if lams else []) + ([f"σ₁ {start:g}/255"] if sigma_starts else [])
    return f"{n}" + (f" ({', '.join(extra)})" if extra else "")


RESULTS = ROOT / "benchmarks/results/restoration"
#: The files whose `restoration-table` block `summary --write` replaces.
QUOTED_IN = (ROOT / "README.md", ROOT / "docs" / "restoration.md")
#: The issue's floor on BSD68 crops (gray), dB above the classical method of each task.
BARS = {"deblur-2.55": 3.0, "deblur-7.65": 3.0, "sr-2": 1.5, "sr-4": 0.8, "inpaint-80": 1.0}
TASK_NAMES = {"deblur-2.55": "deblurring, σ_n = 2.55 (8 Levin kernels)", "deblur-7.65": "deblurring, σ_n = 7.65",
              "sr-2": "super-resolution ×2 (bicubic)", "sr-4": "super-resolution ×4", "inpaint-50": "inpainting, 50 % missing",
              "inpaint-80": "inpainting, 80 % missing"}


def summary(model="dncnn-bsd400-gauss", datasets=("bsd68", "set12")):
    """The README's table: per task, the prior and the classical method on each test set's
    saved table (`table`), their difference and the bar; a task not yet measured says so."""
    import json

    from keras_dae.evaluation import restoration as protocol

    tables = {}
    for name in datasets:
        path = RESULTS / f"{name}-{model}.json"
        rows = json.loads(path.read_text())["rows"] if path.is_file() else []
        tables[name] = {(r["condition"], r["method"] == model): r["metrics"]["psnr"] for r in rows}
    names = {"bsd68": "BSD68", "set12": "Set12", "cbsd68": "CBSD68"}
    head = " | ".join(f"{names.get(d, d)}: prior / classical / difference" for d in datasets)
    lines = [f"| task | {head} | bar (BSD68) |", "|---|" + "---|" * len(datasets) + "---|"]
    for task in protocol.TASKS:
        cells, gains = [], []
        for name in datasets:
            ours, theirs = tables[name].get((task, True)), tables[name].get((task, False))
            gains.append(None if ours is None or theirs is None else ours - theirs)
            cells.append("being measured" if gains[-1] is None else f"{ours:.2f} / {theirs:.2f} / **{gains[-1]:+.2f}**")
        bar = BARS.get(task)
        verdict = "" if bar is None or gains[0] is None else (" met" if gains[0] >= bar else " not met")
        lines.append(f"| {TASK_NAMES[task]} | " + " | ".join(cells) + f" | {'–' if bar is None else f'≥ {bar:g}{verdict}'} |")
    return "\n".join(lines)


def figure(out, model_name="dncnn-bsd400-gauss", dataset="bsd68", image="test003.png", crop=192):
    """One test crop under three tasks (deblurring at σ_n = 7.65 with the first Levin kernel,
    ×4 super-resolution, 80 % of the pixels missing): the observation, the classical method
    and the prior's restoration, each with its PSNR."""
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from keras_dae import datasets, load
    from keras_dae.evaluation import restoration as protocol
    from keras_dae.plotting import save_figure
    from keras_dae.restoration import restore

    model = load(model_name)
    clean = protocol.center_crops([datasets.load_image(os.path.join(datasets.image_set_dir(dataset), image))], crop)
    tasks = (("deblur-7.65", "blurred, noise σ_n = 7.65"), ("sr-4", "¼ size (shown ×4)"), ("inpaint-80", "80 % missing"))
    fig, axes = plt.subplots(len(tasks), 4, figsize=(12, 3.2 * len(tasks)))
    for row, (task, observed) in zip(axes, tasks):
        y, op, noise = protocol.degrade(task, clean, seed=0)[0]
        kind, border = protocol.parse_task(task)[0], protocol.border(task)
        # the low-resolution image has no PSNR against the clean one; it is shown enlarged
        shown = (np.kron(y, np.ones((4, 4, 1))), None) if kind == "sr" else (y, protocol._psnr(clean[0], y, border))
        panels = [("clean", clean[0], None), (observed, *shown)]
        classical = {"deblur": "Wiener, best balance", "sr": "bicubic", "inpaint": "biharmonic"}[kind]
        for label, out_image in ((classical, protocol.classical(task, y, op, clean[0])),
                                 (f"{model_name} prior", restore(y, op, noise, model))):
            panels.append((label, out_image, protocol._psnr(clean[0], out_image, border)))
        for ax, (title, shown, psnr) in zip(row, panels):
            ax.imshow(np.clip(shown[..., 0], 0, 1), cmap="gray", vmin=0, vmax=1)
            ax.set_title(title + ("\n" if psnr is None else f"\n{psnr:.2f} dB"), fontsize=10)
            ax.axis("off")
            print(f"{task}: {title}" + ("" if psnr is None else f" {psnr:.2f} dB"), flush=True)
    fig.suptitle(f"{dataset.upper()} {image}, central {crop}×{crop} (a test image): deblurring (first Levin kernel), "
                 f"×4 super-resolution, inpainting")
    fig.tight_layout()
    save_figure(fig, out, dpi=80)
    print(f"wrote {out}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("choose-iterations")
    p.add_argument("--model", default="dncnn-bsd400-gauss")
    p.add_argument("--kinds", nargs="*", default=None)
    p.add_argument("--num-images", type=int, default=8)
    p.add_argument("--tasks", nargs="*", default=None, help="only these validation tasks, e.g. deblur-7.65")
    p.add_argument("--candidates", nargs="*", type=int, default=None, help="iteration counts to compare")
    p.add_argument("--lams", nargs="*", type=float, default=None, help="values of the prior's weight λ to compare")
    p.add_argument("--sigma-starts", nargs="*", type=float, default=None,
                   help="first denoiser σ values to compare, in /255 (DPIR: 49)")
    p.add_argument("--out", default=str(ROOT / "benchmarks/results/restoration/validation-iterations.md"))
    p = sub.add_parser("table")
    p.add_argument("--model", default="dncnn-bsd400-gauss")
    p.add_argument("--dataset", default="bsd68")
    p.add_argument("--crop", type=int, default=192)
    p.add_argument("--num-images", type=int, default=None)
    p.add_argument("--tasks", nargs="*", default=None)
    p.add_argument("--cache", default=str(PARTIAL),
                   help="where rows are saved case by case, so a stopped run resumes (committed; "
                        "removed once the table is final)")
    p = sub.add_parser("summary", help="the README's table from the saved test tables")
    p.add_argument("--model", default="dncnn-bsd400-gauss")
    p.add_argument("--write", action="store_true", help="into the restoration-table blocks of README.md and docs/restoration.md")
    p = sub.add_parser("figure", help="docs/restoration.png")
    p.add_argument("--model", default="dncnn-bsd400-gauss")
    p.add_argument("--out", default=str(ROOT / "docs" / "restoration.png"))
    args = parser.parse_args(argv)
    if args.command == "summary":
        from keras_dae.utils import replace_block

        text = summary(args.model)
        print(text)
        for path in QUOTED_IN if args.write else ():
            replace_block(path, "restoration-table", text)
            print(f"updated the restoration-table block in {path.relative_to(ROOT)}")
        return 0
    if args.command == "figure":
        figure(args.out, args.model)
        return 0
    if args.command == "choose-iterations":
        choose_iterations(args.model, args.num_images, kinds=args.kinds, out=args.out, tasks=args.tasks,
                          sigma_starts=args.sigma_starts,
                          candidates=args.candidates, lams=args.lams)
        return 0
    from keras_dae.evaluation import restoration as protocol

    result = protocol.evaluate_restoration(args.model, args.dataset, tasks=args.tasks or protocol.TASKS,
                                           crop=args.crop, num_images=args.num_images, cache=args.cache)
    result = merged(result, ROOT / "benchmarks/results/restoration" / f"{args.dataset}-{args.model}.json")
    print(result.to_markdown())
    for path in result.save(ROOT / "benchmarks/results/restoration", f"{args.dataset}-{args.model}"):
        print(f"wrote {path}")
    return 0


SAME_PROTOCOL = ("dataset", "crop", "num_images", "seed", "protocol_version")


def merged(result, path):
    """`result` plus the other rows (method, task) of the table already at `path`, when that
    table was measured under the same protocol (images, crop, seed); a run of some tasks
    (`--tasks`) thus completes the table instead of replacing it."""
    import json

    from keras_dae.evaluation import restoration as protocol
    from keras_dae.evaluation.results import EvaluationResult

    if not path.is_file():
        return result
    old = json.loads(path.read_text())
    if any(old["meta"].get(k) != result.meta.get(k) for k in SAME_PROTOCOL):
        return result
    measured = {(row["method"], row["condition"]) for row in result.rows}
    rows = [row for row in old["rows"] if (row["method"], row["condition"]) not in measured] + result.rows
    order = {task: i for i, task in enumerate(protocol.TASKS)}
    rows.sort(key=lambda row: order.get(row["condition"], len(order)))
    return EvaluationResult(rows, result.meta)


if __name__ == "__main__":
    sys.exit(main())
