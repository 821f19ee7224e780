"""Results of the evaluation protocols: the table (`EvaluationResult`), the package versions
the numbers depend on, and the published BSD68 figures they are read beside.

`keras_dae.evaluation` runs the protocols; this module only holds and renders what they
measure, so that the inpainting and probe protocols, the recipes and the model cards share it.
"""

import dataclasses
import json
import os
import sys
from importlib import metadata

import numpy as np

from keras_dae.utils import atomic_write

LABELS = {"noisy": "noisy input", "bm3d": "BM3D", "nlm": "non-local means",
          "tv": "total variation", "wavelet": "wavelet shrinkage", "wiener": "Wiener/PCA",
          "masked": "masked input", "biharmonic": "biharmonic"}


def versions():
    """Versions of the packages that the numbers depend on."""
    out = {"python": sys.version.split()[0]}
    for name in ("keras", "keras-dae", "numpy", "scikit-image", "bm3d", "PyWavelets"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = getattr(sys.modules.get(name.replace("-", "_")), "__version__", None)
    return out


@dataclasses.dataclass
class EvaluationResult:
    """Rows of (method, condition) with their metrics, plus run metadata.

    Each row is a dict: `method`, `condition` (e.g. `"sigma=0.1"`), `metrics`
    (`{"psnr": ..., "ssim": ...}`), `num_images`, `params`, `seconds`.
    """

    rows: list
    meta: dict

    def value(self, method, condition, metric="psnr"):
        """The metric of one row, e.g. `result.value("bm3d", "sigma=0.1")`."""
        for row in self.rows:
            if row["method"] == method and row["condition"] == condition:
                return row["metrics"][metric]
        raise KeyError(f"No row for method={method!r}, condition={condition!r}")

    def subset(self, num_images):
        """The same table over the first `num_images` images (rows keep their per-image
        values; inpainting rows, which do not, are dropped)."""
        rows = []
        for row in self.rows:
            if "per_image" in row:
                per = {k: v[:num_images] for k, v in row["per_image"].items()}
                metrics = {k: float(np.mean(v)) for k, v in per.items()}
                rows.append(dict(row, metrics=metrics, per_image=per,
                                 num_images=len(per["psnr"])))
        return EvaluationResult(rows, dict(self.meta, num_images=num_images))

    def to_markdown(self):
        conditions = list(dict.fromkeys(r["condition"] for r in self.rows))
        metrics = list(dict.fromkeys(m for r in self.rows for m in r["metrics"]))
        names = {"psnr": "PSNR", "ssim": "SSIM", "psnr_masked": "PSNR in mask"}
        head = ["method", "images"] + [f"{c.replace('sigma', 'σ')} {names.get(m, m)}"
                                       for c in conditions for m in metrics]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for method in dict.fromkeys(r["method"] for r in self.rows):
            rows = {r["condition"]: r for r in self.rows if r["method"] == method}
            counts = sorted({r["num_images"] for r in rows.values()})
            cells = [LABELS.get(method, method), "/".join(map(str, counts))]
            for c in conditions:
                for m in metrics:
                    v = rows[c]["metrics"].get(m) if c in rows else None
                    cells.append("" if v is None else f"{v:.2f}" if "psnr" in m else f"{v:.4f}")
            lines.append("| " + " | ".join(cells) + " |")
        meta = self.meta
        note = (f"\n{meta.get('protocol', '')} Data set `{meta.get('dataset')}` "
                f"({meta.get('split')} split), seed {meta.get('seed')}, "
                f"{meta.get('num_images')} images; PSNR in dB "
                + ("from the squared error pooled over all images (see `evaluate_inpainting`)."
                   if meta.get("corruption") == "inpainting" else "per image, averaged."))
        return "\n".join(lines) + "\n" + note

    def to_json(self, indent=2):
        rows = [{k: v for k, v in r.items() if k != "per_image"} for r in self.rows]
        return json.dumps({"meta": self.meta, "rows": rows}, indent=indent, default=float)

    def save(self, directory, name="evaluation"):
        """Writes `<name>.json` and `<name>.md` under `directory`; returns both paths."""
        paths = [os.path.join(directory, f"{name}.{ext}") for ext in ("json", "md")]
        atomic_write(paths[0], self.to_json())
        atomic_write(paths[1], self.to_markdown() + "\n")
        return paths

    def __str__(self):
        return self.to_markdown()



# Average PSNR (dB) on BSD68, gray, AWGN, as published: Zhang et al. (2017), "Beyond a
# Gaussian Denoiser", Table 2 (BM3D, DnCNN-S, DnCNN-B) and Zhang et al. (2018), FFDNet.
PUBLISHED_BSD68 = {
    "BM3D": {15: 31.07, 25: 28.57, 50: 25.62},
    "DnCNN-S (one model per σ)": {15: 31.73, 25: 29.23, 50: 26.23},
    "DnCNN-B (blind, one model)": {15: 31.61, 25: 29.16, 50: 26.23},
    "FFDNet (σ map input)": {15: 31.63, 25: 29.19, 50: 26.29},
}

# Average PSNR (dB) over R, G and B, AWGN added to the 0–255 image without clipping, as
# published: Zhang et al. (2018), FFDNet, its colour denoising table (CBM3D, CDnCNN-B, FFDNet),
# and Zhang et al. (2021), "Plug-and-Play Image Restoration with Deep Denoiser Prior", its
# colour denoising table (DRUNet).
PUBLISHED_COLOR = {
    "cbsd68": {"CBM3D": (33.52, 30.71, 27.38), "CDnCNN-B": (33.90, 31.24, 27.95),
               "FFDNet": (33.87, 31.21, 27.96), "DRUNet": (34.30, 31.69, 28.51)},
    "kodak24": {"CBM3D": (34.28, 32.15, 28.46), "CDnCNN-B": (34.60, 32.14, 28.95),
                "FFDNet": (34.63, 32.13, 28.98), "DRUNet": (35.31, 32.89, 29.86)},
    "mcmaster": {"CBM3D": (34.06, 31.66, 28.51), "CDnCNN-B": (33.45, 31.52, 28.62),
                 "FFDNet": (34.66, 32.35, 29.18), "DRUNet": (35.40, 33.14, 30.08)},
}
PUBLISHED = {"bsd68": PUBLISHED_BSD68,
             **{name: {method: dict(zip((15, 25, 50), values)) for method, values in table.items()}
                for name, table in PUBLISHED_COLOR.items()}}


def published_table(result, dataset="bsd68"):
    """The published rows of `dataset` (BSD68, CBSD68, Kodak24, McMaster) beside the
    measured ones of `result`, as Markdown (PSNR only, the σ the result has), or "" for
    other data sets."""
    if dataset not in PUBLISHED:
        return ""
    sigmas = [float(c.split("=")[1]) for c in dict.fromkeys(r["condition"] for r in result.rows)]
    lines = ["| method | source | " + " | ".join(f"σ={s:g}" for s in sigmas) + " |",
             "|---|---|" + "---|" * len(sigmas)]
    for method, values in PUBLISHED[dataset].items():
        cells = [f"{values[s]:.2f}" if s in values else "" for s in sigmas]
        lines.append(f"| {method} | published | " + " | ".join(cells) + " |")
    for method in dict.fromkeys(r["method"] for r in result.rows):
        cells = [f"{result.value(method, f'sigma={s:g}'):.2f}" for s in sigmas]
        lines.append(f"| {LABELS.get(method, method)} | measured here | " + " | ".join(cells) + " |")
    return "\n".join(lines)
