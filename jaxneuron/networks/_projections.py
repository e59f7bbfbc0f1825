"""Projections (`AbstractProjection`): synapses from one population onto another.

- `Projection`: event-driven chemical synapses opening a receptor (`jaxneuron.receptors`:
  exponential, alpha, NMDA); because every synapse of a projection shares its kinetics,
  their states add up and the state is one receptor state per postsynaptic neuron.
  Delivery gathers only the rows of the neurons that spiked, in buckets of 8, 16, 32, …
  rows up to ``max_spikes_per_step`` per population and step (a step with more takes
  every row).
- `GradedProjection`: graded transmitter release (one activation per presynaptic neuron).
- `GapJunctionProjection`: electrical synapses.
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._numerics import advance
from .._validation import check_finite, check_nonnegative
from ..receptors import AbstractReceptor, GradedRelease
from ._connectivity import Connectivity


def _check_weight(projection, kind: str):
    shape = jnp.shape(projection.weight)
    if shape not in ((), projection.connectivity.targets.shape):
        raise ValueError(
            f"{kind} {projection.pre}->{projection.post}: weight (nS) must be a scalar or "
            f"shaped like the targets {projection.connectivity.targets.shape}, got {shape}"
        )
    check_nonnegative(f"{kind} {projection.pre}->{projection.post}: weight", projection.weight,
                      "nS")  # fmt: skip
    check_nonnegative(f"{kind} {projection.pre}->{projection.post}: scale (weight factor)",
                      projection.scale, "")  # fmt: skip


class AbstractProjection(eqx.Module):
    """Synapses from the population ``pre`` to ``post`` (names) through a `Connectivity`
    with weights in nS (``weight``: a scalar or shaped like ``connectivity.targets``;
    ``scale`` multiplies them all, one leaf to fit). A projection has a state (per
    simulation), contributes a current to its populations in the linear form
    I = G·(E − V) summed as (G, J = G·E) in nS and nS·mV, and advances its state with the
    step: before the neurons (from their potentials at t_n) and after them (from their
    spikes in the step)."""

    pre: eqx.AbstractVar[str]
    post: eqx.AbstractVar[str]
    connectivity: eqx.AbstractVar[Connectivity]
    weight: eqx.AbstractVar[Array]
    # every subclass also has ``scale`` (a leaf, default 1) and ``name`` (static, default
    # ""): declared there, after its fields without defaults

    @property
    def label(self) -> str:
        """``name`` if given, else ``"<pre>-><post>"``: how sweeps and fits address the
        projection's parameters (``"E->I.scale"``)."""
        return self.name or f"{self.pre}->{self.post}"

    def rows(self, dtype):
        """Targets and weights (nS, ``scale`` applied) with one more row of padding
        (targets ``n_post``, weights 0); built once per simulation."""
        conn = self.connectivity
        targets = conn.targets
        weight = jnp.asarray(self.weight, dtype) * jnp.asarray(self.scale, dtype)
        weight = jnp.broadcast_to(weight, targets.shape)
        pad_t = jnp.full((1, targets.shape[1]), conn.n_post, targets.dtype)
        pad_w = jnp.zeros((1, targets.shape[1]), dtype)
        return jnp.concatenate([targets, pad_t]), jnp.concatenate([weight, pad_w])

    @abc.abstractmethod
    def init(self, V_pre, V_post, initial, dt: float, compensated: bool):
        """The state at t0 for the potentials at t0 (``initial``: a user-given state, or
        None for the default), for the step ``dt`` (ms)."""

    def before(self, state, V_pre, dt):
        """The state advanced over the step from the potentials at t_n (default: as is)."""
        return state

    @abc.abstractmethod
    def inputs(self, state, rows, V_pre, V_post):
        """((G, J) onto ``post``, (G, J) onto ``pre`` or None), nS and nS·mV."""

    def conductance(self, state, rows, V_pre, V_post):
        """The conductance onto ``post`` (nS, n_post), without a voltage-dependent block."""
        return self.inputs(state, rows, V_pre, V_post)[0][0]

    def after(self, state, rows, n, dt, crossed, lag, max_spikes: int):
        """The state after the neurons' step, given the presynaptic spikes ``crossed`` and
        the time from each spike to the end of the step, ``lag`` (ms; default: as is)."""
        return state


def _scatter(targets, values, n_post: int):
    """Σ of ``values`` (rows × width [× c]) per target, dropping the padding target."""
    trailing = values.shape[targets.ndim :]
    out = jnp.zeros((n_post + 1, *trailing), values.dtype)
    return out.at[targets.ravel()].add(values.reshape(-1, *trailing))[:n_post]


class Projection(AbstractProjection):
    """Event-driven chemical synapses: each spike of a ``pre`` neuron (an upward threshold
    crossing) opens the ``receptor`` (`ExponentialReceptor`, `AlphaReceptor`,
    `NMDAReceptor`) of its synapses onto ``post``, with the synapse's weight (nS, the
    peak conductance). All synapses of a projection share the receptor's kinetics, so
    their states add up: the state is one receptor state per postsynaptic neuron.

    A spike at t_s ∈ (t_n, t_{n+1}] kicks the state by the weight times
    ``receptor.kick(0)`` at t_{n+1+D}, D = round(``delay``/Δt) (``delay`` in ms,
    static), as Brian2 delivers spikes: the synaptic charge is kept whole, and the
    onset is late by up to one step (first order in Δt). With ``exact_onset`` the kick
    is ``receptor.kick(t_{n+1} − t_s)``, the state a spike at t_s + D·Δt has reached at
    t_{n+1+D}: the conductance is then exact at every grid point for the delay rounded
    to whole steps (only its rise within the arrival step is missed).

    >>> import jaxneuron as jn
    >>> conn = jn.fixed_probability(10, 10, 0.5, seed=0)
    >>> proj = jn.Projection("E", "E", conn, 6.0, jn.AlphaReceptor(tau=2.0, E=0.0), delay=1.0)
    >>> proj.receptor.n_components
    2
    """

    pre: str = eqx.field(static=True)
    post: str = eqx.field(static=True)
    connectivity: Connectivity
    weight: Float[Array, "..."] = eqx.field(converter=jnp.asarray)
    receptor: AbstractReceptor
    scale: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)
    delay: float = eqx.field(static=True, default=0.0)
    name: str = eqx.field(static=True, default="")
    exact_onset: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if not (self.delay >= 0 and math.isfinite(self.delay)):
            raise ValueError(f"{self.pre}->{self.post}: delay must be >= 0 ms, got {self.delay}")
        if not isinstance(self.receptor, AbstractReceptor):
            raise TypeError(
                f"{self.pre}->{self.post}: receptor must be a receptor (ExponentialReceptor, "
                f"AlphaReceptor, NMDAReceptor), got {type(self.receptor).__name__}"
            )
        _check_weight(self, "projection")

    def init(self, V_pre, V_post, initial, dt, compensated):
        shape = (V_post.shape[0], self.receptor.n_components)
        dtype = V_post.dtype
        if initial is None:
            g = jnp.zeros(shape, dtype)
        else:
            g = jnp.asarray(initial, dtype)
            g = g[:, None] if g.shape == shape[:1] and shape[1] == 1 else g
            if g.shape != shape:
                raise ValueError(
                    f"g0 for {self.pre}->{self.post}: expected the receptor state of shape "
                    f"{shape} (nS), got {g.shape}"
                )
        delay_steps = int(round(self.delay / dt))
        pending = jnp.zeros((delay_steps, *shape), dtype) if delay_steps else None
        return g, pending

    def conductance(self, state, rows, V_pre, V_post):
        return self.receptor.open(state[0])

    def inputs(self, state, rows, V_pre, V_post):
        g = self.receptor.open(state[0]) * self.receptor.block(V_post)
        return (g, g * jnp.asarray(self.receptor.E, g.dtype)), None

    def after(self, state, rows, n, dt, crossed, lag, max_spikes):
        g, pending = state
        if self.exact_onset:  # (n_pre, c): the kick of each presynaptic neuron's spike
            kick = self.receptor.kick(lag).astype(g.dtype)
        else:  # (c,): one kick for every spike
            kick = self.receptor.kick(jnp.zeros((), g.dtype)).astype(g.dtype)
        sent = _deliver(crossed, rows, self.connectivity.n_post, max_spikes, kick)
        if pending is not None:  # what was sent D steps ago arrives; this step's waits
            slot = n % pending.shape[0]
            sent, pending = pending[slot], pending.at[slot].set(sent)
        return self.receptor.decay(g, dt) + sent, pending


class GradedProjection(AbstractProjection):
    """Graded chemical synapses (Abbott & Marder 1998; Prinz, Bucher & Marder 2004): each
    ``pre`` neuron releases transmitter continuously with its potential (`GradedRelease`:
    activation s per presynaptic neuron), and a synapse of weight w (nS) conducts w·s
    with reversal ``E`` (mV) onto its ``post`` neuron. As in `jaxneuron.Network`'s fixed
    step, s advances first, from V_pre(t_n), and the neurons then step with the new s.

    >>> import jaxneuron as jn
    >>> conn = jn.from_pairs([0], [0], 1, 1)
    >>> proj = jn.GradedProjection("AB", "LP", conn, 30.0, E=-70.0)
    >>> float(proj.release.k_minus)
    0.025
    """

    pre: str = eqx.field(static=True)
    post: str = eqx.field(static=True)
    connectivity: Connectivity
    weight: Float[Array, "..."] = eqx.field(converter=jnp.asarray)
    E: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    release: GradedRelease = eqx.field(default_factory=GradedRelease)
    scale: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)
    name: str = eqx.field(static=True, default="")

    def __check_init__(self):
        check_finite(f"graded projection {self.pre}->{self.post}: E (reversal potential)",
                     self.E, "mV")  # fmt: skip
        _check_weight(self, "graded projection")

    def init(self, V_pre, V_post, initial, dt, compensated):
        s = self.release.steady_state(V_pre) if initial is None else initial
        s = jnp.broadcast_to(jnp.asarray(s, V_pre.dtype), V_pre.shape)
        return s, jnp.zeros_like(s) if compensated else None

    def before(self, state, V_pre, dt):
        s, c = state
        return advance(s, self.release.increment(V_pre, s, dt), c)

    def inputs(self, state, rows, V_pre, V_post):
        targets, weight = rows
        n_pre = targets.shape[0] - 1
        G = _scatter(targets[:n_pre], weight[:n_pre] * state[0][:, None], V_post.shape[0])
        return (G, G * jnp.asarray(self.E, G.dtype)), None


class GapJunctionProjection(AbstractProjection):
    """Electrical synapses: each listed pair (i in ``pre``, j in ``post``) is a junction
    of conductance w (nS) passing g·(V_i − V_j) into j and the opposite into i. List
    each pair once (within one population, i → j and j → i would be two junctions).
    The partners' potentials are taken at t_n; each neuron's own is implicit.

    >>> import jaxneuron as jn
    >>> gj = jn.GapJunctionProjection("I", "I", jn.from_pairs([0], [1], 2, 2), 1.0)
    >>> gj.connectivity.n_synapses
    1
    """

    pre: str = eqx.field(static=True)
    post: str = eqx.field(static=True)
    connectivity: Connectivity
    weight: Float[Array, "..."] = eqx.field(converter=jnp.asarray)
    scale: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)
    name: str = eqx.field(static=True, default="")

    def __check_init__(self):
        _check_weight(self, "gap junctions")

    def init(self, V_pre, V_post, initial, dt, compensated):
        return ()

    def inputs(self, state, rows, V_pre, V_post):
        targets, weight = rows
        n_pre, n_post = targets.shape[0] - 1, V_post.shape[0]
        targets, weight = targets[:n_pre], weight[:n_pre]
        weight = jnp.where(targets < n_post, weight, 0.0)
        onto_post = (_scatter(targets, weight, n_post),
                     _scatter(targets, weight * V_pre[:, None], n_post))  # fmt: skip
        V_partner = jnp.concatenate([V_post, jnp.zeros((1,), V_post.dtype)])[targets]
        onto_pre = (jnp.sum(weight, axis=1), jnp.sum(weight * V_partner, axis=1))
        return onto_post, onto_pre


def _buckets(max_spikes: int) -> tuple[int, ...]:
    """The sizes of the sparse delivery: 8, 16, 32, … below ``max_spikes``, then it."""
    sizes, k = [], 8
    while k < max_spikes:
        sizes.append(k)
        k *= 2
    return (*sizes, max_spikes)


def _first_spikes(crossed, k: int):
    """The indices of the first ``k`` neurons that spiked, ascending, then ``n_pre`` (as
    ``jnp.nonzero(crossed, size=k, fill_value=n_pre)``), by a partial sort of float32
    scores (exact up to 2²⁴ neurons; XLA:CPU's top-k is fast for float32 only): XLA:CPU
    runs ``nonzero`` as a cumulative sum and a scatter over every neuron, several times
    slower."""
    n_pre = crossed.shape[0]
    if n_pre > 2**24:
        return jnp.nonzero(crossed, size=k, fill_value=n_pre)[0]
    score = jnp.where(crossed, -jnp.arange(n_pre, dtype=jnp.float32), -jnp.inf)
    value, ids = jax.lax.top_k(score, k)
    return jnp.where(value > -jnp.inf, ids, n_pre)


def _deliver(crossed, rows, n_post: int, max_spikes: int, kick):
    """Σ of weight × kick over the synapses of the neurons that spiked, per postsynaptic
    neuron (n_post, c): the rows of the spiking neurons only, gathered into the smallest
    of the sizes 8, 16, 32, … , ``max_spikes`` that holds them (the scatter's cost
    follows the spikes, not the bound), or every row when more than ``max_spikes``
    neurons spiked. Every path adds the same terms in the same order (padding rows add
    to a dropped target), so the result does not depend on the path. ``rows`` from
    `AbstractProjection.rows`; ``kick`` (c,) for every spike, or (n_pre, c) one per
    presynaptic neuron."""
    targets, weight = rows
    n_pre = targets.shape[0] - 1
    per_neuron = kick.ndim == 2
    if per_neuron:  # per presynaptic neuron (the padding row kicks nothing)
        kick = jnp.concatenate([kick, jnp.zeros((1, kick.shape[1]), kick.dtype)])

        def values(ids):
            return weight[ids][..., None] * kick[ids][:, None, :]

        scale = 1.0
    else:  # one kick: Σ weights, then × kick

        def values(ids):
            return weight[ids]

        scale = kick

    def sparse(k):
        def deliver(_):
            ids = _first_spikes(crossed, k)
            return _scatter(targets[ids], values(ids), n_post)

        return deliver

    def dense(_):
        v = values(slice(0, n_pre))
        mask = crossed.reshape(n_pre, *([1] * (v.ndim - 1)))
        return _scatter(targets[:n_pre], jnp.where(mask, v, 0.0), n_post)

    if max_spikes >= n_pre:
        out = dense(None)
    else:
        sizes = _buckets(max_spikes)
        count = jnp.sum(crossed, dtype=jnp.int32)
        which = jnp.sum(jnp.asarray(sizes, jnp.int32) < count)  # len(sizes): dense
        out = jax.lax.switch(which, [sparse(k) for k in sizes] + [dense], None)
    return out if per_neuron else out[:, None] * scale
