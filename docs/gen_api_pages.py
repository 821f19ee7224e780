"""Writes the docs site's generated pages while `mkdocs build` runs (the gen-files plugin):

- `api/<module path>.md`, one page per public module of keras_dae with a `::: keras_dae.xxx`
  directive, so mkdocstrings renders it from the docstrings (griffe reads the source: no
  framework is imported), and `api/SUMMARY.md`, the API section's navigation
  (literate-nav). A package's page also lists the names it re-exports (`from
  keras_dae.layers.gaussian import AdditiveGaussian as AdditiveGaussian`), each linked to
  where it is documented, with the first line of its docstring. Private modules (a part starting with `_`) and `__main__` are skipped.
- `zoo/<name>/README.md`, each zoo entry's model card, so that the zoo tables' links
  (`zoo/<name>/README.md`, as in the repository's README) resolve on the site too, and
  `zoo/SUMMARY.md`, the cards' navigation.

Nothing here is written into the repository: the files exist only in the build.
"""

import ast
import pathlib
import re

import griffe
import mkdocs_gen_files

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "keras_dae"


def public_modules():
    """Dotted names of keras_dae's public modules, packages first within each folder. A
    folder without `__init__.py` is not a package: nothing in it is documented."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if any(not (folder / "__init__.py").is_file() for folder in path.parents if PACKAGE in (folder, *folder.parents)):
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(part.startswith("_") for part in parts):  # private modules and __main__
            continue
        names.append(".".join(parts))
    return sorted(names, key=lambda name: name.split("."))


def api_pages(nav):
    for name in public_modules():
        parts = name.split(".")
        is_package = (PACKAGE.parent.joinpath(*parts) / "__init__.py").is_file()
        # a package is the index of its folder: api/keras_dae/layers/index.md
        doc = pathlib.Path("api", *parts, "index.md") if is_package else pathlib.Path("api", *parts).with_suffix(".md")
        with mkdocs_gen_files.open(doc, "w") as f:
            f.write(f"# `{name}`\n\n::: {name}\n")
            if is_package:
                f.write("    options:\n      show_submodules: false\n")
                f.write(exported_table(name))
        mkdocs_gen_files.set_edit_path(doc, pathlib.Path(*parts, "__init__.py") if is_package
                                       else pathlib.Path(*parts).with_suffix(".py"))
        nav[tuple(parts)] = doc.relative_to("api").as_posix()
    with mkdocs_gen_files.open("api/SUMMARY.md", "w") as f:
        f.writelines(nav.build_literate_nav())


def summary(obj):
    """The first sentence of `obj`'s docstring, on one line, for a table cell."""
    if not obj.docstring:
        return ""
    paragraph = " ".join(obj.docstring.value.strip().split("\n\n")[0].split())
    return re.split(r"(?<=[.!?])\s+(?=[A-Z])", paragraph)[0].replace("|", "\\|")


def exported_table(package):
    """A Markdown table of the names `package` re-exports from its modules (and, for the top
    package, the functions its `__getattr__` imports on first use: `_FUNCTIONS`)."""
    module = PACKAGE_TREE[package.removeprefix("keras_dae.")] if package != "keras_dae" else PACKAGE_TREE
    rows = {}
    for member, obj in module.members.items():
        if member.startswith("_") or not obj.is_alias or not obj.target_path.startswith("keras_dae."):
            continue
        rows[member] = obj.target_path
    if package == "keras_dae":
        rows.update(lazy_functions())
    lines = []
    for member, target in rows.items():
        try:
            resolved = PACKAGE_TREE[target.removeprefix("keras_dae.")]
        except (KeyError, griffe.AliasResolutionError):
            continue
        shown = f"`{member}`"
        # only objects with a docstring are rendered, so only they can be linked to
        cell = f"[{shown}][{target}]" if resolved.docstring else shown
        where = target.rsplit(".", 1)[0].removeprefix(package + ".")
        lines.append(f"| {cell} | `{where}` | {summary(resolved)} |")
    if not lines:
        return ""
    return ("\n## Public names\n\n| name | defined in | what |\n|---|---|---|\n" + "\n".join(lines) + "\n")


def lazy_functions():
    """`keras_dae.load` and the other functions the top package imports on first use, read
    from its `_FUNCTIONS = {name: module}` (empty if that mapping is not there)."""
    for node in ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_FUNCTIONS" for t in node.targets):
            try:
                return {name: f"{module}.{name}" for name, module in ast.literal_eval(node.value).items()}
            except ValueError:
                break
    return {}


def zoo_cards():
    cards = sorted((ROOT / "zoo").glob("*/README.md"))
    for card in cards:
        with mkdocs_gen_files.open(pathlib.Path("zoo", card.parent.name, "README.md"), "w") as f:
            f.write(card.read_text(encoding="utf-8"))
    with mkdocs_gen_files.open("zoo/SUMMARY.md", "w") as f:
        f.writelines(f"* [{card.parent.name}]({card.parent.name}/README.md)\n" for card in cards)


PACKAGE_TREE = griffe.load("keras_dae", search_paths=[str(ROOT)], resolve_aliases=False)
api_pages(mkdocs_gen_files.Nav())
zoo_cards()
