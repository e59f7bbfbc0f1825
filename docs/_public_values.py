"""A griffe extension for the docs: the reference shows no private names. A constant whose
value (as written in the source) mentions a private name or runs over one line is shown
without its value, a parameter default that mentions a private name is shown as ``...``,
and private base classes are not listed; the docstrings say what such values are. A class's
fields without a docstring of their own are not listed one by one: the signature shows them
and the class docstring describes them."""

from __future__ import annotations

import re

import griffe

_PRIVATE = re.compile(r"(?<![\w.])_[A-Za-z]\w*|\._[A-Za-z]\w*")
_LONGEST_VALUE = 60


def _private(expression) -> bool:
    return expression is not None and bool(_PRIVATE.search(str(expression)))


class PublicValues(griffe.Extension):
    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs) -> None:
        value = attr.value
        if value is not None and (_private(value) or len(str(value)) > _LONGEST_VALUE):
            attr.value = None

    def on_class_instance(self, *, cls: griffe.Class, **kwargs) -> None:
        cls.bases = [base for base in cls.bases if not _private(base)]

    def on_class_members(self, *, cls: griffe.Class, **kwargs) -> None:
        for name, member in list(cls.members.items()):
            if not member.is_alias and member.is_attribute and member.docstring is None:
                cls.del_member(name)

    def on_function_instance(self, *, func: griffe.Function, **kwargs) -> None:
        for parameter in func.parameters:
            if _private(parameter.default):
                parameter.default = "..."
