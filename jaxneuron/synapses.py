r"""Synapses between conductance-based neurons, as vectorised groups.

A group holds many synapses of one kind: index arrays ``pre`` and ``post`` (static) into
the network's neurons and array leaves for the parameters, so a network of hundreds of
connections costs one gather and one scatter per group, and every strength is a leaf to
vmap or differentiate. Strengths are whole-cell conductances in nS; the network converts
them to densities (mS/cm²) through its `Geometry`.

A group returns, for every neuron, the current it injects in the linear form
I = G·V_post − J (G in mS/cm², J in µA/cm², outward positive), which the exponential
integrator treats implicitly in V.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._validation import check_finite, check_nonnegative, check_positive
from .receptors import GradedRelease

Vector = Float[Array, " n"]


def _index_tuple(values, name, n=None):
    out = tuple(int(v) for v in np.atleast_1d(np.asarray(values)))
    if n is not None and len(out) != n:
        raise ValueError(f"{name} has {len(out)} entries, expected {n}")
    return out


class AbstractSynapseGroup(eqx.Module):
    """A vectorised group of synapses between the neurons of a `jaxneuron.Network`: its
    gating state (one variable per synapse, or none), its dynamics and the current it
    injects, in the linear form I = G·V_post − J."""

    @property
    @abc.abstractmethod
    def num_states(self) -> int:
        """Number of state variables (one per synapse, or 0)."""

    @abc.abstractmethod
    def state_names(self) -> tuple[str, ...]:
        """Names of the state variables."""

    @abc.abstractmethod
    def neuron_indices(self) -> tuple[int, ...]:
        """Every neuron index the group refers to (for checks)."""

    @abc.abstractmethod
    def initial_state(self, V) -> Vector:
        """The state for the neurons' potentials ``V`` (mV), shape (num_states,)."""

    @abc.abstractmethod
    def derivative(self, V, s) -> Vector:
        """ds/dt for potentials ``V`` (mV) and state ``s``."""

    @abc.abstractmethod
    def increment(self, V, s, dt) -> Vector:
        """The exact change of ``s`` over ``dt`` ms with ``V`` frozen."""

    @abc.abstractmethod
    def inputs(self, V, s, to_density, n_neurons):
        """(G, J) per neuron (mS/cm², µA/cm²): the current into neuron i is
        G[i]·V[i] − J[i], outward positive; ``to_density`` converts nS to mS/cm²."""


class GradedSynapses(AbstractSynapseGroup):
    r"""Graded chemical synapses (Abbott & Marder 1998; Prinz, Bucher & Marder 2004).

        I_syn = g · s · (V_post − E)
        ds/dt = (s∞(V_pre) − s) / τs,   s∞ = 1 / (1 + exp((V_th − V_pre)/Δ)),
        τs = (1 − s∞) / k₋

    **Fields:** ``g`` (nS, one per synapse), ``E`` (mV), ``V_th`` (mV), ``Delta`` (mV),
    ``k_minus`` (1/ms) — each a scalar or one value per synapse; ``pre``, ``post`` (static
    neuron indices); ``names`` (static, for the state names).

    The kinetics of s are `jaxneuron.GradedRelease`'s (the stiff limit τs → 0 included).
    """

    g: Vector = eqx.field(converter=jnp.asarray)
    E: Vector = eqx.field(converter=jnp.asarray)
    V_th: Vector = eqx.field(converter=jnp.asarray, default=-35.0)
    Delta: Vector = eqx.field(converter=jnp.asarray, default=5.0)
    k_minus: Vector = eqx.field(converter=jnp.asarray, default=1.0 / 40.0)
    pre: tuple[int, ...] = eqx.field(static=True, default=())
    post: tuple[int, ...] = eqx.field(static=True, default=())
    names: tuple[str, ...] = eqx.field(static=True, default=())

    def __check_init__(self):
        n = len(self.pre)
        if len(self.post) != n or len(self.names) != n:
            raise ValueError(
                f"GradedSynapses: pre ({n}), post ({len(self.post)}) and names "
                f"({len(self.names)}) must have the same length"
            )
        if self.g.ndim > 1 or (self.g.ndim == 1 and self.g.shape[0] != n):
            raise ValueError(
                f"GradedSynapses.g must hold one strength (nS) per synapse: {n}, got shape "
                f"{self.g.shape}"
            )
        check_nonnegative("synapse strength g", self.g, "nS")
        check_finite("synapse reversal E", self.E, "mV")
        check_finite("synapse threshold V_th", self.V_th, "mV")
        check_positive("synapse slope Delta", self.Delta, "mV")
        check_positive("synapse rate k_minus", self.k_minus, "1/ms")

    @property
    def num_states(self) -> int:
        return len(self.pre)

    def neuron_indices(self) -> tuple[int, ...]:
        return self.pre + self.post

    def state_names(self) -> tuple[str, ...]:
        return tuple(f"{name}.s" for name in self.names)

    @property
    def release(self) -> GradedRelease:
        """The kinetics of s (`jaxneuron.GradedRelease`), one value per synapse."""
        return GradedRelease(self.V_th, self.Delta, self.k_minus)

    def steady_state(self, V_pre):
        """s∞(V_pre)."""
        return self.release.steady_state(V_pre)

    def rate(self, V_pre):
        """1/τs = k₋ / (1 − s∞) = k₋ (1 + exp((V_pre − V_th)/Δ)), in 1/ms."""
        return self.release.rate(V_pre)

    def initial_state(self, V):
        return self.steady_state(V[jnp.asarray(self.pre)])

    def derivative(self, V, s):
        return self.release.derivative(V[jnp.asarray(self.pre)], s)

    def increment(self, V, s, dt):
        """The exact change of s over ``dt`` ms with V_pre frozen: (s∞ − s)(1 − e^{−Δt/τs})."""
        return self.release.increment(V[jnp.asarray(self.pre)], s, dt)

    def inputs(self, V, s, to_density, n_neurons):
        """(G, J) per neuron: G = Σ g s, J = Σ g s E over the synapses onto it."""
        G_syn = to_density(self.g) * s
        post = jnp.asarray(self.post)
        G = jnp.zeros(n_neurons, G_syn.dtype).at[post].add(G_syn)
        J = jnp.zeros(n_neurons, G_syn.dtype).at[post].add(G_syn * self.E)
        return G, J


class GapJunctions(AbstractSynapseGroup):
    r"""Electrical synapses: I_a = g (V_a − V_b) into cell a and the opposite into b.

    **Fields:** ``g`` (nS, one per junction), ``a``, ``b`` (static neuron indices),
    ``names`` (static).
    """

    g: Vector = eqx.field(converter=jnp.asarray)
    a: tuple[int, ...] = eqx.field(static=True, default=())
    b: tuple[int, ...] = eqx.field(static=True, default=())
    names: tuple[str, ...] = eqx.field(static=True, default=())

    def __check_init__(self):
        n = len(self.a)
        if len(self.b) != n or len(self.names) != n:
            raise ValueError("GapJunctions: a, b and names must have the same length")
        if self.g.ndim > 1 or (self.g.ndim == 1 and self.g.shape[0] != n):
            raise ValueError(
                f"GapJunctions.g must hold one conductance (nS) per junction: {n}, got shape "
                f"{self.g.shape}"
            )
        check_nonnegative("gap-junction conductance g", self.g, "nS")

    @property
    def num_states(self) -> int:
        return 0

    def state_names(self) -> tuple[str, ...]:
        return ()

    def neuron_indices(self) -> tuple[int, ...]:
        return self.a + self.b

    def initial_state(self, V):
        return V[:0]

    def derivative(self, V, s):
        return V[:0]

    def increment(self, V, s, dt):
        return V[:0]

    def currents(self, V, to_density):
        """Current into each ``a`` and each ``b`` cell (µA/cm², outward positive)."""
        a, b = jnp.asarray(self.a), jnp.asarray(self.b)
        I = to_density(self.g) * (V[a] - V[b])
        return I, -I

    def inputs(self, V, s, to_density, n_neurons):
        g = to_density(self.g) * jnp.ones(len(self.a))
        a, b = jnp.asarray(self.a), jnp.asarray(self.b)
        G = jnp.zeros(n_neurons, g.dtype).at[a].add(g).at[b].add(g)
        J = jnp.zeros(n_neurons, g.dtype).at[a].add(g * V[b]).at[b].add(g * V[a])
        return G, J


#: Prinz, Bucher & Marder (2004): kinetics of the glutamatergic pyloric synapses (mV, 1/ms).
GLUTAMATERGIC = dict(E=-70.0, V_th=-35.0, Delta=5.0, k_minus=1.0 / 40.0)
#: Prinz, Bucher & Marder (2004): kinetics of the cholinergic pyloric synapses (mV, 1/ms).
CHOLINERGIC = dict(E=-80.0, V_th=-35.0, Delta=5.0, k_minus=1.0 / 100.0)
