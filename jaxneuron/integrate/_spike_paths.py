r"""The two paths of `simulate_spiking` (see `jaxneuron.integrate._events`): the chunked
event-driven loop of a diffrax solver (`event_path`) and the fixed-step loop of
`reset_step`\ s (`fixed_path`)."""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import optimistix as optx

from .._protocols import as_state_tuple, as_state_vector
from ._fixed_step import (
    SpikeSlots,
    fixed_step_loop,
    initial_spiking_carry,
    needs_compensation,
    spiking_step,
)
from ._grid import jump_times

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


def event_path(
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
        rtol=rtol, atol=atol, dtmin=dtmin, jump_ts=jump_times(model, t1)
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


def fixed_path(model, y0, solver, grid, max_spikes, surrogate):
    """The fixed-step loop of `reset_step`s described in the module docstring."""
    dtype = y0.dtype
    compensated = needs_compensation(dtype, solver.compensated)
    dt = jnp.asarray(solver.dt, dtype)
    carry, (count, spikes, soft), saved = fixed_step_loop(
        spiking_step(model, dt, surrogate=surrogate),
        initial_spiking_carry(
            as_state_tuple(y0),
            jnp.asarray(grid.t0, dtype),
            compensated and model.compensated_states(solver.dt),
        ),
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
