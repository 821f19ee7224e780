"""Prints the README's zoo table from the registry (the numbers each entry's training run
measured; see zoo/<name>/README.md for the full tables).

    python tools/zoo_table.py
"""

from keras_dae import registry

print("| name | task | architecture | measured (full MNIST test set) | weights |")
print("|---|---|---|---|---|")
for entry in registry.entries():
    metrics = ", ".join(f"{k} {v:g}" for k, v in entry.metrics.items())
    where = "packaged" if entry.packaged_file() else "Hub"
    print(f"| [`{entry.name}`](zoo/{entry.name}/README.md) | {entry.task} | {entry.architecture} | {metrics} | {where} |")
