r"""`simulate_spiking`: integrate-and-fire models with resets, on two paths.

**Event path** (a diffrax solver, default Tsit5). The run is a `lax.scan` over *chunks*.
A chunk is one `diffrax.diffeqsolve` from the current time to the end of a window of
``window`` save points (or to t1) that stops early at the event V(t) = threshold, found
by Newton's method on the solver's dense output (`diffrax.Event` with
``root_finder=optx.Newton``). At an event the spike time is recorded, the model's reset
is applied, and the state is held for the refractory period; the next chunk starts there.
Spike times are therefore exact to the solver tolerance, and differentiable: diffrax
differentiates the root of the event condition by the implicit function theorem,
dt*/dθ = −(∂g/∂θ)/(dg/dt) with g = V − threshold, and the reset state carries the
dependence into later spikes. The windows bound the saving work per chunk (diffrax saves
point by point) and make every chunk the same shape, so the scan has a fixed length:
max_spikes + 1 event chunks plus ⌈(n_saves − 1)/(window − 1)⌉ + 1 window chunks.

**Fixed-step path** (`jaxneuron.ExponentialEuler(dt)`). The fixed-step driver
(`jaxneuron.integrate.fixed_step_loop`) running the model's ``fixed_step`` (exponential
Euler for the LIF and AdEx, forward Euler for Izhikevich) through
`jaxneuron.integrate.reset_step`. If
V crosses the threshold within a step, the crossing time is interpolated linearly between
the two end points, t* = t + Δt (θ − V_n)/(V_{n+1} − V_n), the other states are
interpolated to t*, the reset is applied there, and the rest of the step is integrated
from the reset state (after the refractory period if it ends within the step). At most
one spike per step is resolved. **Gradients on this path** are the exact derivatives of
this discrete map: the interpolated spike time is a smooth function of V_n and V_{n+1},
so dt*/dθ is defined and converges to the true derivative as Δt → 0; the decision *whether*
a step spiked is a comparison and has zero derivative (so spike counts have no gradient).

**Surrogate gradients** (fixed-step path only, ``surrogate=FastSigmoid(slope)``). For
training spiking networks the spike decision is replaced, in the backward pass only, by a
smooth function: the forward pass is unchanged (a Heaviside step s = H(V_{n+1} − θ)), but
ds/dV = 1/(1 + slope·|V − θ|)² (the fast sigmoid of Zenke & Ganguli 2018, SuperSpike).
The state after a step is then s·(reset branch) + (1 − s)·(free branch), and
``soft_count`` (Σ s) has a non-zero, surrogate gradient. It is a training heuristic: its
gradient is not the derivative of anything the forward pass computes.
"""

from __future__ import annotations

import math

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, Bool, Float, Int

from .._precision import consistent_precision, model_dtype
from .._protocols import AbstractSpikingModel, as_state_tuple, as_state_vector
from .._validation import check_positive, is_concrete
from ._fixed_step import (
    ExponentialEuler,
    SpikeSlots,
    fixed_step_loop,
    initial_spiking_carry,
    needs_compensation,
    spiking_step,
)
from ._grid import check_save_memory, time_grid
from ._simulate import _default_tolerances, _jump_times, get_solver
from ._solution import SimulationError


class SpikingSolution(eqx.Module):
    """What `simulate_spiking` returns.

    - ``ts`` (..., n_saves): save times, ms; ``ys`` (..., n_saves, n_states): the state
      there (read by name: ``sol.V``, ``sol["w"]``). V is saved after resets (at a save
      time inside a refractory period it is the reset value).
    - ``spike_times`` (..., max_spikes): spike times in ms, padded with ``inf``.
    - ``spike_count`` (...): the number of spikes recorded.
    - ``soft_count`` (...): ``spike_count`` as a float; its gradient is zero except in the
      surrogate mode.
    - ``success`` (...): False where a solve failed or more than ``max_spikes`` spikes
      occurred (the trace is then not complete).

    >>> from jaxneuron.neurons.integrate_and_fire import build_LIF
    >>> sol = simulate_spiking(build_LIF(2.0), 50.0, max_spikes=8)
    >>> sol.spike_times.shape, sol.V.shape
    ((8,), (501,))
    """

    ts: Float[Array, "*batch n_saves"]
    ys: Float[Array, "*batch n_saves n_states"]
    spike_times: Float[Array, "*batch max_spikes"]
    spike_count: Int[Array, "*batch"]
    soft_count: Float[Array, "*batch"]
    success: Bool[Array, "*batch"]
    state_names: tuple[str, ...] = eqx.field(static=True)
    model_name: str = eqx.field(static=True, default="model")
    solver_name: str = eqx.field(static=True, default="")

    @property
    def V(self) -> Float[Array, "*batch n_saves"]:
        """Membrane potential in mV."""
        return self["V"]

    def __getitem__(self, name: str) -> Float[Array, "*batch n_saves"]:
        try:
            index = self.state_names.index(name)
        except ValueError:
            raise KeyError(f"no state {name!r}; states: {self.state_names}") from None
        return self.ys[..., index]


# ---- surrogate gradient ----------------------------------------------------------------


class FastSigmoid(eqx.Module):
    r"""A straight-through spike: H(x) forward, 1/(1 + slope·|x|)² backward.

    ``slope`` is in 1/mV (x = V − threshold in mV). Zenke & Ganguli (2018), Neural
    Comput 30:1514.

    >>> import jax
    >>> spike = FastSigmoid(slope=10.0)
    >>> float(spike(0.3)), round(float(jax.grad(spike)(0.3)), 4)
    (1.0, 0.0625)
    """

    slope: float = 25.0

    def __check_init__(self):
        check_positive("FastSigmoid.slope", self.slope, "1/mV")

    def __call__(self, x):
        return _fast_sigmoid_spike(jnp.asarray(x), self.slope)


@jax.custom_jvp
def _fast_sigmoid_spike(x, slope):
    return (x >= 0).astype(x.dtype)


@_fast_sigmoid_spike.defjvp
def _fast_sigmoid_spike_jvp(primals, tangents):
    x, slope = primals
    dx, _ = tangents
    return _fast_sigmoid_spike(x, slope), dx / (1.0 + slope * jnp.abs(x)) ** 2


# ---- event path ---------------------------------------------------------------------


def _event_condition(t, y, args, **kwargs):
    # (V − θ)/(1 + |dV/dt|) has the same root as V − θ and the same implicit derivative
    # there, but is measured in ms: near an AdEx spike dV/dt reaches 1e9 mV/ms, and
    # |V − θ| itself could never meet a residual tolerance although t* is resolved to
    # rounding error.
    model, threshold = args
    rate = model.vector_field(t, y)[0]
    value = (y[0] - threshold) / (1.0 + jnp.abs(rate))
    # diffrax pairs this with a Python 0.0 in a `lax.cond`, which is float64 when x64 is
    # on: a float32 model simulated in an x64 process needs the default float type here.
    return value.astype(jnp.result_type(float))


def _vector_field(t, y, args):
    return args[0].vector_field(t, y)


def _no_hold(model):
    return model.refractory is None


def _event_path(
    model,
    y0,
    solver,
    grid,
    t_scale,
    window,
    n_chunks,
    max_spikes,
    tols,
    max_steps,
    adjoint,
    root_finder,
):
    """The chunked event-driven loop described in the module docstring."""
    dtype = y0.dtype
    n_saves, n_states = grid.shape[0], y0.shape[0]
    t0, t1 = grid[0], grid[-1]
    rtol, atol, event_rtol, event_atol = tols
    # Padding by one window lets every dynamic slice be full length.
    padded_grid = jnp.concatenate([grid, jnp.full((window,), t1, dtype)])
    trace = jnp.zeros((n_saves + window, n_states), dtype)
    event = diffrax.Event(
        cond_fn=_event_condition,
        root_finder=optx.Newton(rtol=event_rtol, atol=event_atol)
        if root_finder is None
        else root_finder,
        direction=True,
    )
    # An AdEx upstroke from V_T + 8Δ_T to a 0 mV cut-off lasts ~(C/g_L)e^{−8}… down to
    # less than one float32 ulp of t: without a floor on the step the controller stalls
    # there. At the floor (a few ulps of t) the step is forced and the crossing is located
    # on its interpolant, so the spike time is then accurate to the float's resolution.
    dtmin = 4 * float(jnp.finfo(dtype).eps) * t_scale
    controller = diffrax.PIDController(
        rtol=rtol, atol=atol, dtmin=dtmin, jump_ts=_jump_times(model, t1)
    )
    refractory = jnp.zeros((), dtype) if _no_hold(model) else model.refractory.astype(dtype)
    threshold = model.event_threshold(dtype).astype(dtype)
    offsets = jnp.arange(window)

    def chunk(carry, _):
        t, y, hold_until, i, count, spikes, trace, ok, overflow = carry
        times = jax.lax.dynamic_slice(padded_grid, (i,), (window,))
        t_end = jnp.minimum(times[-1], t1)
        t_start = jnp.clip(hold_until, t, t_end)
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(_vector_field),
            solver,
            t0=t_start,
            t1=t_end,
            dt0=None,
            y0=y,
            args=(model, threshold),
            saveat=diffrax.SaveAt(
                subs=(
                    diffrax.SubSaveAt(ts=jnp.clip(times, t_start, t_end)),
                    diffrax.SubSaveAt(t1=True),
                )
            ),
            stepsize_controller=controller,
            event=event,
            adjoint=adjoint,
            max_steps=max_steps,
            throw=False,
        )
        saved_ys, (t_stop,), (y_stop,) = sol.ys[0], sol.ts[1], sol.ys[1]
        active = t < t1
        fired = active & sol.event_mask
        solved = (sol.result == diffrax.RESULTS.successful) | (
            sol.result == diffrax.RESULTS.event_occurred
        )
        ok = ok & (solved | ~active) & jnp.all(jnp.isfinite(y_stop))

        # Save points held in a refractory period take the held state; the rest come from
        # the solve (points after an event are inf there and are left untouched).
        index = i + offsets
        held = times < t_start
        free = (times >= t_start) & (times <= t_stop)
        chunk_ys = jnp.where(held[:, None], y[None, :], saved_ys)
        write = (held | free) & active & (index < n_saves)
        trace = trace.at[index].set(jnp.where(write[:, None], chunk_ys, trace[index]))

        record = fired & (count < max_spikes)
        overflow = overflow | (fired & (count >= max_spikes))
        slot = jnp.minimum(count, max_spikes - 1)
        spikes = spikes.at[slot].set(jnp.where(record, t_stop, spikes[slot]))
        count = count + record.astype(count.dtype)

        y_next = jnp.where(fired, as_state_vector(model.reset(as_state_tuple(y_stop))), y_stop)
        hold_next = jnp.where(fired, t_stop + refractory, hold_until)
        t_next = jnp.where(active, t_stop, t)
        i_next = jnp.minimum(jnp.searchsorted(grid, t_next, side="left"), n_saves - 1)
        return (t_next, y_next, hold_next, i_next, count, spikes, trace, ok, overflow), None

    init = (
        t0,
        y0,
        t0,
        jnp.asarray(0, jnp.int32),
        jnp.asarray(0, jnp.int32),
        jnp.full((max_spikes,), jnp.inf, dtype),
        trace,
        jnp.asarray(True),
        jnp.asarray(False),
    )
    carry, _ = jax.lax.scan(chunk, init, None, length=n_chunks)
    t, _, _, _, count, spikes, trace, ok, overflow = carry
    success = ok & ~overflow & (t >= t1)
    return trace[:n_saves], spikes, count, count.astype(dtype), success


# ---- fixed-step path --------------------------------------------------------------------


def _fixed_path(model, y0, solver, grid, max_spikes, surrogate):
    """The fixed-step loop of `reset_step`s described in the module docstring."""
    dtype = y0.dtype
    compensated = needs_compensation(dtype, solver.compensated)
    dt = jnp.asarray(solver.dt, dtype)
    carry, (count, spikes, soft), saved = fixed_step_loop(
        spiking_step(model, dt, surrogate=surrogate),
        initial_spiking_carry(as_state_tuple(y0), jnp.asarray(grid.t0, dtype), compensated),
        t0=grid.t0,
        dt=dt,
        n_steps=grid.n_steps,
        observer=SpikeSlots(max_spikes),
        save=lambda carry: as_state_vector(carry[0]),
        save_stride=grid.steps_per_save,
        unroll=1,
        checkpoint=solver.checkpoint,
    )
    ys = jnp.concatenate([y0[None], saved], axis=0)
    success = jnp.all(jnp.isfinite(ys)) & (count <= max_spikes)
    return ys, spikes, jnp.minimum(count, max_spikes), soft, success


@eqx.filter_jit
def _solve_spiking(
    model, y0, solver, grid, max_spikes, window, tols, max_steps, adjoint, surrogate,
    root_finder,
):  # fmt: skip
    ts = grid.save_times(y0.dtype)
    if isinstance(solver, ExponentialEuler):
        out = _fixed_path(model, y0, solver, grid, max_spikes, surrogate)
    else:
        n_chunks = max_spikes + 2 + math.ceil((grid.n_saves - 1) / (window - 1))
        t_scale = max(1.0, abs(grid.t0), abs(grid.t1))
        out = _event_path(model, y0, solver, ts, t_scale, window, n_chunks, max_spikes, tols,
                          max_steps, adjoint, root_finder)  # fmt: skip
    return (ts, *out)


def simulate_spiking(
    model,
    t1: float,
    *,
    solver=None,
    max_spikes: int = 100,
    save_every: float | None = 0.1,
    t0: float = 0.0,
    rtol: float | None = None,
    atol: float | None = None,
    event_tol: float | None = None,
    window: int = 64,
    max_steps: int = 100_000,
    surrogate: FastSigmoid | None = None,
    root_finder: optx.AbstractRootFinder | None = None,
    adjoint: diffrax.AbstractAdjoint | None = None,
    throw: bool = True,
) -> SpikingSolution:
    """Simulate an integrate-and-fire model (`LIF`, `AdEx`, `Izhikevich`) from ``t0`` to
    ``t1`` ms, with exact spike events or a fixed step.

    **Arguments:**

    - ``model``: e.g. ``build_LIF(2.0)``, ``build_AdEx(...)``, ``build_Izhikevich(...)``.
    - ``t1``, ``t0``: end and start time, ms (Python numbers: they fix the shapes).
    - ``solver``: a diffrax solver or its name (event path; default Tsit5), or
      ``jaxneuron.ExponentialEuler(dt)`` (fixed-step path).
    - ``max_spikes``: length of ``spike_times`` (padded with ``inf``). More spikes than
      this set ``success`` to False.
    - ``save_every``: save interval of the trace, ms (a whole number of fixed steps), or
      None to save only t0 and t1 (spike times only: the cheapest for populations).
    - ``rtol``, ``atol``: step-size tolerances (default 1e-6/1e-8 in float64, 1e-4/1e-5
      in float32); ``event_tol``: relative (and absolute, ms) tolerance on the Newton
      steps that locate spike times (default 1e-12 in float64, 1e-3 in float32).
    - ``window``: save points per chunk of the event path (cost per chunk, not accuracy).
    - ``max_steps``: step limit of each event-path chunk.
    - ``root_finder``: an optimistix root finder for the event times (default
      ``optx.Newton`` with ``event_tol``).
    - ``surrogate``: a `FastSigmoid` for surrogate gradients (fixed-step path only).
    - ``adjoint``: a diffrax adjoint (default: recursive checkpointing).
    - ``throw``: raise `SimulationError` on failure when not traced.

    Works under `jax.jit`, `jax.vmap` and `jax.grad`; new parameter values of the same
    structure do not recompile.

    **Example:**

    >>> from jaxneuron import ExponentialEuler
    >>> from jaxneuron.neurons.integrate_and_fire import build_LIF
    >>> exact = simulate_spiking(build_LIF(2.0), 100.0, max_spikes=20)
    >>> fixed = simulate_spiking(build_LIF(2.0), 100.0, solver=ExponentialEuler(dt=0.01))
    >>> [round(float(t), 2) for t in exact.spike_times[:3]]
    [13.86, 29.73, 45.59]
    >>> bool(abs(fixed.spike_times[0] - exact.spike_times[0]) < 1e-3)
    True
    """
    if not isinstance(model, AbstractSpikingModel):
        raise TypeError(
            f"simulate_spiking needs an integrate-and-fire model such as build_LIF(...); "
            f"got {type(model).__name__}"
        )
    if int(max_spikes) < 1:
        raise ValueError(f"max_spikes must be >= 1, got {max_spikes}")
    if int(window) < 2:
        raise ValueError(f"window (save points per chunk) must be >= 2, got {window}")
    if isinstance(solver, str):
        solver = get_solver(solver)
    if solver is None:
        solver = diffrax.Tsit5()
    fixed = isinstance(solver, ExponentialEuler)
    if not (fixed or isinstance(solver, diffrax.AbstractSolver)):
        raise TypeError(
            f"solver must be a diffrax solver, ExponentialEuler or a name; got {solver!r}"
        )
    if surrogate is not None and not fixed:
        raise ValueError(
            "surrogate gradients need the fixed-step path: solver=ExponentialEuler(dt)"
        )
    grid = time_grid(
        t0, t1, save_every=save_every, dt=solver.dt if fixed else None, whole_steps=fixed
    )

    model = consistent_precision(model)
    dtype = model_dtype(model)
    y0 = jnp.asarray(model.initial_state()).astype(dtype)
    if y0.shape != (len(model.state_names),):
        raise ValueError(
            f"{model.name}: initial state has shape {y0.shape}, expected "
            f"({len(model.state_names)},); parameters with a batch axis need jax.vmap"
        )
    check_save_memory(
        grid.n_saves * y0.size * y0.dtype.itemsize,
        "save less often (save_every), or only the spike times (save_every=None)",
    )
    default_rtol, default_atol = _default_tolerances(dtype)
    rtol = default_rtol if rtol is None else float(rtol)
    atol = default_atol if atol is None else float(atol)
    if event_tol is None:
        event_tol = 1e-12 if jnp.dtype(dtype) == jnp.float64 else 1e-3
    tols = (rtol, atol, float(event_tol), float(event_tol))
    if adjoint is None:
        adjoint = diffrax.RecursiveCheckpointAdjoint()

    ts, ys, spikes, count, soft, ok = _solve_spiking(
        model, y0, solver, grid, int(max_spikes), int(window), tols, int(max_steps), adjoint,
        surrogate, root_finder,
    )  # fmt: skip
    solution = SpikingSolution(
        ts=ts,
        ys=ys,
        spike_times=spikes,
        spike_count=count,
        soft_count=soft,
        success=ok,
        state_names=tuple(model.state_names),
        model_name=model.name,
        solver_name=type(solver).__name__,
    )
    if throw and is_concrete(ok) and not bool(np.all(np.asarray(ok))):
        raise SimulationError(
            f"spiking simulation of {solution.model_name!r} with {solution.solver_name} failed: "
            f"a solve failed, or more than max_spikes = {max_spikes} spikes occurred "
            f"({int(np.max(np.asarray(count)))} recorded); raise max_spikes, loosen the "
            "tolerances or use a smaller dt"
        )
    return solution
