"""A griffe extension for the docs: a module constant documented the way this codebase
documents them, by ``#:`` comment lines directly above its assignment, gets those lines as
its docstring (griffe reads only a string after the assignment)."""

from __future__ import annotations

import functools
from pathlib import Path

import griffe


@functools.cache
def _lines(path: str) -> list[str]:
    return Path(path).read_text(encoding="utf-8").splitlines()


def comment_above(path, lineno: int) -> str | None:
    """The ``#:`` lines directly above line ``lineno`` (1-based) of ``path``, joined."""
    lines, comment = _lines(str(path)), []
    index = lineno - 2
    while index >= 0 and lines[index].strip().startswith("#:"):
        comment.insert(0, lines[index].strip()[2:].strip())
        index -= 1
    return "\n".join(comment) or None


class AttributeComments(griffe.Extension):
    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs) -> None:
        if attr.docstring is not None or attr.lineno is None or attr.filepath is None:
            return
        if (text := comment_above(attr.filepath, attr.lineno)) is not None:
            attr.docstring = griffe.Docstring(text, lineno=attr.lineno, parent=attr)
