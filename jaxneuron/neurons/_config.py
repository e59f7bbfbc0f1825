"""Plain configuration records in MTKNeuralToolkit's style (``HHConfig(Na_g=120.0, ...)``)."""

from __future__ import annotations

import dataclasses
import difflib


def config(cls=None, *, aliases: dict[str, str] | None = None):
    """Make ``cls`` a frozen keyword-only dataclass whose unknown fields raise a clear error.

    ``aliases`` maps extra keyword names to fields (``{"A_g": "K_g"}``); each alias is
    also readable as a property.
    """
    if cls is None:
        return lambda c: config(c, aliases=aliases)
    aliases = dict(aliases or {})
    cls = dataclasses.dataclass(frozen=True, kw_only=True)(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    init = cls.__init__

    def __init__(self, **kwargs):
        for alias, target in aliases.items():
            if alias in kwargs:
                if target in kwargs:
                    raise TypeError(f"{cls.__name__}: give {alias} or {target}, not both")
                kwargs[target] = kwargs.pop(alias)
        for key in kwargs:
            if key not in names:
                close = difflib.get_close_matches(key, names + list(aliases), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise TypeError(
                    f"{cls.__name__} has no field {key!r}{hint}; fields: {', '.join(names)}"
                )
        init(self, **kwargs)

    for alias, target in aliases.items():
        setattr(cls, alias, property(lambda self, target=target: getattr(self, target)))

    __init__.__doc__ = init.__doc__
    cls.__init__ = __init__
    return cls
