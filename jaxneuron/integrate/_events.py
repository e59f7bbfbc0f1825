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

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, Bool, Float, Int

from .._precision import consistent_precision, model_dtype
from .._protocols import AbstractSpikingModel
from .._validation import check_positive, is_concrete
from ._grid import check_save_memory, time_grid
from ._methods import SolveSettings, as_method, default_tolerances
from ._simulate import simulate
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


@eqx.filter_jit
def _solve_spiking(model, y0, method, grid, settings, max_spikes, surrogate):
    return method.solve_spiking(model, y0, grid, settings, max_spikes, surrogate)


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
    ``t1`` ms, with exact spike events or a fixed step. `simulate` of such a model calls
    this.

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
    method = as_method(diffrax.Tsit5() if solver is None else solver)
    fixed = method.fixed_dt is not None
    if surrogate is not None and not fixed:
        raise ValueError(
            "surrogate gradients need the fixed-step path: solver=ExponentialEuler(dt)"
        )
    grid = time_grid(t0, t1, save_every=save_every, dt=method.fixed_dt, whole_steps=fixed)

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
    default_rtol, default_atol = default_tolerances(dtype)
    if event_tol is None:
        event_tol = 1e-12 if jnp.dtype(dtype) == jnp.float64 else 1e-3
    settings = SolveSettings(
        rtol=default_rtol if rtol is None else float(rtol),
        atol=default_atol if atol is None else float(atol),
        max_steps=int(max_steps),
        adjoint=diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint,
        event_tol=float(event_tol),
        window=int(window),
        root_finder=root_finder,
    )
    ts, ys, spikes, count, soft, ok = _solve_spiking(
        model, y0, method, grid, settings, int(max_spikes), surrogate
    )
    solution = SpikingSolution(
        ts=ts,
        ys=ys,
        spike_times=spikes,
        spike_count=count,
        soft_count=soft,
        success=ok,
        state_names=tuple(model.state_names),
        model_name=model.name,
        solver_name=method.name,
    )
    if throw and is_concrete(ok) and not bool(np.all(np.asarray(ok))):
        raise SimulationError(
            f"spiking simulation of {solution.model_name!r} with {solution.solver_name} failed: "
            f"a solve failed, or more than max_spikes = {max_spikes} spikes occurred "
            f"({int(np.max(np.asarray(count)))} recorded); raise max_spikes, loosen the "
            "tolerances or use a smaller dt"
        )
    return solution


# `simulate(lif, ...)` runs here, with these options
simulate.register(AbstractSpikingModel, simulate_spiking)
