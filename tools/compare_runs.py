"""Two training runs side by side, epoch by epoch, on their validation figures: a run in
progress (its checkpoint's `log.csv`) against a finished entry (its `results.json`), or any
two of either. For each `val_psnr@sigma=*` of the reference: the reference, the candidate's
trained weights (`val_raw_psnr@…`, when it keeps an average) and the candidate's average
(`val_psnr@…`), with the differences to the reference. Reads files only (no Keras).

    python tools/compare_runs.py zoo/<name>/next/checkpoint/log.csv zoo/<name>/results.json
"""

import argparse
import csv
import json
import pathlib


def history(path):
    """`{column: [value per epoch]}` of a `log.csv` (CSVLogger) or a `results.json`."""
    path = pathlib.Path(path)
    if path.suffix == ".json":
        return {k: [float("nan") if v is None else float(v) for v in values]  # None: not logged that epoch
                for k, values in json.loads(path.read_text())["history"].items()}
    rows = list(csv.DictReader(path.open()))
    return {k: [float(r[k]) if r[k] not in ("", None) else float("nan") for r in rows]
            for k in (rows[0] if rows else {}) if k != "epoch"}


def table(candidate, reference):
    keys = sorted(k for k in reference if k.startswith("val_psnr@"))
    if not keys:
        raise ValueError("the reference run logs no `val_psnr@sigma=*` column")
    epochs = min(len(reference[keys[0]]), len(next(iter(candidate.values()), [])))
    header = ["epoch"]
    for k in keys:
        sigma = k.split("@", 1)[1]
        raw = k.replace("val_psnr@", "val_raw_psnr@")
        header += [f"{sigma} reference"] + ([f"{sigma} trained (Δ)"] if raw in candidate else []) + \
                  ([f"{sigma} average (Δ)" if raw in candidate else f"{sigma} candidate (Δ)"] if k in candidate else [])
    rule = ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    for e in range(epochs):
        cells = [str(e + 1)]
        for k in keys:
            ref = reference[k][e]
            cells.append(f"{ref:.2f}")
            for column in (k.replace("val_psnr@", "val_raw_psnr@"), k):
                if column in candidate:
                    value = candidate[column][e]
                    cells.append(f"{value:.2f} ({value - ref:+.2f})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidate", help="log.csv or results.json of the run being judged")
    parser.add_argument("reference", help="log.csv or results.json of the run it is compared with")
    args = parser.parse_args(argv)
    print(table(history(args.candidate), history(args.reference)))


if __name__ == "__main__":
    main()
