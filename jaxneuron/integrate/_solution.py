"""What `simulate` returns."""

from __future__ import annotations

import equinox as eqx
import numpy as np
from jaxtyping import Array, Bool, Float, Int


class SimulationError(RuntimeError):
    """An integration failed; the message names the model, the solver and the parameters."""


class Solution(eqx.Module):
    """Saved times and states of a simulation.

    ``ts`` has shape (..., n_saves) in ms and ``ys`` (..., n_saves, n_states), the leading
    axes being any `jax.vmap` batch axes. A state is read by name: ``sol["Na.m"]``;
    ``sol.V`` is the membrane potential in mV. ``success`` is False where the solver
    failed (step-size collapse, max_steps, non-finite state); saves past a failure are
    not meaningful. ``features`` holds the summary of the streaming features, when asked
    for (see `simulate`).

    >>> from jaxneuron import build_HH, simulate
    >>> sol = simulate(build_HH(0.0), 5.0, save_every=1.0)
    >>> sol.state_names
    ('V', 'Na.m', 'Na.h', 'K.n')
    >>> sol["K.n"].shape
    (6,)
    """

    ts: Float[Array, "*batch n_saves"]
    ys: Float[Array, "*batch n_saves n_states"]
    success: Bool[Array, "*batch"]
    num_steps: Int[Array, "*batch"]
    state_names: tuple[str, ...] = eqx.field(static=True)
    model_name: str = eqx.field(static=True, default="model")
    solver_name: str = eqx.field(static=True, default="")
    features: dict | None = None

    @property
    def V(self) -> Float[Array, "*batch n_saves"]:
        """Membrane potential in mV; for a network, every cell's (last axis: cells, in
        network order)."""
        if "V" in self.state_names:
            return self["V"]
        cells = [n for n in self.state_names if n.endswith(".V")]
        if not cells:
            raise KeyError(f"no membrane potential among the states {self.state_names}")
        return self.ys[..., [self.state_names.index(n) for n in cells]]

    def __getitem__(self, name: str) -> Float[Array, "*batch n_saves"]:
        try:
            index = self.state_names.index(name)
        except ValueError:
            raise KeyError(f"no state {name!r}; states: {self.state_names}") from None
        return self.ys[..., index]

    def to_dict(self) -> dict[str, np.ndarray]:
        """Times and every state as NumPy arrays, keyed by name (``"t"`` for time)."""
        out = {"t": np.asarray(self.ts)}
        out.update({name: np.asarray(self[name]) for name in self.state_names})
        return out
