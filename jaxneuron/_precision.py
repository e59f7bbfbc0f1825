"""The floating-point precision of a model: one dtype for all its parameters.

jaxneuron never changes JAX's global flags: a model runs in the dtype of its parameters.
When those disagree — e.g. ``eqx.tree_at(..., jnp.float32(120.0))`` on a float64 model —
`consistent_precision` casts every parameter to the widest dtype among them and warns,
naming the parameters it cast, instead of letting JAX's type promotion silently run the
whole simulation in the narrower type.
"""

from __future__ import annotations

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp


def as_dtype(model, dtype):
    """A copy of ``model`` (any pytree) whose floating-point array leaves have ``dtype``.

    >>> import jax.numpy as jnp
    >>> from jaxneuron import build_HH
    >>> as_dtype(build_HH(), jnp.float32).C.dtype
    dtype('float32')
    """

    def cast(x):
        if eqx.is_array(x) and jnp.issubdtype(x.dtype, jnp.floating):
            return x.astype(dtype)
        return x

    return jax.tree_util.tree_map(cast, model)


def model_dtype(model):
    """The widest floating-point dtype among the model's parameters (JAX's default float
    type for a model without any)."""
    dtypes = {x.dtype for x in jax.tree_util.tree_leaves(model) if eqx.is_inexact_array(x)}
    if not dtypes:
        return jnp.dtype(jnp.result_type(float))
    return max(dtypes, key=lambda d: (jnp.finfo(d).bits, str(d)))


def consistent_precision(model):
    """``model`` with every floating-point parameter in `model_dtype`; a warning names the
    parameters that had another dtype.

    >>> import equinox as eqx, jax.numpy as jnp, warnings
    >>> from jaxneuron import build_HH
    >>> model = eqx.tree_at(lambda m: m.C, as_dtype(build_HH(), jnp.float32), jnp.float16(1))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     fixed = consistent_precision(model)
    >>> fixed.C.dtype, "C" in str(caught[0].message)
    (dtype('float32'), True)
    """
    dtype = model_dtype(model)
    paths = jax.tree_util.tree_leaves_with_path(model)
    other = [
        (jax.tree_util.keystr(path), x.dtype)
        for path, x in paths
        if eqx.is_inexact_array(x) and x.dtype != dtype
    ]
    if not other:
        return model
    listed = ", ".join(f"{p.lstrip('.')} ({d})" for p, d in other[:6])
    more = f" and {len(other) - 6} more" if len(other) > 6 else ""
    warnings.warn(
        f"{getattr(model, 'name', type(model).__name__)}: parameters {listed}{more} are not "
        f"{dtype} like the rest of the model; they are cast to {dtype} (use "
        f"jaxneuron.as_dtype(model, dtype) to choose the precision)",
        stacklevel=3,
    )
    return as_dtype(model, dtype)
