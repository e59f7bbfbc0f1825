r"""Parameters by name: read and replace any numeric leaf of a model or circuit.

Sweeps and fits address parameters by the readable names of ``model.parameters()``:

- a neuron: ``"C"``, ``"V0"``, ``"Ca0"``, ``"g_scale"``, ``"<channel>.g"``, ``"<channel>.E"``,
  ``"<channel>.scale"``, ``"calcium.tau"``, ``"stimulus.<field>"`` … (any dotted path of
  fields, channels by their names);
- a circuit: ``"<cell>.<neuron name>"`` (e.g. ``"AB.CaS.g"``) and ``"<synapse>.g_nS"`` or
  ``"<synapse>.<field>"`` for one synapse of a vectorised group (e.g. ``"AB->LP.g_nS"``).

`set_parameters` is built on `eqx.tree_at`, so it works on traced values: under `jax.vmap`
it turns one model into a population, under `jax.grad` it carries gradients.

>>> from jaxneuron import build_Prinz
>>> model = set_parameters(build_Prinz(), {"CaS.g": 4.0, "g_scale": 1.5})
>>> float(get_parameter(model, "CaS.g")), float(get_parameter(model, "g_scale"))
(4.0, 1.5)
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
from collections.abc import Callable, Mapping

import equinox as eqx
import jax
import jax.numpy as jnp

from ._protocols import AbstractNamedParts
from ._validation import is_concrete

# synapse groups name their per-synapse conductance "g" (nS); `Network.parameters` calls
# it "g_nS" to carry the unit in the name
_FIELD_ALIASES = {"g_nS": "g"}


def is_pattern(name: str) -> bool:
    """Whether ``name`` is a shell-style pattern (``*``, ``?``, ``[…]``) rather than a name."""
    return any(c in name for c in "*?[")


def match(pattern: str, names) -> list[str]:
    """The names that equal ``pattern`` or match it as a shell-style pattern, in order.

    >>> match("*.s", ["LP.V", "AB->LP.s", "LP->PY.s"])
    ['AB->LP.s', 'LP->PY.s']
    """
    return [n for n in names if n == pattern or fnmatch.fnmatchcase(n, pattern)]


def parameter_names(model) -> tuple[str, ...]:
    """The names `set_parameters` accepts for the usual parameters of ``model`` (those of
    ``model.parameters()``)."""
    return tuple(model.parameters())


def _unknown(model, name: str, detail: str) -> KeyError:
    known = parameter_names(model)
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    return KeyError(
        f"{model.name} has no parameter {name!r} "
        f"({detail}){hint} Known parameters: {', '.join(known)}"
    )


def _fields(module) -> set[str]:
    return {f.name for f in dataclasses.fields(module)}


def _getter(steps: tuple[str | int, ...]) -> Callable:
    """``model → model.<steps>``: fields (str) and indices (int) in turn."""

    def where(model):
        for step in steps:
            model = model[step] if isinstance(step, int) else getattr(model, step)
        return model

    return where


def _locate(model, name: str) -> tuple[Callable, int | None, int | None, tuple]:
    """``(where, index, size, steps)``: ``where(model)`` is the array leaf, reached by
    ``steps`` (fields and indices); ``index`` picks one entry of a per-synapse vector
    leaf of length ``size``. Each dotted part of ``name`` is a named part of the module
    reached so far (`AbstractNamedParts`: a cell, a synapse, a population, a
    projection, a channel) or one of its fields."""
    steps: list[str | int] = []
    obj = model
    index = size = None
    for part in name.split("."):
        named = obj.named_part(part) if isinstance(obj, AbstractNamedParts) else None
        if named is not None:
            steps.extend(named.path)
            obj = _getter(named.path)(obj)
            if named.entry is not None:
                index, size = named.entry, named.size
            continue
        field = _FIELD_ALIASES.get(part, part)
        if not isinstance(obj, eqx.Module) or field not in _fields(obj):
            raise _unknown(model, name, f"no field {part!r} in {type(obj).__name__}")
        steps.append(field)
        obj = getattr(obj, field)
    if not eqx.is_inexact_array(obj):
        raise _unknown(model, name, f"it names a {type(obj).__name__}, not a number")
    if index is None and jnp.ndim(obj) != 0:
        raise _unknown(model, name, f"it names an array of shape {jnp.shape(obj)}")
    return _getter(tuple(steps)), index, size, tuple(steps)


def get_parameter(model, name: str):
    """The value of parameter ``name`` (see the module docstring for names)."""
    where, index, size, _ = _locate(model, name)
    leaf = where(model)
    return leaf if index is None else jnp.broadcast_to(leaf, (size,))[index]


def set_parameters(model, values: Mapping[str, object]):
    """A copy of ``model`` with the named parameters replaced by ``values`` (scalars,
    possibly traced); each value is cast to the dtype of the leaf it replaces."""
    changed = []
    for name, value in values.items():
        where, index, size, steps = _locate(model, name)
        changed.append(steps)
        if jnp.ndim(value) != 0:
            raise ValueError(
                f"parameter {name!r} takes a scalar, got shape {jnp.shape(value)}; "
                "use jax.vmap over set_parameters for a population"
            )

        def replace(old, value=value, index=index, size=size):
            new = jnp.asarray(value, dtype=old.dtype)
            if index is None:
                return new
            return jnp.broadcast_to(old, (size,)).at[index].set(new)

        model = eqx.tree_at(where, model, replace_fn=replace)
    if all(is_concrete(v) for v in values.values()):
        # the constructors' checks (a negative conductance, …), on real values, of every
        # module that holds a changed leaf
        for steps in changed:
            node = model
            for step in steps:
                _check(node)
                node = node[step] if isinstance(step, int) else getattr(node, step)
    return model


def _check(node) -> None:
    """Run the ``__check_init__`` of ``node``'s classes (not of its parts) if it is a
    module."""
    if isinstance(node, eqx.Module):
        for cls in type(node).__mro__:
            check = cls.__dict__.get("__check_init__")
            if check is not None:
                check(node)


def population(model, values: Mapping[str, object]):
    """One model structure with ``n`` parameter sets: ``values`` maps names to arrays of
    shape (n,). Returns ``(models, axes)``: ``models`` has the named parameters as arrays
    with a leading axis of ``n`` and every other parameter shared (unbatched), and
    ``axes`` is its `jax.vmap` ``in_axes`` (0 for the batched leaves, None elsewhere).

    Sharing what is not swept keeps a population's memory and per-step reads to the
    swept parameters.

    >>> import jax, jax.numpy as jnp
    >>> from jaxneuron import build_HH
    >>> models, axes = population(build_HH(), {"Na.g": jnp.asarray([100.0, 120.0])})
    >>> models.channel("Na").g.shape, models.channel("K").g.shape
    ((2,), ())
    >>> jax.vmap(lambda m: m.channel("Na").g * m.channel("K").g, in_axes=(axes,))(models).tolist()
    [3600.0, 4320.0]
    """
    values = dict(values)
    mask = _swept_mask(model, values)
    batched = jax.vmap(lambda v: set_parameters(model, v))(values)
    models = jax.tree_util.tree_map(lambda b, m, f: b if f else m, batched, model, mask)
    return models, jax.tree_util.tree_map(lambda f: 0 if f else None, mask)


def swept_axes(model, names):
    """The ``axes`` of `population` for a sweep of ``names``, without its values: 0 for
    every leaf of ``model`` that the names address (the whole leaf where a name addresses
    one entry of it), None for the others.

    >>> from jaxneuron import build_HH
    >>> axes = swept_axes(build_HH(), ["Na.g"])
    >>> axes.channel("Na").g, axes.channel("K").g
    (0, None)
    """
    return jax.tree_util.tree_map(lambda f: 0 if f else None, _swept_mask(model, names))


def _swept_mask(model, names):
    """``model``'s structure with True at the leaves that ``names`` address."""
    mask = jax.tree_util.tree_map(lambda _: False, model)
    for name in names:
        where, _, _, _ = _locate(model, name)
        mask = eqx.tree_at(where, mask, True)
    return mask
