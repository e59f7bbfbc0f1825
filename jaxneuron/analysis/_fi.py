"""f–I curves: steady firing rate against injected current, one vmapped simulation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..integrate import ExponentialEuler, simulate
from ._sampled import firing_rate


def fi_curve(
    build,
    currents,
    t1: float = 1000.0,
    *,
    solver=None,
    start: float | None = None,
    threshold: float = 0.0,
    save_every: float = 0.1,
) -> np.ndarray:
    """Steady firing rates (Hz, 1 / mean ISI after ``start`` ms) for each current.

    ``build`` maps a current (µA/cm²) to a model, e.g. ``jaxneuron.build_HH``; all
    currents run in one `jax.vmap`-ed call. The default solver is exponential Euler with
    dt = 0.01 ms; ``start`` defaults to t1 / 5 to skip the transient.

    >>> from jaxneuron import build_HH
    >>> rates = fi_curve(build_HH, [0.0, 10.0], t1=300.0)
    >>> float(rates[0]), bool(60 < rates[1] < 75)
    (0.0, True)
    """
    solver = ExponentialEuler(dt=0.01) if solver is None else solver
    start = t1 / 5 if start is None else start

    @jax.jit
    def run(currents):
        return jax.vmap(lambda I: simulate(build(I), t1, solver=solver, save_every=save_every).V)(
            currents
        )

    V = np.asarray(run(jnp.asarray(currents, dtype=jnp.result_type(float))))
    ts = np.arange(V.shape[1]) * save_every
    return np.array([firing_rate(ts, v, threshold, start=start) for v in V])
