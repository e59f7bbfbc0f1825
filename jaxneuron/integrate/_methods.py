r"""How `simulate` and `simulate_spiking` run a model: each way is an `AbstractMethod`
that knows how to solve, so the entry points never ask which solver they were given.

- `FixedStep`: `ExponentialEuler`'s fixed-step loop (`fixed_step_loop` over the model's
  ``fixed_step``; for integrate-and-fire models the loop of `reset_step`\ s);
- `Adaptive`: a diffrax solver with a PID step-size controller (for integrate-and-fire
  models, the chunked event-driven loop);
- `IMEX`: a diffrax IMEX solver (KenCarp) on the split vector field of a
  conductance-based model, the gates implicit.

`as_method` turns what a user passes as ``solver=`` (a name, an `ExponentialEuler`, a
diffrax solver) into one of them, once, at the entry point. The options every method
reads travel in one `SolveSettings`.

The solver registry (`SOLVERS`, `get_solver`, `default_solver`) lives here too.
"""

from __future__ import annotations

import abc
import math

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

from .._protocols import (
    AbstractFixedStepModel,
    AbstractSplitModel,
    as_state_tuple,
    as_state_vector,
)
from ._fixed_step import (
    ExponentialEuler,
    VoltageFeatures,
    fixed_step_loop,
    initial_carry,
    model_step,
    needs_compensation,
    steps_before,
)
from ._grid import jump_times
from ._spike_paths import event_path, fixed_path
from ._trbdf2 import TRBDF2

# ---- the solver registry -------------------------------------------------------------


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

#: diffrax's IMEX solvers: run on a model's membrane (explicit) and gate (implicit) parts
_IMEX_SOLVERS = (diffrax.KenCarp3, diffrax.KenCarp4, diffrax.KenCarp5)


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


def default_tolerances(dtype) -> tuple[float, float]:
    """(rtol, atol) of the adaptive solvers when none are given: 1e-6/1e-8 in float64,
    1e-4/1e-5 below (float32 cannot resolve relative errors much below 1e-6, and asking
    for them makes the controller reject steps forever)."""
    if jnp.dtype(dtype) == jnp.float64:
        return 1e-6, 1e-8
    return 1e-4, 1e-5


# ---- settings ------------------------------------------------------------------------


class SolveSettings(eqx.Module):
    """The options of a solve that every method reads (checked by the entry point):
    ``rtol``, ``atol`` (adaptive step control), ``max_steps`` (adaptive step limit, per
    chunk of the event path), ``adjoint`` (a diffrax adjoint for reverse mode),
    ``progress`` (a tqdm bar, adaptive solves), and for `simulate_spiking` the event
    tolerance ``event_tol`` (relative and absolute, ms), the ``window`` of save points
    per event-path chunk and the event ``root_finder`` (None: Newton with ``event_tol``)."""

    rtol: float = eqx.field(static=True)
    atol: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    adjoint: diffrax.AbstractAdjoint
    progress: bool = eqx.field(static=True, default=False)
    event_tol: float = eqx.field(static=True, default=1e-12)
    window: int = eqx.field(static=True, default=64)
    root_finder: optx.AbstractRootFinder | None = None


#: A state entry beyond this magnitude (mV, µM, or a gate) means the solve has blown up.
BLOW_UP = 1e6


class Stop(eqx.Module):
    """Where and why an adaptive solve stopped (for the failure message)."""

    t: jax.Array
    result: diffrax.RESULTS
    y: jax.Array


# ---- the methods ---------------------------------------------------------------------


class AbstractMethod(eqx.Module):
    """A way to run a model (see the module)."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The solver's name, for solutions and messages."""

    @property
    @abc.abstractmethod
    def fixed_dt(self) -> float | None:
        """The fixed step (ms), or None for an adaptive method."""

    @abc.abstractmethod
    def check(self, model) -> None:
        """A TypeError if ``model`` cannot be run this way."""

    @abc.abstractmethod
    def solve(self, model, y0, grid, settings: SolveSettings, features):
        """``(ts, ys, ok, num_steps, features summary or None, Stop or None)`` of
        `simulate` on the time grid ``grid`` (see `jaxneuron.integrate.time_grid`)."""

    @abc.abstractmethod
    def solve_spiking(self, model, y0, grid, settings: SolveSettings, max_spikes, surrogate):
        """``(ts, ys, spike times, count, soft count, success)`` of `simulate_spiking`."""


class FixedStep(AbstractMethod):
    """`ExponentialEuler`'s fixed-step loop."""

    solver: ExponentialEuler

    @property
    def name(self) -> str:
        return type(self.solver).__name__

    @property
    def fixed_dt(self) -> float:
        return self.solver.dt

    def check(self, model) -> None:
        if not isinstance(model, AbstractFixedStepModel):
            raise TypeError(f"{model.name} has no fixed step: use a diffrax solver")

    def solve(self, model, y0, grid, settings, features):
        solver = self.solver
        dtype = y0.dtype
        ts = grid.save_times(dtype)
        compensated = needs_compensation(dtype, solver.compensated)
        observer = None if features is None else VoltageFeatures(features, (0,))
        quiet = 0 if features is None else steps_before(features.start, grid.t0, solver.dt)
        _, observed, saved = fixed_step_loop(
            model_step(model, jnp.asarray(solver.dt, dtype)),
            initial_carry(as_state_tuple(y0), compensated and model.compensated_states(solver.dt)),
            t0=grid.t0,
            dt=jnp.asarray(solver.dt, dtype),
            n_steps=grid.n_steps,
            observer=observer,
            save=lambda carry: as_state_vector(carry[0]),
            save_stride=grid.steps_per_save,
            unroll=solver.steps_per_group(y0.shape[0], dtype),
            checkpoint=solver.checkpoint,
            observe_from=quiet,
        )
        ys = jnp.concatenate([y0[None], saved], axis=0)
        summary = None if features is None else features.summary(observed[0])
        return ts, ys, jnp.all(jnp.isfinite(ys)), jnp.asarray(grid.n_steps), summary, None

    def solve_spiking(self, model, y0, grid, settings, max_spikes, surrogate):
        ts = grid.save_times(y0.dtype)
        return (ts, *fixed_path(model, y0, self.solver, grid, max_spikes, surrogate))


def _vector_field(t, y, model):
    return model.vector_field(t, y)


def _membrane_field(t, y, model):
    return model.membrane_field(t, y)


def _gate_field(t, y, model):
    return model.gate_field(t, y)


def _blown_up(t, y, args, **kwargs):
    return ~jnp.all(jnp.isfinite(y)) | (jnp.max(jnp.abs(y)) > BLOW_UP)


class Adaptive(AbstractMethod):
    """A diffrax solver with a PID step-size controller that steps onto the stimuli's
    discontinuities."""

    solver: diffrax.AbstractSolver

    @property
    def name(self) -> str:
        return type(self.solver).__name__

    @property
    def fixed_dt(self) -> None:
        return None

    def check(self, model) -> None:
        pass

    def terms(self):
        """The diffrax terms of the vector field (args: the model)."""
        return diffrax.ODETerm(_vector_field)

    def solve(self, model, y0, grid, settings, features):
        dtype = y0.dtype
        ts = grid.save_times(dtype)
        t0, t1 = grid.t0, grid.t1
        # A step of eps * |t1| (one to two units in the last place of t1) still advances
        # time; a solve forced down to it is stuck (a non-finite field), and stops there
        # instead of spending max_steps. Larger floors fail healthy float32 solves: Newton
        # may not converge at a step that is large against float32's time resolution.
        dtmin = float(jnp.finfo(dtype).eps) * max(1.0, abs(t0), abs(t1))
        controller = diffrax.PIDController(
            rtol=settings.rtol, atol=settings.atol, dtmin=dtmin, jump_ts=jump_times(model, t1)
        )
        progress = diffrax.TqdmProgressMeter() if settings.progress else None
        sol = diffrax.diffeqsolve(
            self.terms(),
            self.solver,
            t0=jnp.asarray(t0, dtype),
            t1=jnp.asarray(t1, dtype),
            dt0=None,
            y0=y0,
            args=model,
            saveat=diffrax.SaveAt(subs=(diffrax.SubSaveAt(ts=ts), diffrax.SubSaveAt(t1=True))),
            stepsize_controller=controller,
            event=diffrax.Event(cond_fn=_blown_up),
            adjoint=settings.adjoint,
            max_steps=settings.max_steps,
            throw=False,
            progress_meter=progress or diffrax.NoProgressMeter(),
        )
        ys = sol.ys[0]
        ok = (sol.result == diffrax.RESULTS.successful) & jnp.all(jnp.isfinite(ys))
        # adaptive steps are irregular: features come from the saved samples
        summary = None if features is None else features.summary(features.run(ts, ys[:, 0]))
        stop = Stop(t=sol.ts[1][0], result=sol.result, y=sol.ys[1][0])
        return ts, ys, ok, sol.stats["num_steps"], summary, stop

    def solve_spiking(self, model, y0, grid, settings, max_spikes, surrogate):
        ts = grid.save_times(y0.dtype)
        window = settings.window
        n_chunks = max_spikes + 2 + math.ceil((grid.n_saves - 1) / (window - 1))
        t_scale = max(1.0, abs(grid.t0), abs(grid.t1))
        tols = (settings.rtol, settings.atol, settings.event_tol, settings.event_tol)
        out = event_path(model, y0, self.solver, ts, t_scale, window, n_chunks, max_spikes,
                         tols, settings.max_steps, settings.adjoint,
                         settings.root_finder)  # fmt: skip
        return (ts, *out)


class IMEX(Adaptive):
    """A diffrax IMEX solver (KenCarp) on a conductance-based model's split vector field:
    the membrane part explicit, the gates implicit."""

    def check(self, model) -> None:
        if not isinstance(model, AbstractSplitModel):
            raise TypeError(
                f"{self.name} needs a conductance-based model (membrane and gate parts of "
                f"the vector field); {model.name} is a {type(model).__name__}"
            )

    def terms(self):
        return diffrax.MultiTerm(diffrax.ODETerm(_membrane_field), diffrax.ODETerm(_gate_field))


def as_method(solver) -> AbstractMethod:
    """The method that runs ``solver``: a name (`get_solver`), an `ExponentialEuler`, a
    diffrax solver (IMEX for KenCarp), or a method as is; anything else is a TypeError."""
    if isinstance(solver, str):
        solver = get_solver(solver)
    if isinstance(solver, AbstractMethod):
        return solver
    if isinstance(solver, ExponentialEuler):
        return FixedStep(solver)
    if isinstance(solver, _IMEX_SOLVERS):
        return IMEX(solver)
    if isinstance(solver, diffrax.AbstractSolver):
        return Adaptive(solver)
    raise TypeError(f"solver must be a diffrax solver, ExponentialEuler or a name; got {solver!r}")


def fixed_step_options(solver, options: dict, model_kind: str) -> dict:
    """The keyword options of a fixed-step driver (`jaxneuron.simulate_populations`,
    `jaxneuron.simulate_network`) called through `simulate` with ``solver``: None leaves
    ``options`` as they are; a fixed-step solver (an `ExponentialEuler` or its name)
    gives its step as ``dt`` (ms). An adaptive solver is a TypeError: ``model_kind``
    has spike events, which only a fixed step delivers.

    >>> fixed_step_options(ExponentialEuler(0.05), {}, "a network")
    {'dt': 0.05}
    """
    if solver is None:
        return options
    dt = as_method(solver).fixed_dt
    if dt is None:
        raise TypeError(
            f"{model_kind} has spike events and runs with a fixed step only: "
            f"solver=ExponentialEuler(dt) or dt=…, not {solver!r}"
        )
    if "dt" in options:
        raise TypeError("give the step once: solver=ExponentialEuler(dt) or dt=…, not both")
    return {**options, "dt": dt}
