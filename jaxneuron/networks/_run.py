r"""`simulate_populations`: a `PopulationNetwork` advanced with a fixed step Δt on
`jaxneuron.integrate.fixed_step_loop`. Each step:

1. graded projections advance their activation from the potentials at t_n;
2. every population's neurons take their step with the synaptic current
   I = Σ G (E − V) by their spike rule (`jaxneuron.networks.AbstractSpikeRule`):
   conductance-based neurons their exponential-Euler step (`ConductanceNeuron.fixed_step`)
   with the current included exactly in the membrane update (G in nS converted to
   mS/cm² through the neurons' membrane ``area``), integrate-and-fire neurons their own
   step with the current held over it, their threshold and reset;
3. a conductance-based neuron spikes at an upward crossing of ``threshold`` (mV) within
   the step, an integrate-and-fire neuron at its own threshold; the time is interpolated
   linearly;
4. the receptors decay exactly over Δt, and each spike opens its synapses' receptors
   (adds its weight to the state) at the end of the step, or ``delay`` (rounded to
   whole steps) later: the effect of a spike in (t_n, t_{n+1}] starts at
   t_{n+1+D}, so spike times are first-order accurate in Δt.

The arguments are checked here (`check_y0` for the initial states, also used by
`jaxneuron.sweep.sweep_populations`) and the loop compiles once per network structure
and settings (`_RunSettings`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import equinox as eqx
import jax.numpy as jnp

from .._validation import check_finite, check_nonnegative, check_positive
from ..integrate import (
    FastSigmoid,
    as_method,
    fixed_step_loop,
    fixed_step_options,
    needs_compensation,
    simulate,
    steps_in,
)
from ._populations import PopulationNetwork
from ._solution import PopulationSolution, _SpikeStats
from ._step import PopulationStep


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
    `jaxneuron.simulate` of a `PopulationNetwork` calls this.

    - ``y0``: population name → state tuple (arrays (n,)); default `Population.initial_state`.
    - ``g0``: initial projection states, one entry per projection (None: the default):
      a `Projection`'s receptor state (n_post, n_components) in nS, or (n_post,) when
      it has one component (default 0); a `GradedProjection`'s activation s (n_pre,)
      (default s∞ of the initial V_pre).
    - ``threshold`` (mV), for conductance-based populations without a rule of their own
      (`Population`'s ``rule``): a spike is an upward crossing. With ``refractory`` > 0 (ms) the
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
      deliver the spikes without it, and integrate-and-fire neurons still reset hard:
      routed through them, the surrogate's gradient grows without bound in a recurrent
      network. Forward values are unchanged.
    - ``max_spikes_per_step``: spikes per population and step delivered by gathering
      their rows, in the smallest of 8, 16, 32, … rows that holds them (more take the
      dense path, with the same result); default 64 plus 1 % of the largest population
      (100 Hz at Δt = 0.1 ms). Under `jax.vmap` every bucket's branch runs: pass the
      largest population's size to take the dense path alone (as `sweep_populations`
      does).
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
    settings = _RunSettings(
        t1=float(t1),
        dt=float(dt),
        n_steps=n_steps,
        threshold=float(threshold),
        refractory=float(refractory),
        start=float(start),
        record=record,
        state_names=tuple(record_states),
        stride=stride,
        raster=int(raster),
        max_spikes=int(max_spikes_per_step),
        compensated=compensated,
        surrogate=surrogate,
    )
    return _simulate(net, y0, g0, settings)


@simulate.register(PopulationNetwork)
def _simulate_population_network(net: PopulationNetwork, t1: float, *, solver=None, **options):
    """`simulate` of a `PopulationNetwork`: `simulate_populations` with ``options``, its
    step ``dt`` given directly or by a fixed-step ``solver`` (`ExponentialEuler`). An
    adaptive ``solver`` integrates `PopulationNetwork.to_network` with `simulate` (and
    returns its `Solution`): for networks without spike events, of conductance-based
    neurons joined by graded synapses and gap junctions."""
    if solver is not None and as_method(solver).fixed_dt is None:
        return simulate(net.to_network(), t1, solver=solver, **options)
    return simulate_populations(net, t1, **fixed_step_options(solver, options, net.name))


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


class _RunSettings(eqx.Module):
    """`simulate_populations`'s checked settings, all static (the loop compiles once per
    value) but ``surrogate``, whose array leaves are traced. ``record`` holds (population,
    neuron indices, positions of ``state_names`` in its state) per recorded population;
    ``stride`` is the steps between saves; ``max_spikes`` the spikes gathered per
    population and step. The loop runs from ``t0`` to ``t1`` (ms). With ``events``
    (stride 1) every step also saves each population's spikes (``"spike"``,
    ``"spike_time"``: every neuron, inf where none) and each projection's conductance
    onto the recorded neurons of its target (``"g"``, nS, without a voltage-dependent
    block), under the population's name and the projection's label."""

    t1: float = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    n_steps: int = eqx.field(static=True)
    threshold: float = eqx.field(static=True)
    refractory: float = eqx.field(static=True)
    start: float = eqx.field(static=True)
    record: tuple = eqx.field(static=True)
    state_names: tuple[str, ...] = eqx.field(static=True)
    stride: int = eqx.field(static=True)
    raster: int = eqx.field(static=True)
    max_spikes: int = eqx.field(static=True)
    compensated: bool | None = eqx.field(static=True)
    surrogate: FastSigmoid | None
    t0: float = eqx.field(static=True, default=0.0)
    events: bool = eqx.field(static=True, default=False)


@eqx.filter_jit
def _simulate(net: PopulationNetwork, y0, g0, settings: _RunSettings) -> PopulationSolution:
    t1, dt, n_steps, t0 = settings.t1, settings.dt, settings.n_steps, settings.t0
    threshold, refractory, start = settings.threshold, settings.refractory, settings.start
    record, state_names, stride = settings.record, settings.state_names, settings.stride
    raster, max_spikes = settings.raster, settings.max_spikes
    compensated, surrogate = settings.compensated, settings.surrogate
    names = net.names
    pops = net.populations
    projs = net.projections
    index = {name: k for k, name in enumerate(names)}
    y0 = dict(y0 or {})
    step = PopulationStep(
        net, surrogate, dt=dt, t0=t0, threshold=threshold, refractory=refractory,
        max_spikes=max_spikes, events=settings.events,
    )  # fmt: skip
    dtype, dt_ = step.dtype, step.step
    ys = tuple(
        tuple(jnp.asarray(x, dtype) for x in y0.get(p.name, p.initial_state())) for p in pops
    )
    g0 = (None,) * len(projs) if g0 is None else tuple(g0)
    if len(g0) != len(projs):
        raise ValueError(f"g0: one entry per projection ({len(projs)}), got {len(g0)}")
    rows = step.rows()
    recorded = {name: jnp.asarray(idx) for name, idx, _ in record}

    def save(carry):
        ys = carry[0]
        out = {
            name: {
                state: ys[index[name]][i][recorded[name]]
                for state, i in zip(state_names, which, strict=True)
            }
            for name, idx, which in record
        }
        if settings.events:
            for k, name in enumerate(names):
                up, when = carry[4][0][k], carry[4][1][k]
                out.setdefault(name, {}).update(spike=up, spike_time=jnp.where(up, when, jnp.inf))
            out.update(step.conductances(carry[2], rows, ys, recorded))
        return out

    observer = _SpikeStats(start, t1, raster, max_spikes)
    carry, stats, saved = fixed_step_loop(
        lambda t, carry: step(t, carry, rows),
        step.init(ys, g0, needs_compensation(dtype, compensated)),
        t0=jnp.asarray(t0, dtype),
        dt=dt_,
        n_steps=n_steps,
        observer=observer,
        save=save if record or settings.events else None,
        save_stride=stride if record or settings.events else None,
        unroll=1,
    )
    ts = (
        t0 + jnp.arange(1, (n_steps // stride) + 1, dtype=dtype) * stride * dt_
        if record or settings.events
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
        states=dict(saved) if record or settings.events else {},
        ts=ts,
        finite=jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for y in carry[0] for x in y])),
        duration=t1 - start,
        start=start,
    )
