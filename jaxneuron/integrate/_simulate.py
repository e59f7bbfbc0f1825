"""`simulate`: one entry point for every model and every integrator.

`simulate` is a `functools.singledispatch` function on the model's type. Its own body
integrates a neuron or a `jaxneuron.Network` (`AbstractModel`) with any solver; the other
kinds of model register the driver that runs them beside their definition:
integrate-and-fire neurons `simulate_spiking` (its resets), population networks
`jaxneuron.simulate_populations` and spiking networks `jaxneuron.simulate_network` (the
fixed-step network loop, spike events delivered through synapses). Each takes its own
options as keywords.
"""

from __future__ import annotations

import functools

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._precision import consistent_precision, model_dtype
from .._protocols import AbstractModel
from .._validation import check_finite, check_positive, is_concrete
from ._grid import check_save_memory, time_grid
from ._methods import BLOW_UP, SolveSettings, as_method, default_solver, default_tolerances
from ._solution import SimulationError, Solution


def _check_model(model, t0, y0):
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


@eqx.filter_jit
def _solve(model, y0, method, grid, settings, features):
    return method.solve(model, y0, grid, settings, features)


@functools.singledispatch
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

    - ``model``: a neuron such as ``build_HH(...)`` or a circuit (`jaxneuron.Network`);
      the options below are theirs. Every other kind of model runs on its own driver, which
      ``simulate`` calls with the same arguments (see their options there):

      - an integrate-and-fire neuron (`LIF`, `AdEx`, `Izhikevich`): `simulate_spiking`;
      - a `PopulationNetwork`: `simulate_populations` (``solver`` may be an
        `ExponentialEuler` for its step, or an adaptive solver when the network has no
        spike events: it then runs as `PopulationNetwork.to_network`);
      - a `SpikingNetwork`: `simulate_network`.
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
      ``Solution.features``. With `ExponentialEuler` it is updated after every step from
      the analysis start on (the steps before cost only the model's; ``save_every`` may
      be as long as ``t1``: no trace needs to be stored); with adaptive solvers it is
      computed from the saved samples.

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
            f"simulate needs a model such as build_HH(...), a Network, an integrate-and-fire "
            f"neuron, a PopulationNetwork or a SpikingNetwork; got {type(model).__name__}"
        )
    method = as_method(default_solver(model) if solver is None else solver)
    if save_every is None:
        save_every = 0.1
        if method.fixed_dt is not None:
            ratio = 0.1 / method.fixed_dt
            if round(ratio) < 1 or abs(ratio - round(ratio)) > 1e-6:
                save_every = method.fixed_dt
    grid = time_grid(t0, t1, save_every=save_every, dt=method.fixed_dt)
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
    method.check(model)
    check_save_memory(
        grid.n_saves * y0.size * y0.dtype.itemsize,
        "save less often (save_every), or keep only the features (features=StreamingFeatures"
        "(...), save_every=t1)",
    )
    default_rtol, default_atol = default_tolerances(dtype)
    rtol = default_rtol if rtol is None else float(rtol)
    atol = default_atol if atol is None else float(atol)
    check_positive("rtol (relative tolerance)", rtol, "")
    if not rtol < 1:
        raise ValueError(
            f"rtol (relative tolerance) must be < 1 (an error of 100 % or more controls "
            f"nothing), got {rtol}"
        )
    check_positive("atol (absolute tolerance)", atol, "")
    settings = SolveSettings(
        rtol=rtol,
        atol=atol,
        max_steps=int(max_steps),
        adjoint=diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint,
        progress=bool(progress),
    )
    ts, ys, ok, num_steps, summary, stop = _solve(model, y0, method, grid, settings, features)
    solution = Solution(
        ts=ts,
        ys=ys,
        success=ok,
        num_steps=num_steps,
        state_names=tuple(model.state_names),
        model_name=model.name,
        solver_name=method.name,
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
