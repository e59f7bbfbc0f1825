"""Optimisers that `fit` chooses by default.

Each is built once per set of arguments and then reused: `fit` compiles its steps for an
optimiser object, so a fresh (equal but distinct) one per call would compile every fit
anew.
"""

from __future__ import annotations

import functools
import math

import optax


@functools.cache
def lbfgs(memory: int = 10, max_backtracking_steps: int = 60) -> optax.GradientTransformation:
    r"""L-BFGS (Liu & Nocedal 1989) with a backtracking Armijo line search: `fit`'s default
    for smooth deterministic losses (`TraceLoss`).

    ``optax.lbfgs`` with ``optax.scale_by_backtracking_linesearch`` instead of its default
    zoom line search: the trial points need only the loss (one forward simulation each),
    never its gradient, so the search works with forward-mode gradients and costs no
    reverse pass. Every search starts from the full quasi-Newton step (optax's default
    starts from the last accepted step, and once that has shrunk the fit creeps and stops
    on ``step_tol`` short of the minimum) and shrinks it by 0.8 per trial. A search that
    runs out of trials takes its last step even if the loss rose, so
    ``max_backtracking_steps`` must reach the scale of the loss's basin: 60 trials reach
    0.8⁶⁰ ≈ 2e-6 of the first step (the first step of a fit, and of every stage of
    `anneal`, is a unit step in the transformed parameters — a factor e for a `Log` —
    far outside a spike-timing basin).

    >>> from jaxneuron.fit import lbfgs
    >>> optimizer = lbfgs(memory=5)
    >>> optimizer is lbfgs(memory=5)    # built once: fits with it compile once
    True
    """
    return optax.lbfgs(
        memory_size=memory,
        linesearch=optax.scale_by_backtracking_linesearch(
            max_backtracking_steps=max_backtracking_steps, increase_factor=math.inf
        ),
    )


@functools.cache
def adam(learning_rate: float = 0.05) -> optax.GradientTransformation:
    """``optax.adam(learning_rate)``, built once per rate: `fit`'s default for losses that
    are not smooth (spike-based features)."""
    return optax.adam(learning_rate)


def with_extra_args(optimizer: optax.GradientTransformation):
    """``optax.with_extra_args_support(optimizer)``, built once per optimiser object (per
    call for an optimiser that cannot be hashed)."""
    try:
        return _with_extra_args(optimizer)
    except TypeError:  # unhashable
        return optax.with_extra_args_support(optimizer)


@functools.cache
def _with_extra_args(optimizer):
    return optax.with_extra_args_support(optimizer)
