r"""Networks of conductance-based populations: many neurons of one structure, sparse
projections of event-driven conductance synapses, one fixed-step loop.

- A `Population` is ``n`` copies of one `ConductanceNeuron` whose chosen parameters are
  arrays of shape (n,) (heterogeneous) while the rest are shared: its step is one
  vmapped kinetics evaluation, so compile time does not grow with ``n``.
- A `Connectivity` holds a projection's synapses by presynaptic neuron: ``targets`` of
  shape (n_pre, width), padded with ``n_post``. `fixed_probability`, `fixed_indegree` and
  `from_pairs` build it (seeded).
- Projections (`AbstractProjection`) connect two populations: `Projection`, event-driven
  chemical synapses opening a receptor (`jaxneuron.receptors`: exponential, alpha, NMDA);
  because every synapse of a projection shares its kinetics, their states add up and
  the state is one receptor state per postsynaptic neuron. `GradedProjection`, graded
  transmitter release (one activation per presynaptic neuron); `GapJunctionProjection`,
  electrical synapses.
- `simulate_populations` advances everything with a fixed step Δt on
  `jaxneuron.integrate.fixed_step_loop`:

  1. graded projections advance their activation from the potentials at t_n;
  2. every neuron takes its exponential-Euler step (`ConductanceNeuron.fixed_step`) with
     the synaptic current I = Σ G (E − V) included exactly in the membrane update
     (G in nS converted to mS/cm² through the neurons' membrane ``area``);
  3. a spike is an upward crossing of ``threshold`` (mV) within the step, its time
     interpolated linearly;
  4. the receptors decay exactly over Δt, and each spike opens its synapses' receptors
     (adds its weight to the state) at the end of the step, or ``delay`` (rounded to
     whole steps) later: the effect of a spike in (t_n, t_{n+1}] starts at
     t_{n+1+D}, so spike times are first-order accurate in Δt.

  Delivery gathers only the rows of the neurons that spiked (at most
  ``max_spikes_per_step`` per population and step; a step with more takes every row).
  Per neuron the loop counts spikes and sums inter-spike intervals online, after
  ``start``; with ``raster=True`` it also keeps every spike's time and neuron.

>>> import jaxneuron as jn
>>> exc = jn.Population(jn.build_TraubMiles(), 100, name="E")
>>> conn = jn.fixed_probability(100, 100, 0.05, seed=0)
>>> net = jn.PopulationNetwork(
...     (exc,), (jn.Projection("E", "E", conn, 6.0, jn.ExponentialReceptor(5.0, 0.0)),))
>>> sol = jn.simulate_populations(net, 50.0, dt=0.1)
>>> sol.counts["E"].shape
(100,)
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ._numerics import advance, crossing_fraction
from ._protocols import AbstractNamedParameters
from ._validation import check_finite, check_nonnegative, check_positive, is_concrete
from .integrate import (
    AbstractObserver,
    FastSigmoid,
    fixed_step_loop,
    needs_compensation,
    steps_in,
)
from .network import Network
from .neurons import ConductanceNeuron, as_dtype, build_TraubMiles
from .parameters import get_parameter, run_checks, set_parameters
from .parameters import population as batched_population
from .receptors import AbstractReceptor, ExponentialReceptor, GradedRelease
from .stimuli import as_stimulus
from .synapses import GapJunctions, GradedSynapses
from .units import Geometry

#: µm² in one cm²
UM2_PER_CM2 = 1e8


class Population(eqx.Module):
    """``n`` neurons of one structure: ``neuron`` with the parameters named in ``values``
    (name → array (n,), see `jaxneuron.parameters`) batched and every other parameter
    shared; ``stimulus`` (µA/cm²), if given, is one stimulus per neuron (each of its
    parameters an array (n,), e.g. ``Constant(jnp.linspace(0, 2, n))``). ``name`` labels
    the population in projections and results.

    >>> import jax.numpy as jnp, jaxneuron as jn
    >>> pop = jn.Population(jn.build_HH(), 3, {"Na.g": jnp.asarray([100.0, 110.0, 120.0])})
    >>> pop.neuron.channel("Na").g.shape, pop.neuron.channel("K").g.shape
    ((3,), ())
    """

    neuron: ConductanceNeuron
    axes: ConductanceNeuron = eqx.field(static=True)
    n: int = eqx.field(static=True)
    name: str = eqx.field(static=True)

    def __init__(
        self, neuron, n: int, values: Mapping | None = None, *, stimulus=None, name: str = "pop"
    ):
        if not isinstance(neuron, ConductanceNeuron):
            raise TypeError(f"a Population holds ConductanceNeurons, got {type(neuron).__name__}")
        if int(n) < 1:
            raise ValueError(f"{name}: n (population size) must be >= 1, got {n}")
        values = {k: jnp.asarray(v) for k, v in (values or {}).items()}
        for key, value in values.items():
            if value.shape != (int(n),):
                raise ValueError(
                    f"{name}: values[{key!r}] must have shape ({n},), got {value.shape}"
                )
        if values:
            neuron, axes = batched_population(neuron, values)
        else:
            axes = jax.tree_util.tree_map(lambda _: None, neuron)
        if stimulus is not None:  # one stimulus per neuron: its leaves are arrays (n,)
            stimulus = as_stimulus(stimulus)
            for leaf in jax.tree_util.tree_leaves(stimulus):
                if jnp.shape(leaf)[:1] != (int(n),):
                    raise ValueError(
                        f"{name}: every parameter of the stimulus needs a leading axis of "
                        f"{n} (one per neuron), got shape {jnp.shape(leaf)}"
                    )
            neuron = eqx.tree_at(lambda m: m.stimulus, neuron, stimulus)
            stim_axes = jax.tree_util.tree_map(lambda _: 0, stimulus)
            axes = eqx.tree_at(lambda a: a.stimulus, axes, stim_axes)
        self.neuron, self.axes = neuron, axes
        self.n, self.name = int(n), name

    def initial_state(self, V0=None) -> tuple[Array, ...]:
        """The state tuple, each entry of shape (n,): every neuron from ``V0`` (mV; a
        number or an array (n,); default the neuron's) with gates at steady state."""
        V0 = jnp.broadcast_to(jnp.asarray(self.neuron.V0 if V0 is None else V0), (self.n,))
        init = jax.vmap(lambda m, v: tuple(m.initial_state(V0=v)), in_axes=(self.axes, 0))
        return tuple(init(self.neuron, V0))


class Connectivity(eqx.Module):
    """A projection's synapses by presynaptic neuron: row i of ``targets`` (n_pre, width)
    lists the postsynaptic neurons of neuron i, padded with ``n_post``."""

    targets: Int[Array, "n_pre width"]
    n_post: int = eqx.field(static=True)

    @property
    def n_pre(self) -> int:
        return self.targets.shape[0]

    @property
    def n_synapses(self) -> int:
        return int(np.sum(np.asarray(self.targets) < self.n_post))

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(pre, post) index arrays of every synapse."""
        targets = np.asarray(self.targets)
        pre, slot = np.nonzero(targets < self.n_post)
        return pre, targets[pre, slot]


def _padded(rows: list[np.ndarray], n_post: int) -> Connectivity:
    width = max((len(r) for r in rows), default=0)
    targets = np.full((len(rows), max(width, 1)), n_post, np.int32)
    for i, r in enumerate(rows):
        targets[i, : len(r)] = r
    return Connectivity(jnp.asarray(targets), n_post)


def from_pairs(pre, post, n_pre: int, n_post: int) -> Connectivity:
    """Synapses from explicit (pre, post) index lists."""
    pre, post = np.asarray(pre, np.int64), np.asarray(post, np.int64)
    if pre.shape != post.shape or pre.ndim != 1:
        raise ValueError(f"pre and post must be 1-D of equal length, got {pre.shape}, {post.shape}")
    if pre.size and not (0 <= pre.min() and pre.max() < n_pre):
        raise ValueError(f"pre indices must lie in 0 … {n_pre - 1}")
    if post.size and not (0 <= post.min() and post.max() < n_post):
        raise ValueError(f"post indices must lie in 0 … {n_post - 1}")
    order = np.argsort(pre, kind="stable")
    pre, post = pre[order], post[order]
    bounds = np.searchsorted(pre, np.arange(n_pre + 1))
    return _padded([post[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)], n_post)


def fixed_probability(
    n_pre: int, n_post: int, p: float, *, seed: int, autapses: bool = True
) -> Connectivity:
    """Every (pre, post) pair connected independently with probability ``p`` (seeded).
    ``autapses=False`` leaves out i → i (for a population projecting onto itself)."""
    if not 0 <= p <= 1:
        raise ValueError(f"p (connection probability) must lie in [0, 1], got {p}")
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_pre):
        # the gaps between successes of Bernoulli(p) trials are geometric
        expected = n_post * p
        k = int(expected + 6 * math.sqrt(expected + 1) + 8)
        while True:
            hits = np.cumsum(rng.geometric(p, size=k)) - 1 if p > 0 else np.empty(0, int)
            if p == 0 or hits[-1] >= n_post:
                break
            k *= 2
        hits = hits[hits < n_post]
        rows.append(hits if autapses else hits[hits != i])
    return _padded(rows, n_post)


def fixed_indegree(
    n_pre: int, n_post: int, k: int, *, seed: int, autapses: bool = True
) -> Connectivity:
    """Every postsynaptic neuron receives exactly ``k`` synapses from distinct presynaptic
    neurons drawn uniformly (seeded)."""
    if not 0 <= k <= n_pre - (0 if autapses else 1):
        raise ValueError(f"k (in-degree) must lie in 0 … {n_pre}, got {k}")
    rng = np.random.default_rng(seed)
    pool = n_pre if autapses else n_pre - 1
    pre = rng.integers(0, pool, size=(n_post, k))
    while True:  # redraw the rows with a repeated source (rare when k ≪ n_pre)
        ordered = np.sort(pre, axis=1)
        repeated = np.flatnonzero(np.any(ordered[:, 1:] == ordered[:, :-1], axis=1))
        if repeated.size == 0:
            break
        pre[repeated] = rng.integers(0, pool, size=(repeated.size, k))
    if not autapses:
        pre = pre + (pre >= np.arange(n_post)[:, None])
    post = np.repeat(np.arange(n_post), k)
    return from_pairs(pre.ravel(), post, n_pre, n_post)


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

    def after(self, state, rows, n, dt, crossed, max_spikes: int):
        """The state after the neurons' step, given the presynaptic spikes (default: as is)."""
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
    onset is late by up to one step (first order in Δt).

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

    def inputs(self, state, rows, V_pre, V_post):
        g = self.receptor.open(state[0]) * self.receptor.block(V_post)
        return (g, g * jnp.asarray(self.receptor.E, g.dtype)), None

    def after(self, state, rows, n, dt, crossed, max_spikes):
        g, pending = state
        kick = self.receptor.kick(jnp.zeros((), g.dtype)).astype(g.dtype)
        sent = _deliver(crossed, rows, self.connectivity.n_post, max_spikes)[:, None] * kick
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
    release: GradedRelease = GradedRelease()
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


class PopulationNetwork(AbstractNamedParameters):
    """Populations and the projections between them. ``area`` (µm²) is every neuron's
    membrane area, which converts synaptic conductances (nS) to densities (mS/cm²).
    Its parameters have names (`get_parameter`), so `jaxneuron.parameters`, sweeps and
    `jaxneuron.fit.fit` address them as they do a neuron's."""

    populations: tuple[Population, ...]
    projections: tuple[AbstractProjection, ...]
    area: float = eqx.field(static=True, default=20_000.0)
    name: str = eqx.field(static=True, default="populations")

    def __check_init__(self):
        for k, proj in enumerate(self.projections):
            if not isinstance(proj, AbstractProjection):
                raise TypeError(
                    f"projections[{k}] is a {type(proj).__name__}, not a projection "
                    "(Projection, GradedProjection, GapJunctionProjection)"
                )
        names = [p.name for p in self.populations]
        if len(set(names)) != len(names):
            raise ValueError(f"population names must be distinct, got {names}")
        sizes = dict(zip(names, (p.n for p in self.populations), strict=True))
        for proj in self.projections:
            for end in (proj.pre, proj.post):
                if end not in sizes:
                    raise ValueError(f"projection {proj.pre}->{proj.post}: no population {end!r}")
            conn = proj.connectivity
            if conn.n_pre != sizes[proj.pre] or conn.n_post != sizes[proj.post]:
                raise ValueError(
                    f"projection {proj.pre}->{proj.post}: connectivity is {conn.n_pre}×"
                    f"{conn.n_post}, populations are {sizes[proj.pre]}×{sizes[proj.post]}"
                )
        check_positive("PopulationNetwork.area (membrane area)", self.area, "µm²")

    @classmethod
    def from_network(cls, network: Network) -> PopulationNetwork:
        """The circuit ``network`` (`jaxneuron.build_network`, `jaxneuron.pyloric_circuit`)
        as populations of one: each neuron a `Population` of one with its name, each
        graded synapse a `GradedProjection` and each gap junction a
        `GapJunctionProjection`, over the same membrane area. `simulate_populations`
        then takes the steps of `jaxneuron.Network.fixed_step`, in the same order.

        >>> import jaxneuron as jn
        >>> net = jn.PopulationNetwork.from_network(jn.pyloric_circuit())
        >>> net.names, len(net.projections)
        (('AB/PD', 'LP', 'PY'), 7)
        """
        cells = network.neuron_names
        one = from_pairs([0], [0], 1, 1)
        projections = []
        for group in network.synapses:
            n = len(group.names)
            g = jnp.broadcast_to(group.g, (n,))
            if isinstance(group, GradedSynapses):
                E, V_th, Delta, k_minus = (
                    jnp.broadcast_to(x, (n,))
                    for x in (group.E, group.V_th, group.Delta, group.k_minus)
                )
                projections.extend(
                    GradedProjection(cells[a], cells[b], one, g[i], E[i],
                                     GradedRelease(V_th[i], Delta[i], k_minus[i]),
                                     name=group.names[i])
                    for i, (a, b) in enumerate(zip(group.pre, group.post, strict=True))
                )  # fmt: skip
            elif isinstance(group, GapJunctions):
                projections.extend(
                    GapJunctionProjection(cells[a], cells[b], one, g[i], name=group.names[i])
                    for i, (a, b) in enumerate(zip(group.a, group.b, strict=True))
                )
            else:
                raise TypeError(f"no population projection for {type(group).__name__}")
        populations = tuple(
            Population(neuron, 1, name=name)
            for neuron, name in zip(network.neurons, cells, strict=True)
        )
        area = float(network.geometry.area_cm2) * UM2_PER_CM2
        return cls(populations, tuple(projections), area=area)

    def to_network(self, name: str = "network") -> Network:
        """This network as a `jaxneuron.Network` of single neurons, for `jaxneuron.simulate`
        and its adaptive solvers: neuron i of population ``P`` is named ``"P[i]"`` (``"P"``
        in a population of one), graded projections become `GradedSynapses` and gap
        junctions `GapJunctions` (one per synapse, strength = scale·weight, named
        ``"<label>[i->j]"``, or the label for a single synapse). Spike-driven projections
        have no such form (a `Network` has no events): they raise a TypeError. Meant for
        small networks: the circuit holds every neuron separately.

        >>> import jaxneuron as jn
        >>> net = jn.PopulationNetwork.from_network(jn.pyloric_circuit()).to_network()
        >>> net.neuron_names
        ('AB/PD', 'LP', 'PY')
        """
        cells, offset = [], {}
        for pop in self.populations:
            offset[pop.name] = len(cells)
            for i in range(pop.n):
                one = jax.tree_util.tree_map(
                    lambda ax, x, i=i: x if ax is None else x[i],
                    pop.axes, pop.neuron, is_leaf=lambda x: x is None,
                )  # fmt: skip
                cells.append((pop.name if pop.n == 1 else f"{pop.name}[{i}]", one))
        graded, junctions = [], []
        for proj in self.projections:
            if isinstance(proj, Projection):
                raise TypeError(
                    f"projection {proj.label}: spike-driven synapses have no form for the "
                    "adaptive solvers; simulate this network with simulate_populations"
                )
            pre, post = proj.connectivity.pairs()
            weight = np.broadcast_to(np.asarray(proj.weight), proj.connectivity.targets.shape)
            rows = np.nonzero(np.asarray(proj.connectivity.targets) < proj.connectivity.n_post)
            weight = weight[rows] * float(proj.scale)
            for i, j, w in zip(pre, post, weight, strict=True):
                label = proj.label if len(pre) == 1 else f"{proj.label}[{i}->{j}]"
                ends = (offset[proj.pre] + int(i), offset[proj.post] + int(j))
                (graded if isinstance(proj, GradedProjection) else junctions).append(
                    (label, ends, float(w), proj)
                )
        groups = []
        if graded:
            release = [p.release for *_, p in graded]
            groups.append(GradedSynapses(
                g=jnp.asarray([w for _, _, w, _ in graded]),
                E=jnp.asarray([p.E for *_, p in graded]),
                V_th=jnp.asarray([r.V_th for r in release]),
                Delta=jnp.asarray([r.Delta for r in release]),
                k_minus=jnp.asarray([r.k_minus for r in release]),
                pre=tuple(e[0] for _, e, _, _ in graded),
                post=tuple(e[1] for _, e, _, _ in graded),
                names=tuple(label for label, *_ in graded),
            ))  # fmt: skip
        if junctions:
            groups.append(GapJunctions(
                g=jnp.asarray([w for _, _, w, _ in junctions]),
                a=tuple(e[0] for _, e, _, _ in junctions),
                b=tuple(e[1] for _, e, _, _ in junctions),
                names=tuple(label for label, *_ in junctions),
            ))  # fmt: skip
        return Network(
            neurons=tuple(c for _, c in cells),
            synapses=tuple(groups),
            geometry=Geometry(area_cm2=self.area / UM2_PER_CM2),
            neuron_names=tuple(n for n, _ in cells),
            name=name,
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.populations)

    def population(self, name: str) -> Population:
        return self.populations[self.names.index(name)]

    def _where(self, name: str):
        """A function locating the scalar leaf ``name`` in a network like this one."""
        head, _, rest = name.partition(".")
        if head in self.names and rest:
            k = self.names.index(head)
            get_parameter(self.populations[k].neuron, rest)  # a shared scalar, or a clear error
            return lambda net: net.populations[k].neuron, rest
        labels = [p.label for p in self.projections]
        if head in labels and rest:
            if labels.count(head) > 1:
                raise KeyError(f"{name!r}: several projections are labelled {head!r}; name them")
            k = labels.index(head)

            def where(net):
                obj = net.projections[k]
                for part in rest.split("."):
                    obj = getattr(obj, part)
                return obj

            try:
                leaf = where(self)
            except AttributeError:
                leaf = None
            if not (eqx.is_inexact_array(leaf) and jnp.ndim(leaf) == 0):
                raise KeyError(f"{name!r} is not a scalar parameter of projection {head!r}")
            return where, None
        raise KeyError(
            f"no parameter {name!r}: names are '<population>.<neuron parameter>' "
            f"(populations: {list(self.names)}) or '<projection>.<field>' "
            f"(projections: {labels})"
        )

    def parameters(self) -> dict:
        """Every scalar parameter by name: each population's shared neuron parameters and
        each projection's scalar fields (see `get_parameter`)."""
        out = {}
        for pop in self.populations:
            for key, value in pop.neuron.parameters().items():
                if jnp.ndim(value) == 0:
                    out[f"{pop.name}.{key}"] = value
        for proj in self.projections:
            out.update({f"{proj.label}.{path}": v for path, v in _scalar_fields(proj)})
        return out

    def get_parameter(self, name: str) -> Array:
        """The value of the scalar parameter ``name``: ``"<population>.<neuron
        parameter>"`` (one shared by the population, e.g. ``"E.Na.g"``) or
        ``"<projection label>.<field path>"`` (e.g. ``"E->I.scale"``,
        ``"E->E.receptor.tau"``)."""
        where, rest = self._where(name)
        return where(self) if rest is None else get_parameter(where(self), rest)

    def set_parameters(self, values: Mapping) -> PopulationNetwork:
        """A copy with the named scalar parameters (see `get_parameter`) replaced, each
        cast to its leaf's dtype; works on traced values (under `jax.vmap`, a batch of
        networks).

        >>> import jaxneuron as jn
        >>> net, _, _ = jn.cobahh(100, seed=0)
        >>> float(net.set_parameters({"E->I.scale": 2.0}).get_parameter("E->I.scale"))
        2.0
        """
        net = self
        for name, value in values.items():
            where, rest = net._where(name)
            if rest is None:
                net = eqx.tree_at(
                    where, net, replace_fn=lambda old, v=value: jnp.asarray(v, old.dtype)
                )
            else:
                net = eqx.tree_at(where, net, set_parameters(where(net), {rest: value}))
        if all(is_concrete(v) for v in values.values()):
            # the constructors' checks (a negative weight, …), on real values
            run_checks(net.projections)
            run_checks([pop.neuron for pop in net.populations])
        return net


def _scalar_fields(module, prefix: str = ""):
    """(dotted path, value) of every scalar float leaf of ``module``, through nested
    modules (not the connectivity)."""
    for field in dataclasses.fields(module):
        value = getattr(module, field.name)
        if eqx.is_inexact_array(value) and jnp.ndim(value) == 0:
            yield prefix + field.name, value
        elif isinstance(value, eqx.Module) and not isinstance(value, Connectivity):
            yield from _scalar_fields(value, f"{prefix}{field.name}.")


class PopulationSolution(eqx.Module):
    """What `simulate_populations` returns, per population name: ``counts`` (spikes per
    neuron after ``start``), ``isi_sum`` and ``isi_sumsq`` (ms, ms²; intervals between
    spikes after ``start``), ``windowed`` (Σ over the spikes after ``start`` of the Hann
    window sin²(π(t_s − start)/(t1 − start)); see `smooth_rate`), ``soft_counts``
    (``counts`` as floats; with a ``surrogate``, carrying its gradient), ``raster``
    (``(times, neurons, complete)``: the kept spikes, in order, and whether they are all
    the spikes after ``start``; None unless asked), ``states`` (population → state name →
    the recorded values, (n_saves, n_recorded); `V` for the membrane potential), ``ts``
    (save times), ``finite`` (every state finite at the
    end: False when the integration blew up) and ``duration`` (ms analysed)."""

    counts: dict
    isi_sum: dict
    isi_sumsq: dict
    windowed: dict
    soft_counts: dict
    raster: dict | None
    states: dict
    ts: Array
    finite: Array
    duration: float = eqx.field(static=True)

    @property
    def V(self) -> dict:
        """Recorded membrane potentials (mV): population → (n_saves, n_recorded)."""
        return {name: states["V"] for name, states in self.states.items() if "V" in states}

    def rate(self, name: str) -> Array:
        """Mean firing rate (Hz) of the population ``name``."""
        return jnp.mean(self.counts[name]) * 1000.0 / self.duration

    def smooth_rate(self, name: str) -> Array:
        """A mean firing rate (Hz) of the population ``name`` that moves continuously with
        the spike times: each spike after ``start`` counts with the Hann window
        sin²(π(t_s − start)/(t1 − start)) (whose mean is 1/2), so it equals `rate` for
        spikes spread evenly over the window. Its derivative w.r.t. any parameter is the
        exact derivative of the interpolated spike times t_s, with no surrogate: a spike
        that appears or vanishes (a jump) is invisible to AD, and spikes that enter or
        leave the window do so with weight 0."""
        return 2.0 * jnp.mean(self.windowed[name]) * 1000.0 / self.duration

    def soft_rate(self, name: str) -> Array:
        """`rate` computed from ``soft_counts``: the same value; with a ``surrogate`` in
        `simulate_populations`, its gradient is the surrogate gradient of the rate."""
        return jnp.mean(self.soft_counts[name]) * 1000.0 / self.duration

    def isi_cv(self, name: str, min_spikes: int = 3) -> Array:
        """Mean over the neurons with at least ``min_spikes`` spikes of the coefficient
        of variation of their inter-spike intervals (NaN if none)."""
        n = self.counts[name] - 1
        ok = self.counts[name] >= min_spikes
        safe = jnp.maximum(n, 1)
        mean = self.isi_sum[name] / safe
        var = jnp.maximum(self.isi_sumsq[name] / safe - mean**2, 0.0)
        cv = jnp.where(ok, jnp.sqrt(var) / jnp.where(ok, mean, 1.0), 0.0)
        return jnp.sum(cv) / jnp.where(jnp.any(ok), jnp.sum(ok), jnp.nan)


class _SpikeStats(AbstractObserver):
    """Per neuron of each population: spike count, last spike, Σ ISI, Σ ISI² and the
    Hann-weighted count Σ sin²(π(t_s − start)/(stop − start)) after ``start``; with
    ``keep`` > 0, also the first ``keep`` spikes (time, neuron) of each population, at
    most ``per_step`` per step."""

    start: float = eqx.field(static=True)
    stop: float = eqx.field(static=True)
    keep: int = eqx.field(static=True)
    per_step: int = eqx.field(static=True)

    def init(self, t0, carry):
        ys = carry[0]
        dtype = ys[0][0].dtype
        state = []
        for y in ys:
            n = y[0].shape
            stats = (
                jnp.zeros(n, jnp.int32),
                jnp.full(n, jnp.nan, dtype),
                jnp.zeros(n, dtype),
                jnp.zeros(n, dtype),
                jnp.zeros(n, dtype),
                jnp.zeros(n, dtype),
            )
            if self.keep:
                size = self.keep + self.per_step
                stats += (
                    jnp.asarray(0, jnp.int32),
                    jnp.full((size,), jnp.nan, dtype),
                    jnp.full((size,), -1, jnp.int32),
                )
            state.append(stats)
        return tuple(state)

    def update(self, state, ts, carries, events):
        out = []
        for k, stats in enumerate(state):
            count, last, s1, s2, hann, soft_count, *kept = stats
            for event in events:
                crossed, t_spike, soft = event[0][k], event[1][k], event[2][k]
                spike = crossed & (t_spike >= self.start)
                soft_count = soft_count + jnp.where(t_spike >= self.start, soft, 0.0)
                isi = jnp.where(spike & (count > 0), t_spike - last, 0.0)
                count = count + spike
                last = jnp.where(spike, t_spike, last)
                s1, s2 = s1 + isi, s2 + isi * isi
                phase = jnp.pi * (t_spike - self.start) / (self.stop - self.start)
                hann = hann + jnp.where(spike, jnp.sin(phase) ** 2, 0.0)
                if kept:
                    kept = self._keep(kept, spike, t_spike)
            out.append((count, last, s1, s2, hann, soft_count, *kept))
        return tuple(out)

    def _keep(self, kept, spike, t_spike):
        cursor, times, ids = kept
        (idx,) = jnp.nonzero(spike, size=self.per_step, fill_value=-1)
        at = jnp.minimum(cursor, self.keep)
        new_t = jnp.where(idx >= 0, t_spike[jnp.maximum(idx, 0)], jnp.nan)
        times = jax.lax.dynamic_update_slice(times, new_t.astype(times.dtype), (at,))
        ids = jax.lax.dynamic_update_slice(ids, idx.astype(jnp.int32), (at,))
        added = jnp.minimum(jnp.sum(spike), self.per_step).astype(cursor.dtype)
        return cursor + added, times, ids


def _deliver(crossed, rows, n_post: int, max_spikes: int):
    """Σ of the weights of the synapses of the neurons that spiked, per postsynaptic
    neuron (nS): the spiking rows only, or every row when more than ``max_spikes``
    neurons spiked. ``rows`` from `AbstractProjection.rows`."""
    targets, weight = rows
    n_pre = targets.shape[0] - 1

    def sparse(_):
        (ids,) = jnp.nonzero(crossed, size=max_spikes, fill_value=n_pre)
        return _scatter(targets[ids], weight[ids], n_post)

    def dense(_):
        masked = jnp.where(crossed[:, None], weight[:n_pre], 0.0)
        return _scatter(targets[:n_pre], masked, n_post)

    if max_spikes >= n_pre:
        return dense(None)
    return jax.lax.cond(jnp.sum(crossed) > max_spikes, dense, sparse, None)


def _raster(counts, cursor, times, ids, keep):
    # complete: no step had more spikes than it could keep, and all fitted in ``keep``
    complete = (jnp.sum(counts).astype(cursor.dtype) == cursor) & (cursor <= keep)
    return times[:keep], ids[:keep], complete


def simulate_populations(
    net: PopulationNetwork,
    t1: float,
    *,
    dt: float = 0.1,
    y0: Mapping | None = None,
    g0: Sequence | None = None,
    threshold: float = -20.0,
    refractory: float = 0.0,
    start: float = 0.0,
    record: Mapping | None = None,
    record_states: Sequence[str] = ("V",),
    save_every: float | None = None,
    raster: int = 0,
    max_spikes_per_step: int | None = None,
    compensated: bool | None = None,
    surrogate: FastSigmoid | None = None,
) -> PopulationSolution:
    """Simulate ``net`` for ``t1`` ms with the fixed step ``dt`` (ms); see the module.

    - ``y0``: population name → state tuple (arrays (n,)); default `Population.initial_state`.
    - ``g0``: initial projection states, one entry per projection (None: the default):
      a `Projection`'s receptor state (n_post, n_components) in nS, or (n_post,) when
      it has one component (default 0); a `GradedProjection`'s activation s (n_pre,)
      (default s∞ of the initial V_pre).
    - ``threshold`` (mV): a spike is an upward crossing. With ``refractory`` > 0 (ms) the
      rule is Brian2's ``threshold="v > θ", refractory=…``: a spike whenever V ≥ θ at the
      end of a step and the neuron's last spike is at least ``refractory`` ago (so a
      crossing within it is no spike, and V held above θ spikes again after it).
    - ``start`` (ms): spike statistics count from here.
    - ``record``: population name → indices of neurons whose ``record_states`` (state
      names, default V; `PopulationSolution.states`) are saved every ``save_every`` ms
      (default ``dt``); ``raster``: keep the first ``raster`` spikes
      (time, neuron) of each population after ``start`` (at most
      ``max_spikes_per_step`` per step; `PopulationSolution.raster` says if any were
      lost).
    - ``surrogate``: a `jaxneuron.FastSigmoid` gives the spike counts a surrogate
      gradient (a spike is H(V − θ) forward and 1/(1 + slope·|V − θ|)² backward; Zenke
      & Ganguli 2018), read through `PopulationSolution.soft_rate`. The synapses still
      deliver the spikes without it: routed through them, the surrogate's gradient grows
      without bound in a recurrent conductance-based network. Forward values are
      unchanged.
    - ``max_spikes_per_step``: spikes per population and step delivered by gathering
      their rows (more take the dense path, with the same result); default 64 plus 1 %
      of the largest population (100 Hz at Δt = 0.1 ms).
    """
    check_positive("t1 (simulated time)", t1, "ms")
    check_positive("dt (fixed step)", dt, "ms")
    check_finite("threshold (spike threshold)", threshold, "mV")
    if not refractory >= 0:
        raise ValueError(f"refractory (refractory period) must be >= 0 ms, got {refractory}")
    n_steps = steps_in(t1, dt, "t1 (simulated time)")
    check_nonnegative("start (analysis start)", start, "ms")
    if not start < t1:
        raise ValueError(f"start (analysis start, {start} ms) must be before t1 ({t1} ms)")
    check_y0(net, y0)
    raster = _count("raster (spikes kept per population)", raster, 0)
    if max_spikes_per_step is not None:
        max_spikes_per_step = _count("max_spikes_per_step", max_spikes_per_step, 1)
    record = {k: tuple(int(i) for i in v) for k, v in (record or {}).items()}
    for name in record:
        if name not in net.names:
            raise KeyError(f"record: no population {name!r} (populations: {net.names})")
        known = net.population(name).neuron.state_names
        for state in record_states:
            if state not in known:
                raise KeyError(f"record_states: population {name!r} has no state {state!r} "
                               f"(states: {known})")  # fmt: skip
        n = net.population(name).n
        if any(not 0 <= i < n for i in record[name]):
            raise ValueError(f"record[{name!r}]: indices must lie in 0 … {n - 1}")
    record = tuple(
        (name, idx, tuple(net.population(name).neuron.state_names.index(x) for x in record_states))
        for name, idx in sorted(record.items())
    )
    stride = steps_in(save_every, dt, "save_every (save interval)") if save_every else 1
    if max_spikes_per_step is None:
        max_spikes_per_step = 64 + max(p.n for p in net.populations) // 100
    return _simulate(net, float(t1), float(dt), n_steps, y0, g0, float(threshold),
                     float(refractory), float(start), record, tuple(record_states), stride,
                     int(raster),
                     int(max_spikes_per_step), compensated, surrogate)  # fmt: skip


def _count(name: str, value, least: int) -> int:
    """``value`` as an int >= ``least``, or a ValueError naming ``name``."""
    try:
        whole = not isinstance(value, bool) and float(value) == int(value)
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole or int(value) < least:
        raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")
    return int(value)


def check_y0(net: PopulationNetwork, y0) -> None:
    """``y0`` names populations of ``net``, each with one array (n,) per state."""
    for name, state in (y0 or {}).items():
        if name not in net.names:
            raise KeyError(f"y0: no population {name!r} (populations: {net.names})")
        pop = net.population(name)
        states = pop.neuron.state_names
        if len(state) != len(states):
            raise ValueError(
                f"y0[{name!r}]: one array per state {states}, got {len(state)} entries"
            )
        for state_name, x in zip(states, state, strict=True):
            if jnp.shape(x) != (pop.n,):
                raise ValueError(
                    f"y0[{name!r}]: state {state_name!r} must have shape ({pop.n},) (one value "
                    f"per neuron), got {jnp.shape(x)}"
                )
            check_finite(f"y0[{name!r}] state {state_name!r}", x, "")


@eqx.filter_jit
def _simulate(net, t1, dt, n_steps, y0, g0, threshold, refractory, start, record, state_names,
              stride, raster, max_spikes, compensated, surrogate):  # fmt: skip
    names = net.names
    pops = net.populations
    projs = net.projections
    index = {name: k for k, name in enumerate(names)}
    dtype = jnp.result_type(pops[0].neuron.C)
    y0 = dict(y0 or {})
    ys = tuple(
        tuple(jnp.asarray(x, dtype) for x in y0.get(p.name, p.initial_state())) for p in pops
    )
    comp = needs_compensation(dtype, compensated)
    cs = tuple(tuple(jnp.zeros_like(x) for x in y) for y in ys) if comp else None
    to_density = 1e-6 / (net.area / UM2_PER_CM2)  # nS → mS/cm²
    dt_ = jnp.asarray(dt, dtype)
    rows = tuple(p.rows(dtype) for p in projs)
    g0 = (None,) * len(projs) if g0 is None else tuple(g0)
    if len(g0) != len(projs):
        raise ValueError(f"g0: one entry per projection ({len(projs)}), got {len(g0)}")
    states = tuple(
        p.init(ys[index[p.pre]][0], ys[index[p.post]][0], g0[i],
               dt, comp)
        for i, p in enumerate(projs)
    )  # fmt: skip

    def synaptic_inputs(states, V):
        G = [jnp.zeros((p.n,), dtype) for p in pops]
        J = [jnp.zeros((p.n,), dtype) for p in pops]
        for proj, state, r in zip(projs, states, rows, strict=True):
            pre, post = index[proj.pre], index[proj.post]
            onto_post, onto_pre = proj.inputs(state, r, V[pre], V[post])
            for k, onto in ((post, onto_post), (pre, onto_pre)):
                if onto is not None:
                    G[k], J[k] = G[k] + onto[0], J[k] + onto[1]
        return [g * to_density for g in G], [j * to_density for j in J]

    def step(t, carry):
        ys, cs, states, lasts = carry
        n = jnp.round(t / dt_).astype(jnp.int32)  # this step's index
        V = [y[0] for y in ys]
        states = tuple(
            p.before(s, V[index[p.pre]], dt_) for p, s in zip(projs, states, strict=True)
        )
        G, J = synaptic_inputs(states, V)
        new_ys, new_cs, crossed, t_spike, soft, new_lasts = [], [], [], [], [], []
        for k, pop in enumerate(pops):
            one = jax.vmap(
                lambda m, y, c, G, J: m.fixed_step(t, y, dt_, c, inputs=(G, J)),
                in_axes=(pop.axes, 0, None if cs is None else 0, 0, 0),
            )
            y, c = one(pop.neuron, ys[k], None if cs is None else cs[k], G[k], J[k])
            V_old, V_new = ys[k][0], y[0]
            below = V_old < threshold
            frac = jnp.where(below, crossing_fraction(V_old, V_new, threshold), 1.0)
            when = t + frac * dt_
            if refractory > 0:
                up = (V_new >= threshold) & (when - lasts[k] >= refractory)
            else:
                up = below & (V_new >= threshold)
            new_ys.append(tuple(y))
            new_cs.append(c)
            crossed.append(up)
            t_spike.append(when)
            if surrogate is None:
                soft.append(up.astype(dtype))
            else:  # forward: exactly ``up``; backward: the surrogate's derivative
                allowed = (when - lasts[k] >= refractory) if refractory > 0 else below
                soft.append(surrogate(V_new - threshold) * allowed.astype(dtype))
            new_lasts.append(jnp.where(up, when, lasts[k]))
        states = tuple(
            p.after(
                s,
                r,
                n,
                dt_,
                crossed[index[p.pre]],
                max_spikes,
            )
            for p, s, r in zip(projs, states, rows, strict=True)
        )
        carry = (
            tuple(new_ys),
            None if cs is None else tuple(new_cs),
            states,
            tuple(new_lasts),
        )
        return carry, (tuple(crossed), tuple(t_spike), tuple(soft))

    def save(carry):
        ys = carry[0]
        return {
            name: {
                state: ys[index[name]][i][jnp.asarray(idx)]
                for state, i in zip(state_names, which, strict=True)
            }
            for name, idx, which in record
        }

    observer = _SpikeStats(start, t1, raster, max_spikes)
    carry, stats, saved = fixed_step_loop(
        step,
        (ys, cs, states, tuple(jnp.full((p.n,), -jnp.inf, dtype) for p in pops)),
        t0=jnp.zeros((), dtype),
        dt=dt_,
        n_steps=n_steps,
        observer=observer,
        save=save if record else None,
        save_stride=stride if record else None,
        unroll=1,
    )
    ts = (
        jnp.arange(1, (n_steps // stride) + 1, dtype=dtype) * stride * dt_
        if record
        else jnp.zeros(0)
    )
    return PopulationSolution(
        counts={n: s[0] for n, s in zip(names, stats, strict=True)},
        isi_sum={n: s[2] for n, s in zip(names, stats, strict=True)},
        isi_sumsq={n: s[3] for n, s in zip(names, stats, strict=True)},
        windowed={n: s[4] for n, s in zip(names, stats, strict=True)},
        soft_counts={n: s[5] for n, s in zip(names, stats, strict=True)},
        raster=None
        if not raster
        else {
            n: _raster(s[0], s[6], s[7], s[8], raster) for n, s in zip(names, stats, strict=True)
        },
        states=dict(saved) if record else {},
        ts=ts,
        finite=jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for y in carry[0] for x in y])),
        duration=t1 - start,
    )


def cobahh(
    n: int = 4000,
    *,
    p: float | None = 0.02,
    indegree: int | None = None,
    seed: int = 0,
    dtype=jnp.float32,
):
    """The COBAHH benchmark network (Brette et al. 2007, J Comput Neurosci 23:349,
    benchmark 3): ``n`` Traub–Miles neurons (`build_TraubMiles`), 80 % excitatory
    (population ``"E"``) and 20 % inhibitory (``"I"``), every pair connected with
    probability ``p`` (or each neuron receiving ``indegree`` synapses from each
    population's share: 0.8·indegree excitatory and 0.2·indegree inhibitory), exponential
    conductance synapses — excitatory 6 nS, τ 5 ms, E 0 mV; inhibitory 67 nS, τ 10 ms,
    E −80 mV — and a membrane area of 20,000 µm².

    The initial state is drawn as in Brian2's COBAHH example: V = −60 mV + 𝒩(−5, 5²) mV,
    gates at 0, excitatory conductances 𝒩(40, 15²) nS and inhibitory 𝒩(200, 120²) nS.

    Returns ``(net, y0, g0)`` for `simulate_populations`. Brian2's example counts spikes
    with ``threshold="v > -20*mV", refractory=3*ms``: pass ``refractory=3.0`` to
    `simulate_populations` for the same rule.

    >>> net, y0, g0 = cobahh(400, seed=1)
    >>> [pop.n for pop in net.populations], len(net.projections)
    ([320, 80], 4)
    """
    n_exc = int(round(0.8 * n))
    sizes = {"E": n_exc, "I": n - n_exc}
    if (p is None) == (indegree is None):
        raise TypeError("give either p (connection probability) or indegree, not both")
    neuron = as_dtype(build_TraubMiles(name="COBAHH"), dtype)
    pops = tuple(Population(neuron, sizes[k], name=k) for k in ("E", "I"))
    receptors = {
        "E": (ExponentialReceptor(jnp.asarray(5.0, dtype), jnp.asarray(0.0, dtype)), 6.0),
        "I": (ExponentialReceptor(jnp.asarray(10.0, dtype), jnp.asarray(-80.0, dtype)), 67.0),
    }
    projections = []
    for k, (pre, post) in enumerate([("E", "E"), ("E", "I"), ("I", "E"), ("I", "I")]):
        n_pre, n_post = sizes[pre], sizes[post]
        if p is not None:
            conn = fixed_probability(n_pre, n_post, p, seed=seed * 8 + k)
        else:
            share = 0.8 if pre == "E" else 0.2
            conn = fixed_indegree(n_pre, n_post, int(round(share * indegree)), seed=seed * 8 + k)
        receptor, weight = receptors[pre]
        projections.append(Projection(pre, post, conn, jnp.asarray(weight, dtype), receptor))
    net = PopulationNetwork(pops, tuple(projections), area=20_000.0)
    rng = np.random.default_rng(seed)
    y0 = {}
    for pop in pops:
        V = -60.0 + rng.normal(-5.0, 5.0, pop.n)
        zeros = np.zeros(pop.n)
        y0[pop.name] = tuple(jnp.asarray(x, dtype) for x in (V, zeros, zeros, zeros))
    g0 = []
    for proj in projections:
        mean, sd = (40.0, 15.0) if proj.pre == "E" else (200.0, 120.0)
        g0.append(jnp.asarray(rng.normal(mean, sd, sizes[proj.post]), dtype))
    return net, y0, g0
