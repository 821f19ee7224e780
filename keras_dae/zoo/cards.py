"""Model cards: the Hugging Face Hub README of a zoo entry (YAML metadata with the measured
results as a model-index, then what the model is for, how it was trained and measured, how
to load it, and its licences)."""

import keras

from keras_dae.zoo import registry
from keras_dae.zoo.archives import WEIGHTS_FILE


def _version():
    import keras_dae

    return keras_dae.__version__


_DATASETS = {
    "mnist": ("MNIST", "Yann LeCun, Corinna Cortes and Christopher J.C. Burges"),
    "bsd400": ("grayscale photographs (BSD400: 400 crops of 180×180 from the Berkeley "
               "Segmentation Dataset, as distributed with DnCNN)",
               "David Martin, Charless Fowlkes, Doron Tal and Jitendra Malik"),
}


def model_card(entry_or_metadata, eval_results=None):
    """The model card (README.md) of a zoo entry or of a model described by a mapping.

    Args:
        entry_or_metadata: a `ModelEntry`, or a mapping with any of its fields (`name`,
            `description`, `architecture`, `objective`, `dataset`, `corruption`,
            `value_range`, `hf_repo`, `revision`, `sha256`, `license`, `data_license`,
            `metrics`, `recipe`, `task`) plus optionally `keras_version`.
        eval_results: the evaluation table measured by the evaluation harness (Markdown, or
            an object with `to_markdown()`); without it the entry's `metrics` are listed.

    Returns:
        The Markdown text: a YAML header for the Hub (`library_name: keras`, tags, datasets,
        license, metrics as `model-index`) and the sections intended use, training recipe,
        evaluation, loading on each backend, licences and versions.
    """
    if isinstance(entry_or_metadata, registry.ModelEntry):
        info = entry_or_metadata.to_dict()
    elif hasattr(entry_or_metadata, "keys"):
        info = dict(entry_or_metadata)
    else:
        raise TypeError(
            "`entry_or_metadata` must be a ModelEntry or a mapping. "
            f"Received: entry_or_metadata={entry_or_metadata!r}"
        )
    name = str(info.get("name") or "model")
    dataset = info.get("dataset")
    data_name = _DATASETS.get(dataset, (dataset,))[0]
    metrics = dict(info.get("metrics") or {})
    repo = info.get("hf_repo") or f"<org>/{name}"
    low, high = info.get("value_range") or (0.0, 1.0)
    table = eval_results.to_markdown() if hasattr(eval_results, "to_markdown") else eval_results

    q = _yaml_str
    task = info.get("task") or "denoising"
    classifier = task == "image-classification"
    pipeline = "image-classification" if classifier else "image-to-image"
    tags = ["keras", "keras-dae", "denoising-autoencoder", task if task.startswith("image-") else f"image-{task}"]
    tags += [part for part in name.split("-") if part != dataset][:3] if "-" in name else []
    head = ["---", "library_name: keras", f"license: {q(info.get('license') or 'apache-2.0')}",
            f"pipeline_tag: {pipeline}", "tags:"] + [f"- {q(t)}" for t in dict.fromkeys(tags)]
    if dataset:
        head += ["datasets:", f"- {q(dataset)}"]
    if metrics:
        kinds = dict.fromkeys(k.split("@")[0].lower() for k in metrics)
        head += ["metrics:"] + [f"- {q(k)}" for k in kinds]
        head += ["model-index:", f"- name: {q(name)}", "  results:", "  - task:",
                 f"      type: {pipeline}", f"      name: {q(('Image ' + task).replace('Image image-', 'Image '))}",
                 "    dataset:", f"      type: {q(dataset or 'custom')}", f"      name: {q(data_name or 'custom')}",
                 "    metrics:"]
        for key, value in metrics.items():
            head += [f"    - type: {q(key.split('@')[0].lower())}", f"      value: {float(value)!r}",
                     f"      name: {q(key)}"]
    head.append("---")

    facts = [("Architecture", info.get("architecture")), ("Objective", info.get("objective")),
             ("Training corruption", info.get("corruption")), ("Data set", data_name),
             ("Input range", f"[{low:g}, {high:g}]"), ("Task", info.get("task"))]
    body = [f"# {name}", "", info.get("description") or "A denoising autoencoder made with keras-dae.", ""]
    body += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in facts if v] + [""]
    if classifier:
        use = (f"Classifying {data_name or 'images like the training data'} scaled to "
               f"[{low:g}, {high:g}]: `model.predict(x)` gives logits, `.argmax(-1)` the class. "
               "It is a research and teaching model (a reproduction of a published result), "
               "not meant for other image distributions.")
    elif task == "inpainting":
        use = (f"Filling the missing pixels of {data_name or 'images like the training data'} scaled "
               f"to [{low:g}, {high:g}] given a mask, 1 where a pixel is missing "
               "(`model.inpaint(x, mask)`), and its encoder (`model.encoder`, or "
               "`keras_dae.load(..., part=\"encoder\")`) as a feature extractor to fine-tune. It is a "
               "research and teaching model: it is not meant for other image distributions, and a "
               "filled-in region is a plausible guess, not evidence of what was there.")
    else:
        use = (f"Removing the training corruption from {data_name or 'images like the training data'} "
               f"scaled to [{low:g}, {high:g}] (`model.denoise(x_noisy)`), and its encoder "
               "(`model.encoder`, or `keras_dae.load(..., part=\"encoder\")`) as a feature extractor "
               "to fine-tune. It is a research and teaching model: it is not meant for other image "
               "distributions, and a reconstruction is a plausible image, not evidence of the original.")
    body += ["## Intended use", "", use, ""]
    body += ["## Training recipe", "", f"- Objective: {info.get('objective') or 'see config.json'}",
             f"- Network: {info.get('architecture') or 'see config.json'}",
             f"- Corruption: {info.get('corruption') or 'see config.json'}",
             f"- Recipe: {info.get('recipe') or 'see config.json for the full configuration'}", ""]
    body += ["## Evaluation", ""]
    if table:
        body += [str(table).strip(), ""]
    elif metrics:
        body += ["| metric | value |", "|---|---|"] + [f"| {k} | {v:.4g} |" for k, v in metrics.items()] + [""]
    else:
        body += ["No measured results yet.", ""]
    loader = name if info.get("packaged") else f"hf://{repo}"
    pinned = f"hf://{repo}@{info['revision']}" if info.get("revision") else f"hf://{repo}@<commit>"
    body += ["## Loading", "", "The same files load on JAX, TensorFlow and PyTorch; choose the backend "
             "before Keras is imported:", "", "```bash"]
    body += [f"KERAS_BACKEND={b} python -c \"import keras_dae; keras_dae.load('{loader}').summary()\""
             for b in ("jax", "tensorflow", "torch")]
    body += ["```", "", "```python", "import os", "os.environ[\"KERAS_BACKEND\"] = \"jax\"  # or \"tensorflow\", \"torch\"",
             "import keras, keras_dae", "", f"model = keras_dae.load(\"{loader}\")",
             f"model = keras_dae.load(\"{pinned}\")  # a pinned Hub revision",
             *(["labels = model.predict(x).argmax(-1)"] if classifier else
               ["filled = model.inpaint(x, mask)  # mask: 1 where a pixel is missing"
                if task == "inpainting" else "x_hat = model.denoise(x_noisy)",
                f"encoder = keras_dae.load(\"{loader}\", part=\"encoder\")"]),
             f"model = keras.saving.load_model(\"hf://{repo}\")  # plain Keras, once keras_dae is imported",
             "```", ""]
    body += ["## Files", "", "What the repository holds, and nothing else (no pickle, no path or "
             "setting of the machine that published it):", "",
             "- `config.json`: the model's Keras configuration (architecture, objective, corruption);",
             "- `metadata.json`: the Keras version and date it was saved with;",
             "- `model.weights.h5`: the weights (HDF5; no optimizer state);",
             "- `README.md`: this card.", ""]
    creators = _DATASETS.get(dataset, (None, None))[1]
    body += ["## Licences", "", f"- Weights: {info.get('license') or 'apache-2.0'}.",
             f"- Training data: {data_name or 'see the recipe'}"
             + (f" ({creators})" if creators else "") + f", {info.get('data_license') or 'see its source'}.", ""]
    body += ["## Versions", "", f"- keras-dae {_version()}, Keras {info.get('keras_version') or keras.__version__}"]
    if info.get("revision"):
        body.append(f"- Hub revision: `{info['revision']}`")
    if info.get("sha256"):
        body.append(f"- SHA-256 of {info.get('weights_file') or WEIGHTS_FILE}: `{info['sha256']}`")
    return "\n".join(head + [""] + body) + "\n"


def _yaml_str(value):
    import json

    return json.dumps(str(value), ensure_ascii=False)
