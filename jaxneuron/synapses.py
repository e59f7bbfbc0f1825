r"""Synapses between conductance-based neurons, as vectorised groups.

A group holds many synapses of one kind: static indices ``pre`` and ``post`` into the
network's neurons and array leaves for the parameters (one value per synapse), so every
strength is a leaf to vmap or differentiate. Potentials and inputs pass with one row per
neuron, states with one row per synapse (a row is a number, or a vector over a batch of
circuits). With the indices static, rows are picked and summed by products with one-hot
columns (`gather_rows`, `scatter_rows`): exact, and fused by XLA into the elementwise
work around them, where a gather, a scatter or a stack would split the kernel.
Strengths are whole-cell
conductances in nS; the network converts them to densities (mS/cm²) through its
`Geometry`.

A group returns, for every neuron, the current it injects in the linear form
I = G·V_post − J (G in mS/cm², J in µA/cm², outward positive), which the exponential
integrator treats implicitly in V.
"""

from __future__ import annotations

import abc
import dataclasses

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._validation import check_finite, check_nonnegative, check_positive, is_concrete
from .receptors import GradedRelease

Vector = Float[Array, " n"]


def gather_rows(rows, indices: tuple[int, ...]):
    """``out[k] = rows[indices[k]]`` as one array of shape (len(indices), …), for static
    ``indices`` and ``rows`` a sequence (or an array) of equally shaped rows: a sum of
    the rows times one-hot columns, exact (each entry is one row plus zeros).

    >>> gather_rows((jnp.asarray(1.0), jnp.asarray(2.0)), (1, 1, 0)).tolist()
    [2.0, 2.0, 1.0]
    """
    out = 0.0
    for i in range(len(rows)):
        column = np.asarray([k == i for k in indices])
        if column.any():
            row = jnp.asarray(rows[i])
            column = jnp.asarray(column, row.dtype).reshape((-1,) + (1,) * row.ndim)
            out = out + column * row
    return out


def scatter_rows(values, indices: tuple[int, ...], n: int, zero):
    """``out[i] = zero + Σ values[k] over k with indices[k] = i``, in order of k, as one
    array of shape (n, …), for static ``indices`` and ``values`` a sequence (or an array)
    of rows: the sums row by row, then the rows stacked by products with one-hot
    columns, exact like `gather_rows`.

    >>> scatter_rows(jnp.asarray([1.0, 2.0, 4.0]), (0, 2, 0), 3, jnp.zeros(())).tolist()
    [5.0, 0.0, 2.0]
    """
    sums = [zero] * n
    for k, i in enumerate(indices):
        sums[i] = sums[i] + values[k]
    return gather_rows(sums, tuple(range(n)))


def _entry(p, k: int, n: int):
    """Entry ``k`` of a parameter that is a scalar or one value per synapse (``n``; in a
    batch-minor population, one row per synapse: shape (n, models))."""
    return p if jnp.ndim(p) == 0 else _rows(p, n)[k]


def _rows(p, n: int):
    """A parameter that is a scalar or one row per synapse, as ``n`` rows."""
    return jnp.broadcast_to(p, (n,) + jnp.shape(p)[1:] if jnp.ndim(p) else (n,))


def _take(p, rows: tuple[int, ...], n: int):
    """The rows ``rows`` of a parameter with one row per synapse (a scalar stays one)."""
    return p if jnp.ndim(p) == 0 else _rows(p, n)[np.asarray(rows, dtype=int)]


def _index_tuple(values, name, n=None):
    out = tuple(int(v) for v in np.atleast_1d(np.asarray(values)))
    if n is not None and len(out) != n:
        raise ValueError(f"{name} has {len(out)} entries, expected {n}")
    return out


class AbstractSynapseGroup(eqx.Module):
    """A vectorised group of synapses between the neurons of a `jaxneuron.Network`: its
    gating state (one variable per synapse, or none), its dynamics and the current it
    injects, in the linear form I = G·V_post − J. Every group has ``names``, one per
    synapse (for parameter and state names)."""

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
    def initial_state(self, V) -> tuple:
        """The state for the neurons' potentials ``V`` (mV, one row per neuron): a tuple
        of ``num_states`` entries."""

    @abc.abstractmethod
    def derivative(self, V, s):
        """ds/dt (one row per synapse) for potentials ``V`` (mV, one row per neuron) and
        state ``s`` (one row per synapse)."""

    @abc.abstractmethod
    def increment(self, V, s, dt):
        """The exact change of ``s`` over ``dt`` ms with ``V`` frozen (one row per
        synapse)."""

    @abc.abstractmethod
    def inputs(self, V, s, to_density, n_neurons):
        """(G, J), each one row per neuron (mS/cm², µA/cm²): the current into neuron i is
        G[i]·V[i] − J[i], outward positive; ``to_density`` converts nS to mS/cm²."""

    @abc.abstractmethod
    def shared_states(self) -> tuple[int, ...]:
        """For each state, the first state of the group that starts and evolves exactly
        as it does (itself where none does): a population of circuits needs to hold and
        step only one of them. Decided on concrete parameter values, whose rows (one per
        synapse; a population of circuits adds trailing axes) must be equal; where a value
        is traced, every state is its own."""

    @abc.abstractmethod
    def select(self, rows: tuple[int, ...]):
        """The group of the synapses ``rows`` only (static indices, in that order)."""


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
        if self.g.ndim >= 1 and self.g.shape[0] != n:
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

    def _release(self, k: int) -> GradedRelease:
        n = len(self.pre)
        return GradedRelease(*(_entry(p, k, n) for p in (self.V_th, self.Delta, self.k_minus)))

    def steady_state(self, V_pre):
        """s∞(V_pre)."""
        return self.release.steady_state(V_pre)

    def rate(self, V_pre):
        """1/τs = k₋ / (1 − s∞) = k₋ (1 + exp((V_pre − V_th)/Δ)), in 1/ms."""
        return self.release.rate(V_pre)

    def initial_state(self, V):
        return tuple(self._release(k).steady_state(V[i]) for k, i in enumerate(self.pre))

    def derivative(self, V, s):
        return self.release.derivative(gather_rows(V, self.pre), jnp.asarray(s))

    def increment(self, V, s, dt):
        """The exact change of s over ``dt`` ms with V_pre frozen: (s∞ − s)(1 − e^{−Δt/τs})."""
        return self.release.increment(gather_rows(V, self.pre), jnp.asarray(s), dt)

    def shared_states(self) -> tuple[int, ...]:
        """Synapses from the same cell with equal ``V_th``, ``Delta`` and ``k_minus``
        share their s: it starts at s∞(V_pre) and follows V_pre alone (the strength and
        reversal act after it). In the Prinz et al. (2004) circuit the seven synapses
        have four distinct s."""
        n = len(self.pre)
        kinetics = (self.V_th, self.Delta, self.k_minus)
        if not all(is_concrete(p) for p in kinetics):
            return tuple(range(n))
        rows = [np.asarray(_rows(p, n)) for p in kinetics]
        first: dict = {}
        return tuple(
            first.setdefault((self.pre[k], *(r[k].tobytes() for r in rows)), k) for k in range(n)
        )

    def select(self, rows: tuple[int, ...]):
        n = len(self.pre)
        return dataclasses.replace(
            self,
            **{f: _take(getattr(self, f), rows, n) for f in ("g", "E", "V_th", "Delta", "k_minus")},
            pre=tuple(self.pre[k] for k in rows),
            post=tuple(self.post[k] for k in rows),
            names=tuple(self.names[k] for k in rows),
        )

    def inputs(self, V, s, to_density, n_neurons):
        """(G, J) per neuron: G = Σ g s, J = Σ g s E over the synapses onto it."""
        G_syn = to_density(self.g) * jnp.asarray(s)
        I_rev = G_syn * self.E
        zero = jnp.zeros_like(V[0])
        return (
            scatter_rows(G_syn, self.post, n_neurons, zero),
            scatter_rows(I_rev, self.post, n_neurons, zero),
        )


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
        if self.g.ndim >= 1 and self.g.shape[0] != n:
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
        return ()

    def derivative(self, V, s):
        return ()

    def increment(self, V, s, dt):
        return ()

    def shared_states(self) -> tuple[int, ...]:
        return ()

    def select(self, rows: tuple[int, ...]):
        return dataclasses.replace(
            self,
            g=_take(self.g, rows, len(self.a)),
            a=tuple(self.a[k] for k in rows),
            b=tuple(self.b[k] for k in rows),
            names=tuple(self.names[k] for k in rows),
        )

    def currents(self, V, to_density):
        """Current into each ``a`` and each ``b`` cell (µA/cm², outward positive), one
        entry per junction."""
        n = len(self.a)
        I = tuple(
            to_density(_entry(self.g, k, n)) * (V[a] - V[b])
            for k, (a, b) in enumerate(zip(self.a, self.b, strict=True))
        )
        return I, tuple(-i for i in I)

    def inputs(self, V, s, to_density, n_neurons):
        n = len(self.a)
        g = [_entry(to_density(self.g), k, n) for k in range(n)]
        zero = jnp.zeros_like(V[0])
        G = scatter_rows(g + g, self.a + self.b, n_neurons, zero)
        J = scatter_rows(
            [g[k] * V[b] for k, b in enumerate(self.b)]
            + [g[k] * V[a] for k, a in enumerate(self.a)],
            self.a + self.b,
            n_neurons,
            zero,
        )
        return G, J


#: Prinz, Bucher & Marder (2004): kinetics of the glutamatergic pyloric synapses (mV, 1/ms).
GLUTAMATERGIC = dict(E=-70.0, V_th=-35.0, Delta=5.0, k_minus=1.0 / 40.0)
#: Prinz, Bucher & Marder (2004): kinetics of the cholinergic pyloric synapses (mV, 1/ms).
CHOLINERGIC = dict(E=-80.0, V_th=-35.0, Delta=5.0, k_minus=1.0 / 100.0)
