"""Early, named checks of user input.

Checks run only on concrete values: inside `jax.jit` or `jax.vmap` the values are
tracers and cannot be inspected, so validation happens where a user builds a model or
calls `simulate` eagerly.
"""

from __future__ import annotations

import numpy as np
from jax.core import Tracer


def is_concrete(value) -> bool:
    return not isinstance(value, Tracer)


def _as_numpy(value):
    if not is_concrete(value):
        return None
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"expected a number, got {type(value).__name__}: {value!r}") from err


def _with_unit(text, unit: str) -> str:
    return f"{text} {unit}" if unit else f"{text}"


def check_finite(name: str, value, unit: str) -> None:
    arr = _as_numpy(value)
    if arr is not None and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {_with_unit(repr(value), unit)}")


def check_nonnegative(name: str, value, unit: str) -> None:
    check_finite(name, value, unit)
    arr = _as_numpy(value)
    if arr is not None and np.any(arr < 0):
        raise ValueError(
            f"{name} must be {_with_unit('>= 0', unit)}, got {_with_unit(repr(value), unit)}"
        )


def check_positive(name: str, value, unit: str) -> None:
    check_finite(name, value, unit)
    arr = _as_numpy(value)
    if arr is not None and np.any(arr <= 0):
        raise ValueError(
            f"{name} must be {_with_unit('> 0', unit)}, got {_with_unit(repr(value), unit)}"
        )
