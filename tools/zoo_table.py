"""The zoo table (README.md and docs/zoo.md), the BSD68 table beside the published figures
(docs/zoo.md) and the colour table (README.md and docs/zoo.md), from the registry (the numbers each entry's training or conversion
run measured; see zoo/<name>/README.md for the full tables).

    python tools/zoo_table.py            # print them
    python tools/zoo_table.py --write    # replace the tables between their markers in those files
"""

import argparse
import pathlib

from keras_dae.evaluation.results import PUBLISHED_BSD68, PUBLISHED_COLOR
from keras_dae.training import load_recipe
from keras_dae.utils import replace_block
from keras_dae.zoo import registry

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
ZOO_PAGE = ROOT / "docs" / "zoo.md"
# The marked block -> the files that hold it. The links (zoo/<name>/README.md) resolve from
# both: the docs site puts each card at docs/zoo/<name>/README.md (docs/gen_api_pages.py).
QUOTED_IN = {"zoo-table": (README, ZOO_PAGE), "bsd68-table": (ZOO_PAGE,), "color-table": (README, ZOO_PAGE)}
COLOR_SETS = ("cbsd68", "kodak24", "mcmaster")


def table():
    lines = ["| name | task | architecture | measured (full test set) | weights |",
             "|---|---|---|---|---|"]
    for entry in registry.entries():
        metrics = ", ".join(f"{k} {v:g}" for k, v in entry.metrics.items())
        where = "packaged" if entry.packaged_file() else "Hub"
        lines.append(f"| [`{entry.name}`](zoo/{entry.name}/README.md) | {entry.task} | "
                     f"{entry.architecture} | {metrics} | {where} |")
    return "\n".join(lines)


def bsd68_table(sigmas=(15, 25, 50)):
    """Average PSNR on BSD68: the published rows, then every zoo entry measured on it."""
    lines = ["| method | | " + " | ".join(f"σ = {s}" for s in sigmas) + " |", "|---|---|" + "---|" * len(sigmas)]
    for method, values in PUBLISHED_BSD68.items():
        lines.append(f"| {method} | published | " + " | ".join(f"{values[s]:.2f}" for s in sigmas) + " |")
    for entry in registry.entries():
        conditioned = any(k.startswith("bsd68_blind_") for k in entry.metrics)
        for kind, label in (("", "σ given" if conditioned else "one σ"), ("blind_", "blind, σ estimated")):
            cells = [entry.metrics.get(f"bsd68_{kind}psnr@sigma={s}") for s in sigmas]
            if any(c is not None for c in cells):
                how = "converted" if hasattr(load_recipe(ROOT / entry.recipe), "convert") else "trained here"
                lines.append(f"| [`{entry.name}`](zoo/{entry.name}/README.md), {label} | measured, {how} | "
                             + " | ".join("–" if c is None else f"{c:.2f}" for c in cells) + " |")
    return "\n".join(lines)


def color_table(sigmas=(15, 25, 50)):
    """Average PSNR on the colour sets, σ = 15 / 25 / 50 per cell: the published rows, then
    every zoo entry measured on them (σ given, blind, and the gray entry channel by channel
    where the entry measured it)."""
    names = {"cbsd68": "CBSD68", "kodak24": "Kodak24", "mcmaster": "McMaster"}
    lines = ["| method | | " + " | ".join(names[d] for d in COLOR_SETS) + " |", "|---|---|" + "---|" * len(COLOR_SETS)]
    for method in PUBLISHED_COLOR[COLOR_SETS[0]]:
        lines.append(f"| {method} | published | " + " | ".join(
            " / ".join(f"{v:.2f}" for v in PUBLISHED_COLOR[d][method]) for d in COLOR_SETS) + " |")
    for entry in registry.entries():
        link = f"[`{entry.name}`](zoo/{entry.name}/README.md)"
        for kind, label in (("", f"{link}, σ given"), ("blind_", f"{link}, blind, σ estimated"),
                            ("gray_channelwise_", "the gray entry channel by channel (RGB), σ given")):
            cells = [[entry.metrics.get(f"{d}_{kind}psnr@sigma={s}") for s in sigmas] for d in COLOR_SETS]
            if any(v is not None for c in cells for v in c):
                lines.append(f"| {label} | measured here | " + " | ".join(
                    "–" if all(v is None for v in c) else " / ".join("–" if v is None else f"{v:.2f}" for v in c)
                    for c in cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update README.md and docs/zoo.md in place")
    args = parser.parse_args()
    if not args.write:
        print(table() + "\n\n" + bsd68_table() + "\n\n" + color_table())
        return
    for tag, text in (("zoo-table", table()), ("bsd68-table", bsd68_table()), ("color-table", color_table())):
        for path in QUOTED_IN[tag]:
            replace_block(path, tag, text)
            print(f"updated the {tag} block in {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
