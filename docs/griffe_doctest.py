"""A griffe extension for the docs build: keras_dae's docstrings show examples as doctest
lines (`>>> x = ...`), which Markdown would read as nested block quotes. Each run of them
(with its continuation and output lines, up to a blank line) is fenced as a `pycon` code
block. Only the rendered pages change; the docstrings stay as written.
"""

import griffe


def fence_doctests(text):
    """`text` with every run of doctest lines outside a fenced block put inside one."""
    lines, out, i, in_fence = text.split("\n"), [], 0, False
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        elif stripped.startswith(">>>") and not in_fence:
            indent = line[: len(line) - len(stripped)]
            block = []
            while i < len(lines) and lines[i].strip() and lines[i].startswith(indent):
                block.append(lines[i][len(indent):])
                i += 1
            out += [f"{indent}```pycon", *(indent + b for b in block), f"{indent}```"]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class FenceDoctests(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
