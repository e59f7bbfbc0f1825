r"""Networks of conductance-based populations: many neurons of one structure, sparse
projections of event-driven conductance synapses, one fixed-step loop.

- A `Population` is ``n`` copies of one `ConductanceNeuron` whose chosen parameters are
  arrays of shape (n,) (heterogeneous) while the rest are shared: its step is one
  vmapped kinetics evaluation, so compile time does not grow with ``n``.
- A `Connectivity` holds a projection's synapses by presynaptic neuron: ``targets`` of
  shape (n_pre, width), padded with ``n_post``. `fixed_probability`, `fixed_indegree` and
  `from_pairs` build it (seeded).
- A `Projection` connects two populations through an `ExponentialReceptor`: because every
  synapse of the projection shares τ and E, their conductances add up on the
  postsynaptic neuron, and the state is one conductance g (nS) per postsynaptic neuron,
  g ← g·e^{−Δt/τ} + Σ w over the spikes that arrived.
- `simulate_populations` advances everything with a fixed step Δt on
  `jaxneuron.integrate.fixed_step_loop`:

  1. every neuron takes its exponential-Euler step (`ConductanceNeuron.fixed_step`) with
     the synaptic current I = Σ_p g_p (E_p − V) included exactly in the membrane update
     (g in nS converted to mS/cm² through the neurons' membrane ``area``);
  2. a spike is an upward crossing of ``threshold`` (mV) within the step, its time
     interpolated linearly;
  3. the receptors decay exactly over Δt, and each spike adds its synapses' weights to
     their targets at the end of the step, or ``delay`` (rounded to whole steps) later:
     the effect of a spike in (t_n, t_{n+1}] starts at t_{n+1+D}. The jump lands on the
     grid, so spike times are first-order accurate in Δt.

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

import math
from collections.abc import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ._numerics import crossing_fraction
from ._validation import check_finite, check_positive
from .integrate import (
    AbstractObserver,
    fixed_step_loop,
    needs_compensation,
    steps_in,
)
from .neurons import ConductanceNeuron, as_dtype, build_TraubMiles
from .parameters import population as batched_population
from .stimuli import as_stimulus

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


class ExponentialReceptor(eqx.Module):
    """A conductance g (nS) that jumps by the synaptic weight at each spike and decays
    as g(s) = w·e^{−s/τ}; current into the cell g·(E − V). ``tau`` in ms, ``E`` in mV."""

    tau: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    E: Float[Array, ""] = eqx.field(converter=jnp.asarray)

    def __check_init__(self):
        check_positive("ExponentialReceptor.tau (decay time)", self.tau, "ms")
        check_finite("ExponentialReceptor.E (reversal potential)", self.E, "mV")


class Projection(eqx.Module):
    """Synapses from population ``pre`` to ``post`` (names): ``connectivity``, ``weight``
    (nS: a scalar for all, or an array shaped like ``connectivity.targets``) and the
    ``receptor`` they open. ``scale`` multiplies every weight (a single leaf to fit).
    ``delay`` (ms, static) is the conduction delay of every synapse of the projection,
    rounded to whole steps: a spike in (t_n, t_{n+1}] acts from t_{n+1+D}, D = round(delay/Δt)."""

    pre: str = eqx.field(static=True)
    post: str = eqx.field(static=True)
    connectivity: Connectivity
    weight: Float[Array, "..."] = eqx.field(converter=jnp.asarray)
    receptor: ExponentialReceptor
    scale: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)
    delay: float = eqx.field(static=True, default=0.0)

    def __check_init__(self):
        if not (self.delay >= 0 and math.isfinite(self.delay)):
            raise ValueError(f"{self.pre}->{self.post}: delay must be >= 0 ms, got {self.delay}")
        shape = jnp.shape(self.weight)
        if shape not in ((), self.connectivity.targets.shape):
            raise ValueError(
                f"{self.pre}->{self.post}: weight must be a scalar or shaped like the "
                f"targets {self.connectivity.targets.shape}, got {shape}"
            )


class PopulationNetwork(eqx.Module):
    """Populations and the projections between them. ``area`` (µm²) is every neuron's
    membrane area, which converts synaptic conductances (nS) to densities (mS/cm²)."""

    populations: tuple[Population, ...]
    projections: tuple[Projection, ...]
    area: float = eqx.field(static=True, default=20_000.0)

    def __check_init__(self):
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

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.populations)

    def population(self, name: str) -> Population:
        return self.populations[self.names.index(name)]


class PopulationSolution(eqx.Module):
    """What `simulate_populations` returns, per population name: ``counts`` (spikes per
    neuron after ``start``), ``isi_sum`` and ``isi_sumsq`` (ms, ms²; intervals between
    spikes after ``start``), ``raster`` (``(times, neurons, complete)``: the kept spikes,
    in order, and whether they are all the spikes after ``start``; None unless asked),
    ``V`` (recorded membrane potentials, (n_saves, n_recorded)), ``ts`` (save times) and
    ``duration`` (ms analysed)."""

    counts: dict
    isi_sum: dict
    isi_sumsq: dict
    raster: dict | None
    V: dict
    ts: Array
    duration: float = eqx.field(static=True)

    def rate(self, name: str) -> Array:
        """Mean firing rate (Hz) of the population ``name``."""
        return jnp.mean(self.counts[name]) * 1000.0 / self.duration

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
    """Per neuron of each population: spike count, last spike, Σ ISI and Σ ISI² after
    ``start``; with ``keep`` > 0, also the first ``keep`` spikes (time, neuron) of each
    population, at most ``per_step`` per step."""

    start: float = eqx.field(static=True)
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
            count, last, s1, s2, *kept = stats
            for event in events:
                crossed, t_spike = event[0][k], event[1][k]
                spike = crossed & (t_spike >= self.start)
                isi = jnp.where(spike & (count > 0), t_spike - last, 0.0)
                count = count + spike
                last = jnp.where(spike, t_spike, last)
                s1, s2 = s1 + isi, s2 + isi * isi
                if kept:
                    kept = self._keep(kept, spike, t_spike)
            out.append((count, last, s1, s2, *kept))
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


def _delivery_rows(projection: Projection, dtype):
    """A projection's targets and weights (nS, scale applied) with one more row of
    padding (targets ``n_post``, weights 0) for the unused slots of a sparse gather;
    built once per simulation, outside the time loop."""
    conn = projection.connectivity
    targets = conn.targets
    weight = jnp.asarray(projection.weight, dtype) * projection.scale.astype(dtype)
    weight = jnp.broadcast_to(weight, targets.shape)
    pad_t = jnp.full((1, targets.shape[1]), conn.n_post, targets.dtype)
    pad_w = jnp.zeros((1, targets.shape[1]), dtype)
    return jnp.concatenate([targets, pad_t]), jnp.concatenate([weight, pad_w])


def _deliver(crossed, rows, n_post: int, max_spikes: int):
    """Σ of the weights of the synapses of the neurons that spiked, per postsynaptic
    neuron (nS): the spiking rows only, or every row when more than ``max_spikes``
    neurons spiked. ``rows`` from `_delivery_rows`."""
    targets, weight = rows
    n_pre = targets.shape[0] - 1

    def add(tg, w):
        return jnp.zeros(n_post + 1, weight.dtype).at[tg.ravel()].add(w.ravel())[:n_post]

    def sparse(_):
        (ids,) = jnp.nonzero(crossed, size=max_spikes, fill_value=n_pre)
        return add(targets[ids], weight[ids])

    def dense(_):
        return add(targets[:n_pre], jnp.where(crossed[:, None], weight[:n_pre], 0.0))

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
    save_every: float | None = None,
    raster: int = 0,
    max_spikes_per_step: int | None = None,
    compensated: bool | None = None,
) -> PopulationSolution:
    """Simulate ``net`` for ``t1`` ms with the fixed step ``dt`` (ms); see the module.

    - ``y0``: population name → state tuple (arrays (n,)); default `Population.initial_state`.
    - ``g0``: initial receptor conductances (nS), one array (n_post,) per projection.
    - ``threshold`` (mV): a spike is an upward crossing. With ``refractory`` > 0 (ms) the
      rule is Brian2's ``threshold="v > θ", refractory=…``: a spike whenever V ≥ θ at the
      end of a step and the neuron's last spike is at least ``refractory`` ago (so a
      crossing within it is no spike, and V held above θ spikes again after it).
    - ``start`` (ms): spike statistics count from here.
    - ``record``: population name → indices of neurons whose V is saved every
      ``save_every`` ms (default ``dt``); ``raster``: keep the first ``raster`` spikes
      (time, neuron) of each population after ``start`` (at most
      ``max_spikes_per_step`` per step; `PopulationSolution.raster` says if any were
      lost).
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
    record = {k: tuple(int(i) for i in v) for k, v in (record or {}).items()}
    for name in record:
        if name not in net.names:
            raise KeyError(f"record: no population {name!r} (populations: {net.names})")
    stride = steps_in(save_every, dt, "save_every (save interval)") if save_every else 1
    if max_spikes_per_step is None:
        max_spikes_per_step = 64 + max(p.n for p in net.populations) // 100
    return _simulate(net, float(t1), float(dt), n_steps, y0, g0, float(threshold),
                     float(refractory), float(start), tuple(sorted(record.items())), stride,
                     int(raster),
                     int(max_spikes_per_step), compensated)  # fmt: skip


@eqx.filter_jit
def _simulate(net, t1, dt, n_steps, y0, g0, threshold, refractory, start, record, stride,
              raster, max_spikes, compensated):  # fmt: skip
    names = net.names
    pops = net.populations
    dtype = jnp.result_type(pops[0].neuron.C)
    y0 = dict(y0 or {})
    ys = tuple(
        tuple(jnp.asarray(x, dtype) for x in y0.get(p.name, p.initial_state())) for p in pops
    )
    comp = needs_compensation(dtype, compensated)
    cs = tuple(tuple(jnp.zeros_like(x) for x in y) for y in ys) if comp else None
    post_n = [net.population(p.post).n for p in net.projections]
    gs = tuple(
        jnp.zeros(n, dtype) if g0 is None else jnp.asarray(g0[i], dtype)
        for i, n in enumerate(post_n)
    )
    to_density = 1e-6 / (net.area / UM2_PER_CM2)  # nS → mS/cm²
    dt_ = jnp.asarray(dt, dtype)
    decay = tuple(jnp.exp(-dt_ / p.receptor.tau.astype(dtype)) for p in net.projections)

    delays = tuple(int(round(p.delay / dt)) for p in net.projections)
    pending = tuple(
        jnp.zeros((d, n), dtype) if d else None for d, n in zip(delays, post_n, strict=True)
    )  # spikes in flight: ring buffers of D steps

    rows = tuple(_delivery_rows(p, dtype) for p in net.projections)

    def step(t, carry):
        ys, cs, gs, pending, lasts = carry
        n = jnp.round(t / dt_).astype(jnp.int32)  # this step's index
        new_ys, new_cs, crossed, t_spike, new_lasts = [], [], [], [], []
        for k, pop in enumerate(pops):
            G = jnp.zeros((pop.n,), dtype)
            J = jnp.zeros((pop.n,), dtype)
            for proj, g in zip(net.projections, gs, strict=True):
                if proj.post == pop.name:
                    G = G + g * to_density
                    J = J + g * to_density * proj.receptor.E.astype(dtype)
            one = jax.vmap(
                lambda m, y, c, G, J: m.fixed_step(t, y, dt_, c, inputs=(G, J)),
                in_axes=(pop.axes, 0, None if cs is None else 0, 0, 0),
            )
            y, c = one(pop.neuron, ys[k], None if cs is None else cs[k], G, J)
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
            new_lasts.append(jnp.where(up, when, lasts[k]))
        new_gs, new_pending = [], []
        for i, (proj, g) in enumerate(zip(net.projections, gs, strict=True)):
            spikes = crossed[names.index(proj.pre)]
            sent = _deliver(spikes, rows[i], proj.connectivity.n_post, max_spikes)
            buffer = pending[i]
            if buffer is not None:  # what was sent D steps ago arrives; this step's waits
                slot = n % delays[i]
                sent, buffer = buffer[slot], buffer.at[slot].set(sent)
            new_gs.append(g * decay[i] + sent)
            new_pending.append(buffer)
        carry = (
            tuple(new_ys),
            None if cs is None else tuple(new_cs),
            tuple(new_gs),
            tuple(new_pending),
            tuple(new_lasts),
        )
        return carry, (tuple(crossed), tuple(t_spike))

    def save(carry):
        ys = carry[0]
        return {name: ys[names.index(name)][0][jnp.asarray(idx)] for name, idx in record}

    observer = _SpikeStats(start, raster, max_spikes)
    carry, stats, saved = fixed_step_loop(
        step,
        (ys, cs, gs, pending, tuple(jnp.full((p.n,), -jnp.inf, dtype) for p in pops)),
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
        raster=None
        if not raster
        else {
            n: _raster(s[0], s[4], s[5], s[6], raster) for n, s in zip(names, stats, strict=True)
        },
        V=dict(saved) if record else {},
        ts=ts,
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
