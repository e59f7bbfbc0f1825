r"""Gradients of a loss with respect to a vector of free parameters, in reverse or
forward mode.

For P free parameters and a simulation of cost C (one forward solve):

- **reverse mode** (`jax.value_and_grad`): cost ≈ 2–4·C whatever P, memory ∝ the
  number of stored states. Both integrator families bound it: diffrax's
  `RecursiveCheckpointAdjoint` (adaptive solvers) stores O(log n) checkpoints of the
  n steps and recomputes between them; `ExponentialEuler(checkpoint=True)` stores one
  state per save and recomputes the steps in between. Past the checkpoints, memory grows
  with the saved trace (the loss reads it anyway).
- **forward mode** (P Jacobian–vector products, vmapped): cost ≈ P·(1.5–2)·C, memory
  ≈ that of P forward solves (no stored trajectory at all besides the saved trace),
  no recomputation, and XLA fuses the tangents into the same loop. For the adaptive
  solvers it needs ``diffrax.ForwardMode()`` as the adjoint (set automatically).

``gradient="auto"`` picks forward mode when P ≤ `FORWARD_MAX_PARAMETERS` = 4. Measured on a
2-core CPU (``scripts/bench_fit.py``, Prinz burst-period loss, exponential Euler): a batch
of 64 models in float32 costs 12.2 forward solves per reverse gradient and 1.56 per
forward-mode parameter (break-even P ≈ 8); one model in float64, 4.0 and 3.9 (break-even
P ≈ 1). 4 sits between; reverse mode is the safe choice when memory is not the limit.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

#: `gradient="auto"` uses forward mode for at most this many free parameters.
FORWARD_MAX_PARAMETERS = 4

MODES = ("auto", "reverse", "forward")


def choose_mode(gradient: str, n_parameters: int) -> str:
    """``"reverse"`` or ``"forward"`` for ``gradient`` in `MODES` and P free parameters."""
    if gradient not in MODES:
        raise ValueError(f"gradient must be one of {MODES}, got {gradient!r}")
    if gradient == "auto":
        return "forward" if n_parameters <= FORWARD_MAX_PARAMETERS else "reverse"
    return gradient


def value_and_gradient(f: Callable, u, mode: str):
    """``(f(u), ∇f(u))`` for scalar ``f`` of a vector ``u``, in ``mode``."""
    if mode == "reverse":
        return jax.value_and_grad(f)(u)
    if mode != "forward":
        raise ValueError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    basis = jnp.eye(u.shape[-1], dtype=u.dtype)
    values, tangents = jax.vmap(lambda v: jax.jvp(f, (u,), (v,)))(basis)
    return values[0], tangents
