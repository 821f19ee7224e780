"""The README's zoo table from the registry (the numbers each entry's training run measured;
see zoo/<name>/README.md for the full tables).

    python tools/zoo_table.py            # print it
    python tools/zoo_table.py --write    # replace the table between the markers in README.md
"""

import argparse
import pathlib

from keras_dae import registry
from keras_dae.utils import replace_block

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def table():
    lines = ["| name | task | architecture | measured (full MNIST test set) | weights |",
             "|---|---|---|---|---|"]
    for entry in registry.entries():
        metrics = ", ".join(f"{k} {v:g}" for k, v in entry.metrics.items())
        where = "packaged" if entry.packaged_file() else "Hub"
        lines.append(f"| [`{entry.name}`](zoo/{entry.name}/README.md) | {entry.task} | "
                     f"{entry.architecture} | {metrics} | {where} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args()
    if not args.write:
        print(table())
        return
    replace_block(README, "zoo-table", table())
    print(f"updated the zoo table in {README}")


if __name__ == "__main__":
    main()
