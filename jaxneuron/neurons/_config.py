"""Plain configuration records in the seed's style (``HHConfig(Na_g=120.0, ...)``)."""

from __future__ import annotations

import dataclasses
import difflib


def config(cls):
    """Make ``cls`` a frozen keyword-only dataclass whose unknown fields raise a clear error."""
    cls = dataclasses.dataclass(frozen=True, kw_only=True)(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    init = cls.__init__

    def __init__(self, **kwargs):
        for key in kwargs:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise TypeError(
                    f"{cls.__name__} has no field {key!r}{hint}; fields: {', '.join(names)}"
                )
        init(self, **kwargs)

    __init__.__doc__ = init.__doc__
    cls.__init__ = __init__
    return cls
