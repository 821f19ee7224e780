"""Reopening a finished staged run: its entry turned back into a run in progress, so that a
recipe given another stage trains that stage only (`keras_dae.training.runs` has the folder's
layout)."""

import json
import pathlib

from keras_dae.training import stages
from keras_dae.training.recipes import load_recipe
from keras_dae.training.runs import _write_log, checkpoint_dir
from keras_dae.utils import atomic_write
from keras_dae.zoo import hub, registry


def reopen(recipe, out=None):
    """Turns the finished run of an installed entry back into a run in progress, so that
    its recipe, given another stage (`keras_dae.training.stages`), continues where the export left
    off: `keras-dae train zoo/<name>` then trains the new stages only, and the card counts
    the whole run.

    The checkpoint folder gets the packaged model's variables (its weights and the
    seed-generator states it was exported with) as the record of the stages the run
    finished, the results' per-epoch history as `log.csv` and their parts as `parts.json`,
    the last part noting the export the run resumes from.

    Args:
        recipe: a recipe module, a recipe file or a `zoo/<name>` folder, with `STAGES`.
        out: the checkpoint folder to create (default `zoo/<name>/checkpoint`).

    Returns:
        The checkpoint folder.
    """
    recipe = recipe if hasattr(recipe, "evaluate") else load_recipe(recipe)
    out = pathlib.Path(out or checkpoint_dir(recipe))
    plan = [s.epochs for s in getattr(recipe, "STAGES", ())]
    results_path = pathlib.Path(recipe.PATH).parent / "results.json"
    if not plan or not results_path.is_file():
        raise ValueError(f"`reopen` continues a finished staged run: recipe {recipe.NAME!r} needs `STAGES` "
                         f"and an installed {results_path}. Received: recipe={recipe.PATH}")
    if out.exists():
        raise ValueError(f"{out} already holds a run in progress; `keras-dae train` continues it. "
                         f"Received: out={str(out)!r}")
    results = json.loads(results_path.read_text())
    ends = [sum(plan[:k]) for k in range(1, len(plan) + 1)]
    if results["epochs"] not in ends[:-1]:
        raise ValueError(f"{recipe.NAME!r} was trained for {results['epochs']} epochs, which ends none of "
                         f"the recipe's stages before its last ({plan} epochs): nothing to continue")
    entry = registry.get(recipe.NAME)
    if entry.sha256 != results["sha256"]:
        raise ValueError(f"The installed {recipe.NAME!r} (sha256 {entry.sha256[:12]}…) is not the model "
                         f"of {results_path} ({results['sha256'][:12]}…)")
    done = ends.index(results["epochs"]) + 1
    model = hub.load(recipe.NAME, compile=False)
    out.mkdir(parents=True)
    stages.record_stage(model, out, done, plan)
    history = results["history"]
    _write_log(out / "log.csv", [{"epoch": e, **{k: v[e] for k, v in history.items() if e < len(v) and v[e] is not None}}
                                 for e in range(results["epochs"])])
    parts = [dict(p) for p in results["parts"]] or [
        {"seconds": results["train_seconds"], "hardware": results["hardware"], "epochs": results["epochs"]}]
    figures = ", ".join(f"{k} {v:g}" for k, v in results["metrics"].items() if k.startswith("psnr"))
    parts[-1].update(finished=False, note=(
        (parts[-1]["note"] + "; " if parts[-1].get("note") else "") +
        f"the end of stage {done}, installed as this entry (sha256 {results['sha256'][:12]}…; test set: "
        f"{figures}); stage {done + 1} started from its packaged weights and seed-generator states"))
    atomic_write(out / "parts.json", json.dumps(parts, indent=2) + "\n")
    return out
