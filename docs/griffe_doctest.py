"""A griffe extension for the docs build: keras_dae's docstrings show examples as doctest
lines (`>>> x = ...`), which Markdown would read as nested block quotes. Each run of them
(with its continuation and output lines, up to a blank line) is fenced as a `pycon` code
block. Keras' "Call arguments:" section, which griffe's Google parser does not know (it
renders it as a note whose entries run together), becomes a list of its entries. Only the
rendered pages change; the docstrings stay as written.
"""

import re

import griffe

_ENTRY = re.compile(r"(\s*)([A-Za-z_][A-Za-z0-9_, ]*):\s(.*)")


def list_call_arguments(text):
    """`text` with the entries of a "Call arguments:" section as Markdown list items."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        out.append(lines[i])
        if lines[i].strip() != "Call arguments:":
            i += 1
            continue
        header = len(lines[i]) - len(lines[i].lstrip())
        i += 1
        entry_indent = None
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > header):
            line = lines[i]
            indent = len(line) - len(line.lstrip())
            match = _ENTRY.fullmatch(line)
            if match and (entry_indent is None or indent == entry_indent):
                entry_indent = indent
                out.append(f"{match[1]}- `{match[2]}`: {match[3]}")
            else:  # a continuation line: under its item
                out.append(line if not line.strip() else " " * (entry_indent or indent) + "  " + line.strip())
            i += 1
    return "\n".join(out)


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
        if obj.docstring is not None and "Call arguments:" in obj.docstring.value:
            obj.docstring.value = list_call_arguments(obj.docstring.value)
