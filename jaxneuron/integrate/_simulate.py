"""`simulate`: one entry point over every integrator."""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from .._precision import consistent_precision, model_dtype
from .._protocols import (
    AbstractFixedStepModel,
    AbstractModel,
    AbstractSpikingModel,
    AbstractSplitModel,
    as_state_tuple,
    as_state_vector,
)
from .._validation import check_finite, check_positive, is_concrete
from ._fixed_step import (
    ExponentialEuler,
    VoltageFeatures,
    fixed_step_loop,
    initial_carry,
    model_step,
    needs_compensation,
)
from ._grid import check_save_memory, time_grid
from ._solution import SimulationError, Solution
from ._trbdf2 import TRBDF2

_IMEX = (diffrax.KenCarp3, diffrax.KenCarp4, diffrax.KenCarp5)


def _with_newton(cls):
    """An implicit diffrax solver that solves its stages by Newton's method.

    diffrax's default chord iteration keeps the Jacobian from the start of the step; on
    HH at rtol 1e-8 that rejects about half of all steps, and Kvaerno5 then takes ~10×
    more steps than with Newton (``scripts/bench_hh.py`` counts them).
    """

    def make(**kwargs):
        kwargs.setdefault("root_finder", diffrax.with_stepsize_controller_tols(optx.Newton)())
        return cls(**kwargs)

    make.__name__ = cls.__name__
    return make


#: Solver name → constructor, for `get_solver` and ``simulate(solver="name")``; the implicit
#: diffrax solvers come with Newton root finders using the step-size controller's tolerances.
SOLVERS = {
    "tsit5": diffrax.Tsit5,
    "dopri5": diffrax.Dopri5,
    "kvaerno3": _with_newton(diffrax.Kvaerno3),
    "kvaerno5": _with_newton(diffrax.Kvaerno5),
    "kencarp3": _with_newton(diffrax.KenCarp3),
    "kencarp4": _with_newton(diffrax.KenCarp4),
    "kencarp5": _with_newton(diffrax.KenCarp5),
    "trbdf2": TRBDF2,
    "exponential_euler": ExponentialEuler,
}


def get_solver(name: str, **kwargs):
    """A solver by name: one of ``SOLVERS`` (``"tsit5"``, ``"kvaerno5"``, ``"trbdf2"``,
    ``"kencarp4"``, ``"exponential_euler"`` …); ``kwargs`` go to its constructor.

    >>> get_solver("exponential_euler", dt=0.025)
    ExponentialEuler(dt=0.025)
    """
    key = name.lower().replace("-", "_")
    if key not in SOLVERS:
        raise ValueError(f"unknown solver {name!r}; choose from {sorted(SOLVERS)}")
    return SOLVERS[key](**kwargs)


def default_solver(model):
    """Tsit5 for non-stiff models (HH), Kvaerno5 (with Newton stages) for stiff ones.

    Explicit adaptive Runge–Kutta is the cheapest accurate choice when the fastest time
    constant is near the time scale of the dynamics; when slow calcium and H kinetics
    (hundreds of ms) coexist with sub-millisecond gates, an L-stable implicit method
    takes steps set by accuracy rather than by stability.
    """
    return get_solver("kvaerno5") if model.stiff else diffrax.Tsit5()


def _default_tolerances(dtype) -> tuple[float, float]:
    # float32 cannot resolve relative errors much below 1e-6, and asking for them makes
    # the controller reject steps forever.
    if jnp.dtype(dtype) == jnp.float64:
        return 1e-6, 1e-8
    return 1e-4, 1e-5


def _check_model(model, t0, y0):
    if isinstance(model, AbstractSpikingModel):
        raise TypeError(
            f"{model.name} is an integrate-and-fire model: simulate it with "
            "simulate_spiking, which applies its resets"
        )
    for stimulus in model.stimuli():
        shape = jax.eval_shape(stimulus, jnp.asarray(t0)).shape
        if shape != ():
            raise ValueError(
                f"{model.name}: the stimulus returns shape {shape}, but one neuron needs a "
                "scalar current (µA/cm²); for a population, jax.vmap over the stimulus "
                "parameters"
            )
    n = len(model.state_names)
    if y0.shape != (n,):
        raise ValueError(
            f"{model.name}: initial state y0 has shape {y0.shape}, expected ({n},) for "
            f"states {model.state_names}; parameters with a batch axis need jax.vmap / "
            "eqx.filter_vmap"
        )
    try:
        shape = jax.eval_shape(model.vector_field, jnp.asarray(t0, y0.dtype), y0).shape
    except (TypeError, ValueError) as err:
        shape = f"an error: {err}"
    if shape != (n,):
        raise ValueError(
            f"{model.name}: the vector field gives {shape} instead of shape ({n},); a "
            "parameter probably has a batch axis — use jax.vmap / eqx.filter_vmap to "
            "simulate a population"
        )


def _check_solver(model, solver):
    if isinstance(solver, ExponentialEuler) and not isinstance(model, AbstractFixedStepModel):
        raise TypeError(f"{model.name} has no fixed step: use a diffrax solver")
    if isinstance(solver, _IMEX) and not isinstance(model, AbstractSplitModel):
        raise TypeError(
            f"{type(solver).__name__} needs a conductance-based model (membrane and gate "
            f"parts of the vector field); {model.name} is a {type(model).__name__}"
        )


def _jump_times(model, t1):
    jumps = [j for stimulus in model.stimuli() for j in stimulus.discontinuities()]
    if not jumps:
        return None
    times = jnp.concatenate([jnp.ravel(jnp.asarray(j)) for j in jumps])
    times = jnp.where(jnp.isfinite(times), times, t1 + 1.0)
    return jnp.sort(times)


def _vector_field(t, y, model):
    return model.vector_field(t, y)


def _membrane_field(t, y, model):
    return model.membrane_field(t, y)


def _gate_field(t, y, model):
    return model.gate_field(t, y)


@eqx.filter_jit
def _solve(model, y0, solver, adjoint, grid, rtol, atol, max_steps, progress, features):
    dtype = y0.dtype
    ts = grid.save_times(dtype)
    t0, t1 = grid.t0, grid.t1
    if isinstance(solver, ExponentialEuler):
        k = grid.steps_per_save
        compensated = needs_compensation(dtype, solver.compensated)
        unroll = solver.steps_per_group(y0.shape[0], dtype)
        observer = None if features is None else VoltageFeatures(features, (0,))
        _, observed, saved = fixed_step_loop(
            model_step(model, jnp.asarray(solver.dt, dtype)),
            initial_carry(as_state_tuple(y0), compensated),
            t0=t0,
            dt=jnp.asarray(solver.dt, dtype),
            n_steps=grid.n_steps,
            observer=observer,
            save=lambda carry: as_state_vector(carry[0]),
            save_stride=k,
            unroll=unroll,
            checkpoint=solver.checkpoint,
        )
        ys = jnp.concatenate([y0[None], saved], axis=0)
        num_steps = jnp.asarray(grid.n_steps)
        summary = None
        if features is not None:
            summary = features.summary(observed[0])
        return ts, ys, jnp.all(jnp.isfinite(ys)), num_steps, summary, None
    if isinstance(solver, _IMEX):
        terms = diffrax.MultiTerm(diffrax.ODETerm(_membrane_field), diffrax.ODETerm(_gate_field))
    else:
        terms = diffrax.ODETerm(_vector_field)
    # A step of eps * |t1| (one to two units in the last place of t1) still advances time;
    # a solve forced down to it is stuck (a non-finite field), and stops there instead of
    # spending max_steps. Larger floors fail healthy float32 solves: Newton may not converge
    # at a step that is large against float32's time resolution.
    dtmin = float(jnp.finfo(dtype).eps) * max(1.0, abs(t0), abs(t1))
    controller = diffrax.PIDController(
        rtol=rtol, atol=atol, dtmin=dtmin, jump_ts=_jump_times(model, t1)
    )
    sol = diffrax.diffeqsolve(
        terms,
        solver,
        t0=jnp.asarray(t0, dtype),
        t1=jnp.asarray(t1, dtype),
        dt0=None,
        y0=y0,
        args=model,
        saveat=diffrax.SaveAt(subs=(diffrax.SubSaveAt(ts=ts), diffrax.SubSaveAt(t1=True))),
        stepsize_controller=controller,
        event=diffrax.Event(cond_fn=_blown_up),
        adjoint=adjoint,
        max_steps=max_steps,
        throw=False,
        progress_meter=diffrax.TqdmProgressMeter() if progress else diffrax.NoProgressMeter(),
    )
    ys = sol.ys[0]
    ok = sol.result == diffrax.RESULTS.successful
    ok = ok & jnp.all(jnp.isfinite(ys))
    # adaptive steps are irregular: features come from the saved samples
    summary = None if features is None else features.summary(features.run(ts, ys[:, 0]))
    stop = _Stop(t=sol.ts[1][0], result=sol.result, y=sol.ys[1][0])
    return ts, ys, ok, sol.stats["num_steps"], summary, stop


#: A state entry beyond this magnitude (mV, µM, or a gate) means the solve has blown up.
BLOW_UP = 1e6


def _blown_up(t, y, args, **kwargs):
    return ~jnp.all(jnp.isfinite(y)) | (jnp.max(jnp.abs(y)) > BLOW_UP)


class _Stop(eqx.Module):
    """Where and why an adaptive solve stopped (for the failure message)."""

    t: jax.Array
    result: diffrax.RESULTS
    y: jax.Array


def simulate(
    model,
    t1: float,
    *,
    solver=None,
    t0: float = 0.0,
    save_every: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    max_steps: int = 1_000_000,
    y0=None,
    adjoint: diffrax.AbstractAdjoint | None = None,
    progress: bool = False,
    throw: bool = True,
    features=None,
) -> Solution:
    """Integrate a model from ``t0`` to ``t1`` (ms) and save its state every ``save_every`` ms.

    **Arguments:**

    - ``model``: a neuron such as ``build_HH(...)`` or a circuit (`jaxneuron.Network`).
    - ``t1``, ``t0``: end and start time in ms (Python numbers: they fix the output shape).
    - ``solver``: a diffrax solver (``diffrax.Tsit5()``, ``diffrax.Kvaerno5()``,
      ``diffrax.KenCarp4()`` — run as IMEX with the gates implicit —, `TRBDF2`), an
      `ExponentialEuler` (fixed step), or a name for `get_solver`. Default:
      `default_solver` (Tsit5 for HH, Kvaerno5 for stiff models).
    - ``save_every``: save interval in ms; default 0.1 ms (or the exponential-Euler step
      if 0.1 ms is not a whole number of steps).
    - ``rtol``, ``atol``: adaptive-solver tolerances; default 1e-6/1e-8 in float64 and
      1e-4/1e-5 in float32 (the dtype of the model's parameters).
    - ``max_steps``: adaptive-solver step limit.
    - ``y0``: initial state; default ``model.initial_state()`` (gates at steady state).
    - ``adjoint``: a diffrax adjoint for reverse-mode gradients (default: recursive
      checkpointing).
    - ``progress``: show a tqdm progress bar (adaptive solvers).
    - ``throw``: raise `SimulationError` when the solve fails and the call is not being
      traced (under jit/vmap, read ``Solution.success`` instead).
    - ``features``: a `jaxneuron.analysis.StreamingFeatures`; its summary is returned in
      ``Solution.features``. With `ExponentialEuler` it is updated after every step (so
      ``save_every`` may be as long as ``t1``: no trace needs to be stored); with adaptive
      solvers it is computed from the saved samples.

    Works under `jax.jit`, `jax.vmap` (over parameters and stimuli) and `jax.grad`; calling
    it again with new parameter values of the same structure does not recompile.

    **Example:**

    >>> from jaxneuron import build_HH, simulate
    >>> sol = simulate(build_HH(10.0), 100.0, solver="exponential_euler")
    >>> bool((sol.V > 0).any())
    True
    """
    if not isinstance(model, AbstractModel):
        raise TypeError(
            f"simulate needs a model such as build_HH(...) or a Network; got "
            f"{type(model).__name__} (a PopulationNetwork runs with simulate_populations)"
        )
    if isinstance(solver, str):
        solver = get_solver(solver)
    if solver is None:
        solver = default_solver(model)
    if not isinstance(solver, ExponentialEuler | diffrax.AbstractSolver):
        raise TypeError(
            f"solver must be a diffrax solver, ExponentialEuler or a name; got {solver!r}"
        )
    fixed = isinstance(solver, ExponentialEuler)
    if save_every is None:
        save_every = 0.1
        if fixed:
            ratio = 0.1 / solver.dt
            if round(ratio) < 1 or abs(ratio - round(ratio)) > 1e-6:
                save_every = solver.dt
    grid = time_grid(t0, t1, save_every=save_every, dt=solver.dt if fixed else None)
    if int(max_steps) < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")

    model = consistent_precision(model)
    dtype = model_dtype(model)
    if y0 is None:
        try:
            jax.eval_shape(model.initial_state)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"{model.name}: cannot build the initial state ({err}); "
                "a parameter probably has a batch axis — use jax.vmap / eqx.filter_vmap to "
                "simulate a population"
            ) from err
        y0 = model.initial_state()
    y0 = jnp.asarray(y0)
    y0 = y0.astype(dtype)
    check_finite("y0 (initial state)", y0, "")
    _check_model(model, grid.t0, y0)
    _check_solver(model, solver)
    check_save_memory(
        grid.n_saves * y0.size * y0.dtype.itemsize,
        "save less often (save_every), or keep only the features (features=StreamingFeatures"
        "(...), save_every=t1)",
    )
    default_rtol, default_atol = _default_tolerances(dtype)
    rtol = default_rtol if rtol is None else float(rtol)
    atol = default_atol if atol is None else float(atol)
    check_positive("rtol (relative tolerance)", rtol, "")
    if not rtol < 1:
        raise ValueError(
            f"rtol (relative tolerance) must be < 1 (an error of 100 % or more controls "
            f"nothing), got {rtol}"
        )
    check_positive("atol (absolute tolerance)", atol, "")
    if adjoint is None:
        adjoint = diffrax.RecursiveCheckpointAdjoint()

    ts, ys, ok, num_steps, summary, stop = _solve(
        model,
        y0,
        solver,
        adjoint,
        grid,
        rtol,
        atol,
        int(max_steps),
        bool(progress),
        features,
    )
    solution = Solution(
        ts=ts,
        ys=ys,
        success=ok,
        num_steps=num_steps,
        state_names=tuple(model.state_names),
        model_name=model.name,
        solver_name=type(solver).__name__,
        features=summary,
    )
    if throw and is_concrete(ok) and not bool(np.all(np.asarray(ok))):
        raise SimulationError(_failure_message(model, solution, stop))
    return solution


def _failure_message(model, solution: Solution, stop) -> str:
    ys = np.asarray(solution.ys)
    ts = np.asarray(solution.ts)
    finite = np.all(np.isfinite(ys), axis=-1)
    reached = ts[finite][-1] if finite.any() else ts[0]
    params = {k: np.asarray(v, float).round(6).tolist() for k, v in model.parameters().items()}
    what = f"simulation of {solution.model_name!r} with {solution.solver_name} failed"
    if stop is None:  # the fixed-step path
        return (
            f"{what}: the state became NaN or infinite after t = {reached:g} ms (the last "
            f"finite save; {int(np.max(solution.num_steps))} steps); a blown-up model, or a "
            f"step too large for it: try a smaller dt. Parameters: {params}"
        )
    t_stop = float(np.max(np.asarray(stop.t)))
    if bool(np.any(stop.result == diffrax.RESULTS.event_occurred)):
        y = np.asarray(stop.y)
        bad = [n for n, v in zip(solution.state_names, y, strict=True) if not abs(v) <= BLOW_UP]
        reason = (
            f"the state blew up at t = {t_stop:g} ms ({', '.join(bad)} became NaN, infinite "
            f"or beyond {BLOW_UP:g})"
        )
    else:
        reason = f"stopped at t = {t_stop:g} ms: {str(diffrax.RESULTS[stop.result]).rstrip('.')}"
        if np.asarray(stop.y).dtype == np.float32:
            reason += (
                f". In float32, time itself resolves only {np.spacing(np.float32(t_stop)):.2g} ms "
                "here: long adaptive solves need float64 (`jaxneuron.as_dtype`), or use "
                "ExponentialEuler"
            )
    return f"{what}: {reason} ({int(np.max(solution.num_steps))} steps). Parameters: {params}"
