"""The README's zoo table, and its BSD68 table beside the published figures, from the
registry (the numbers each entry's training or conversion run measured; see
zoo/<name>/README.md for the full tables).

    python tools/zoo_table.py            # print them
    python tools/zoo_table.py --write    # replace the tables between the markers in README.md
"""

import argparse
import pathlib

from keras_dae.zoo import registry
from keras_dae.evaluation.results import PUBLISHED_BSD68
from keras_dae.training import load_recipe
from keras_dae.utils import replace_block

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args()
    if not args.write:
        print(table() + "\n\n" + bsd68_table())
        return
    replace_block(README, "zoo-table", table())
    replace_block(README, "bsd68-table", bsd68_table())
    print(f"updated the zoo and BSD68 tables in {README}")


if __name__ == "__main__":
    main()
