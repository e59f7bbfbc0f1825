"""Optimisers that `fit` chooses by default."""

from __future__ import annotations

import optax


def lbfgs(memory: int = 10, max_backtracking_steps: int = 20) -> optax.GradientTransformation:
    r"""L-BFGS (Liu & Nocedal 1989) with a backtracking Armijo line search: `fit`'s default
    for smooth deterministic losses (`TraceLoss`).

    ``optax.lbfgs`` with ``optax.scale_by_backtracking_linesearch`` instead of its default
    zoom line search: the trial points need only the loss (one forward simulation each),
    never its gradient, so the search works with forward-mode gradients and costs no
    reverse pass.

    >>> from jaxneuron.fit import lbfgs
    >>> optimizer = lbfgs(memory=5)
    """
    return optax.lbfgs(
        memory_size=memory,
        linesearch=optax.scale_by_backtracking_linesearch(
            max_backtracking_steps=max_backtracking_steps
        ),
    )
