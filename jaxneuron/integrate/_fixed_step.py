r"""The fixed-step driver: the one time loop behind every fixed-step path.

`simulate` with `ExponentialEuler`, the fixed-step path of `simulate_spiking`, the sweep
engine (and its Pallas kernel) and spiking networks all run `fixed_step_loop`. It takes

- a **step** ``step(t, carry) → (carry, event)`` from t to t + Δt, where ``carry[0]`` is
  the model's state tuple (see `jaxneuron.AbstractFixedStepModel`); `model_step` and
  `spiking_step` build it from a model, for one model or a population;
- an **observer** (`AbstractObserver`) that reduces the trajectory as it goes —
  `VoltageFeatures` (the streaming features of chosen voltages), `SpikeSlots` (spike
  times from the steps' events);
- the number of steps and, optionally, a **save** function called every ``save_stride``
  steps;

and runs the loop as a `lax.scan` over blocks of ``save_stride`` steps (checkpointed per
block for reverse mode), each a `lax.fori_loop` over groups of steps unrolled in Python,
the observer updated once per group with all of the group's steps. Time is computed from
the step index, t = t0 + n·Δt, so no rounding accumulates in t.

**Compensation.** In float32 (and lower) the steps add increments with Kahan summation by
default (``compensated=None``): slow gates (τ ≈ 1 s) whose increments fall below half a
unit in the last place of the state would otherwise drift or stall. In float64 plain
addition is exact enough. Because every path runs this same loop with the same step, the
same model, dtype and Δt give the same numbers on every path, up to rounding: the paths
are different XLA programs, and XLA fuses a multiply and an add into one FMA where both
land in one fusion (``tests/test_paths.py`` bounds the difference).

**Populations** are batch-minor: each entry of the state tuple holds one variable of all
models (structure of arrays), and the model's step is vmapped over the parameters that
differ (`jaxneuron.parameters.population`).
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from .._numerics import crossing_fraction
from .._validation import check_positive

# Steps are unrolled in groups: 16 for small models (whose step is cheap, so loop overhead
# and the observer's per-group work matter most), 8 for larger ones; circuits of many cells
# are not unrolled, because compile time grows with the unrolled graph.
UNROLL = 8
UNROLL_SMALL = 16
SMALL_STATES = 8
UNROLL_MAX_STATES = 64


class ExponentialEuler(eqx.Module):
    r"""Fixed-step integration with the model's ``fixed_step`` — for conductance-based
    models the split exponential Euler (Rush–Larsen) step, ``dt`` in ms.

    Gates are advanced exactly for frozen V, then V exactly for frozen gates (see
    `ConductanceNeuron.fixed_step`). Unconditionally stable for the stiff gates, first
    order in ``dt``; the fast path for sweeps and fitting. Saving happens every
    ``save_every`` ms, which must be a whole number of steps.

    **Fields:** ``dt`` (ms); ``checkpoint`` (store one state per save for reverse-mode
    gradients instead of one per step); ``compensated`` (Kahan summation of the
    increments: None = in float32 and lower, see `jaxneuron.integrate.fixed_step_loop`;
    of the states that the model's ``compensated_states(dt)`` names: a conductance-based
    neuron's fast gates go without);
    ``unroll`` (steps unrolled per loop iteration: the same scheme, its numbers equal to
    rounding, as XLA may fuse and contract the unrolled arithmetic differently). None
    chooses by dtype: `unroll_for` the model's size in float32 and below, where unrolling
    speeds the forward loop, and 1 in float64, where it does not. Unrolling multiplies
    the compile time of reverse-mode gradients: pass ``unroll=1`` to differentiate (the
    fitting losses' default solver does).

    **Example:**

    >>> from jaxneuron import ExponentialEuler, build_HH, simulate
    >>> sol = simulate(build_HH(10.0), 50.0, solver=ExponentialEuler(dt=0.01))
    >>> sol.ts.shape
    (501,)
    """

    dt: float = eqx.field(static=True, default=0.01)
    checkpoint: bool = eqx.field(static=True, default=True)
    compensated: bool | None = eqx.field(static=True, default=None)
    unroll: int | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        check_positive("ExponentialEuler.dt (time step)", self.dt, "ms")
        if self.unroll is not None and int(self.unroll) < 1:
            raise ValueError(f"ExponentialEuler.unroll (steps per group) must be >= 1, "
                             f"got {self.unroll}")  # fmt: skip

    def steps_per_group(self, n_states: int, dtype) -> int:
        """Steps unrolled per loop iteration for a model of ``n_states`` in ``dtype``."""
        if self.unroll is not None:
            return int(self.unroll)
        return 1 if jnp.finfo(dtype).bits >= 64 else unroll_for(n_states)


def steps_in(duration: float, dt: float, what: str) -> int:
    """``duration``/``dt`` as a whole number ≥ 1 of steps; a clear error otherwise
    (``what`` names the duration, e.g. ``"save_every (save interval)"``).

    >>> steps_in(1.0, 0.025, "save_every")
    40
    """
    ratio = duration / dt
    k = round(ratio)
    if k < 1 or abs(ratio - k) > 1e-6 * max(1.0, ratio):
        raise ValueError(
            f"{what} ({duration} ms) must be a whole multiple (≥ 1) of the step dt = {dt} ms"
        )
    return k


def steps_before(start: float, t0: float, dt: float) -> int:
    """The steps from ``t0`` that end at least one step before ``start`` (ms): no sample
    of them counts in streaming features whose analysis starts at ``start`` (spikes,
    bursts and V statistics all count from there), so `fixed_step_loop` may run them
    without its observer (``observe_from``).

    >>> steps_before(250.0, 0.0, 0.025)
    9999
    """
    return max(math.floor((start - t0) / dt) - 1, 0)


def needs_compensation(dtype, compensated: bool | None = None) -> bool:
    """Whether a loop in ``dtype`` adds increments with Kahan summation: ``compensated``
    when given, otherwise for floats of fewer than 64 bits."""
    if compensated is not None:
        return bool(compensated)
    return jnp.finfo(dtype).bits < 64


# ---- steps ----------------------------------------------------------------------------


def _zeros_like_state(y, which=None):
    """Zeros like each entry of ``y``; None where ``which`` (flags) or the entry is None."""
    which = (True,) * len(y) if which is None else which
    return tuple(
        None if x is None or not w else jnp.zeros_like(x) for x, w in zip(y, which, strict=True)
    )


def model_step(model, dt, *, axes=None):
    """The step of ``model.fixed_step`` for `fixed_step_loop`: ``carry = (y, c)`` (state
    tuple and its compensation, None for plain summation; see `initial_carry`); no event.

    ``axes``: for a population, the `jax.vmap` in_axes of ``model`` (see
    `jaxneuron.parameters.population`); each entry of ``y`` then has a leading axis of
    models. Use `initial_carry` for the first carry.
    """
    dt = jnp.asarray(dt)

    def one(m, t, y, c):
        return m.fixed_step(t, y, dt.astype(y[0].dtype), c)

    if axes is not None:
        one = jax.vmap(one, in_axes=(axes, None, 0, 0))

    def step(t, carry):
        y, c = carry
        return one(model, t, y, c), None

    return step


def initial_carry(y0, compensated) -> tuple:
    """The first carry of `model_step`: ``(y0, compensation)``, the compensation None
    when ``compensated`` is False, zeros when True, and with flags (one per state, e.g.
    `AbstractFixedStepModel.compensated_states`) zeros where set and None elsewhere."""
    return tuple(y0), _compensation(y0, compensated)


def _compensation(y0, compensated):
    if compensated is False or compensated is None:
        return None
    return _zeros_like_state(tuple(y0), None if compensated is True else tuple(compensated))


class SpikeEvent(eqx.Module):
    """What `spiking_step` reports for a step: ``crossed`` (the spike decision),
    ``t_spike`` (the interpolated crossing time, ms; meaningless where not crossed) and
    ``s`` (the spike indicator as a float: with a surrogate, its gradient)."""

    crossed: jax.Array
    t_spike: jax.Array
    s: jax.Array


def reset_step(model, t, t_next, y, c, hold_until, surrogate=None, blend=True):
    r"""One ``model.fixed_step`` of an integrate-and-fire model from ``t`` to ``t_next``
    with an in-step reset:

    V is held until ``hold_until``; if V crosses the threshold within the step the
    crossing time is interpolated linearly, t* = t + Δt (θ − V_n)/(V_{n+1} − V_n), the
    other states are interpolated to t*, the reset is applied there and the rest of the
    step is integrated from the reset state (after the refractory period if it ends within
    the step). At most one spike per step is resolved.

    With a ``surrogate`` (e.g. `FastSigmoid`) the spike s has the surrogate's gradient,
    and the state after the step is s·(reset branch) + (1 − s)·(free branch), so that the
    later trajectory depends on the spike decision too; the forward values are unchanged.
    ``blend=False`` keeps the state's hard reset (the gradient reaches s only): in a
    recurrent network the blended gradient grows without bound.

    Returns ``(y_next, c_next, hold_until_next, SpikeEvent)``.
    """
    dtype = y[0].dtype
    threshold = jnp.asarray(model.threshold, dtype)
    refractory = model.refractory
    refractory = jnp.zeros((), dtype) if refractory is None else jnp.asarray(refractory, dtype)
    t_free = jnp.clip(hold_until, t, t_next)
    y_free, c_free = model.fixed_step(t_free, y, t_next - t_free, c)
    V_old, V_new = y[0], y_free[0]
    crossed = (V_new >= threshold) | (V_old >= threshold)
    fraction = crossing_fraction(V_old, V_new, threshold)
    t_spike = t_free + fraction * (t_next - t_free)
    y_spike = tuple(a + fraction * (b - a) for a, b in zip(y, y_free, strict=True))
    hold_new = t_spike + refractory
    t_resume = jnp.minimum(hold_new, t_next)
    c_zero = None if c is None else _zeros_like_state(c)
    y_reset, c_reset = model.fixed_step(t_resume, model.reset(y_spike), t_next - t_resume, c_zero)
    if surrogate is None:
        s = jax.lax.stop_gradient(crossed.astype(dtype))
        y_next = tuple(jnp.where(crossed, a, b) for a, b in zip(y_reset, y_free, strict=True))
    else:
        s = jnp.maximum(surrogate(V_new - threshold), crossed.astype(dtype))
        if blend:
            y_next = tuple(s * a + (1 - s) * b for a, b in zip(y_reset, y_free, strict=True))
        else:
            y_next = tuple(jnp.where(crossed, a, b) for a, b in zip(y_reset, y_free, strict=True))
    c_next = None
    if c is not None:
        c_next = tuple(jnp.where(crossed, a, b) for a, b in zip(c_reset, c_free, strict=True))
    y_next = tuple(x.astype(dtype) for x in y_next)
    hold_next = jnp.where(crossed, hold_new, hold_until)
    return y_next, c_next, hold_next, SpikeEvent(crossed, t_spike, s)


def spiking_step(model, dt, *, surrogate=None, axes=None):
    """The step of an integrate-and-fire model with in-step resets (`reset_step`) for
    `fixed_step_loop`: ``carry = (y, c, hold_until)`` (c None for plain summation); the
    event is a `SpikeEvent`.
    ``axes`` as in `model_step`. Use `initial_spiking_carry` for the first carry."""
    dt = jnp.asarray(dt)

    def one(m, t, y, c, hold):
        d = dt.astype(y[0].dtype)
        return reset_step(m, t, t + d, y, c, hold, surrogate)

    if axes is not None:
        one = jax.vmap(one, in_axes=(axes, None, 0, 0, 0))

    def step(t, carry):
        y, c, hold = carry
        y, c, hold, event = one(model, t, y, c, hold)
        return (y, c, hold), event

    return step


def initial_spiking_carry(y0, t0, compensated) -> tuple:
    """The first carry of `spiking_step` (nothing held)."""
    y0 = tuple(y0)
    hold = jnp.full(jnp.shape(y0[0]), t0 - 1.0, y0[0].dtype)
    return y0, _compensation(y0, compensated), hold


# ---- observers ------------------------------------------------------------------------


class AbstractObserver(eqx.Module):
    """Reduces a trajectory while `fixed_step_loop` computes it. The loop runs its steps
    in groups (unrolled) and hands the observer each group's results at once, so that an
    observer can reduce a group in registers and touch its own state once per group."""

    @abc.abstractmethod
    def init(self, t0, carry):
        """The observer's state before the first step."""

    @abc.abstractmethod
    def update(self, state, ts, carries, events):
        """The state after a group of consecutive steps: ``ts[k]`` is the time at the end
        of step k, ``carries[k]`` its carry and ``events[k]`` its event."""

    def end_block(self, state):
        """The state at the end of a block of observed steps (a ``save_stride`` of them,
        or fewer: the loop's first observed block and its last steps), after its groups'
        updates: by default unchanged. Work that can wait for a block's end (e.g. a
        reduction of what the groups gathered) runs here, outside the loop over groups."""
        return state


class VoltageFeatures(AbstractObserver):
    """The streaming features (`jaxneuron.analysis.StreamingFeatures`) of the state
    entries ``indices`` (the membrane potentials), fed each group of steps with
    `StreamingFeatures.update_many`; its state is a tuple of `FeatureState`, one per
    index."""

    features: eqx.Module = eqx.field(static=True)
    indices: tuple[int, ...] = eqx.field(static=True)

    def init(self, t0, carry):
        y = carry[0]
        return tuple(self.features.init(t0, y[i]) for i in self.indices)

    def update(self, state, ts, carries, events):
        return tuple(
            self.features.update_many(s, ts, [carry[0][i] for carry in carries])
            for s, i in zip(state, self.indices, strict=True)
        )

    def per_voltage(self, state) -> tuple:
        """The state as one `FeatureState` per observed potential (here: itself)."""
        return state

    def select(self, state, positions: tuple[int, ...]) -> tuple:
        """The states of the observed potentials at ``positions`` (one per potential)."""
        return tuple(state[i] for i in positions)


class SpikeSlots(AbstractObserver):
    """The first ``max_spikes`` spike times of a `spiking_step` (padded with +inf), the
    total count and the sum of the (surrogate) spike indicators: state
    ``(count, times, soft_count)``."""

    max_spikes: int = eqx.field(static=True)

    def init(self, t0, carry):
        dtype = carry[0][0].dtype
        return (
            jnp.asarray(0, jnp.int32),
            jnp.full((self.max_spikes,), jnp.inf, dtype),
            jnp.zeros((), dtype),
        )

    def update(self, state, ts, carries, events):
        count, times, soft = state
        for event in events:
            record = event.crossed & (count < self.max_spikes)
            slot = jnp.minimum(count, self.max_spikes - 1)
            times = times.at[slot].set(jnp.where(record, event.t_spike, times[slot]))
            count, soft = count + event.crossed.astype(count.dtype), soft + event.s
        return count, times, soft


# ---- the loop -------------------------------------------------------------------------


def fixed_step_loop(
    step: Callable,
    carry,
    *,
    t0,
    dt,
    n_steps: int,
    observer: AbstractObserver | None = None,
    save: Callable | None = None,
    save_stride: int | None = None,
    unroll: int = UNROLL,
    checkpoint: bool = False,
    observe_from: int = 0,
):
    """Run ``n_steps`` steps of ``step`` from ``carry`` at time ``t0`` (ms) with step
    ``dt`` (ms; its dtype is the dtype of time).

    **Arguments:**

    - ``step(t, carry) → (carry, event)``: one step from t to t + dt (see `model_step`,
      `spiking_step`).
    - ``observer``: an `AbstractObserver`, updated after every group of steps and at the
      end of every block (`AbstractObserver.end_block`).
    - ``save(carry) → pytree``: called after every ``save_stride`` steps; the results are
      stacked along a new leading axis (``n_steps // save_stride`` entries; the initial
      carry is not saved).
    - ``save_stride``: steps per block (default: ``n_steps`` without ``save``); the loop
      is a scan over blocks, each a `lax.fori_loop` over groups of ``unroll`` steps
      (unrolled), the observer updated once per group with all of its steps.
    - ``checkpoint``: rematerialise each block in reverse mode, so that gradients store
      one carry per block instead of one per step.
    - ``observe_from``: the steps before this one run without the observer (whole
      blocks, then whole groups of the next block), which is initialised
      (`AbstractObserver.init`) at the end of the last of them. For an
      observer whose state no earlier sample changes but for the time and carry it
      keeps (streaming features before their analysis start), the result is the same,
      bit for bit, and those steps cost only the model's.

    Returns ``(carry, observer_state, saved)``.
    """
    dt = jnp.asarray(dt)
    t0 = jnp.asarray(t0, dt.dtype)
    n_steps = int(n_steps)
    stride = int(save_stride) if save_stride else max(n_steps, 1)
    n_blocks, rest = divmod(n_steps, stride)

    def run_group(state, n, size, observe):
        """``size`` steps from step ``n`` (unrolled), then the observer on all of them."""
        carry, obs = state
        ts, carries, events = [], [], []
        for j in range(size):
            t = t0 + (n + j).astype(dt.dtype) * dt
            carry, event = step(t, carry)
            ts.append(t + dt)
            carries.append(carry)
            events.append(event)
        if observe:
            obs = observer.update(obs, ts, carries, events)
        return carry, obs

    def steps(state, n0, k, observe):
        group = max(1, min(unroll, k))
        n_groups, rest = divmod(k, group)
        if n_groups:
            state = jax.lax.fori_loop(
                0, n_groups, lambda g, s: run_group(s, n0 + g * group, group, observe), state
            )
        if rest:
            state = run_group(state, n0 + n_groups * group, rest, observe)
        return state

    def block(k, observe, saves=True):
        """``k`` steps from the state's step, observed or not, then the save."""

        def run(state, _=None):
            carry, obs, n = state
            carry, obs = steps((carry, obs), n, k, observe)
            if observe:
                obs = observer.end_block(obs)
            return (carry, obs, n + k), save(carry) if saves and save is not None else None

        return jax.checkpoint(run) if checkpoint else run

    observe = observer is not None
    n = jnp.asarray(0, jnp.int32)
    # quiet: whole blocks, then whole groups of the next block (its rest is observed)
    n_quiet, split = divmod(min(max(int(observe_from), 0), n_blocks * stride), stride)
    if not observe:
        n_quiet = split = 0
    group = max(1, min(unroll, stride))
    split = split // group * group
    saved = []
    if n_quiet:
        (carry, _, n), out = jax.lax.scan(block(stride, False), (carry, None, n), None, n_quiet)
        saved.append(out)
    if split:
        (carry, _, n), _ = block(split, False, saves=False)((carry, None, n))
    # the time of the last quiet step's end, as `run_group` computes it
    t_start = t0 + (n - 1).astype(dt.dtype) * dt + dt if n_quiet or split else t0
    obs = observer.init(t_start, carry) if observe else None
    if split:
        (carry, obs, n), out = block(stride - split, observe)((carry, obs, n))
        saved.append(jax.tree_util.tree_map(lambda x: x[None], out))
    (carry, obs, n), out = jax.lax.scan(
        block(stride, observe), (carry, obs, n), None, n_blocks - n_quiet - bool(split)
    )
    saved.append(out)
    if save is None:
        saved = None
    elif len(saved) == 1:
        saved = saved[0]
    else:
        saved = jax.tree_util.tree_map(lambda *parts: jnp.concatenate(parts), *saved)
    if rest:
        carry, obs = steps((carry, obs), n, rest, observe)
        if observe:
            obs = observer.end_block(obs)
    return carry, obs, saved


def unroll_for(n_states: int) -> int:
    """Steps per unrolled group for a model with ``n_states`` states."""
    if n_states <= SMALL_STATES:
        return UNROLL_SMALL
    return UNROLL if n_states <= UNROLL_MAX_STATES else 1
