r"""Losses: callables ``loss(model) → scalar`` that simulate the model and compare.

- `TraceLoss`: mean squared error (mV²) between the simulated potential and a target
  trace (a recording given as arrays: sample times or a sampling rate, and the stimulus
  that was applied), over an analysis window [start, stop] in ms.
- `FeatureLoss`: Σ weight·((feature − target)/scale)² over differentiable features
  (`BurstPeriod`, `DutyCycle`, `SpikeCount`, `BurstPhase`, …) of a simulated window.
- Any function ``model → scalar`` is a loss too; losses add and scale:
  ``TraceLoss(...) + 0.1 * FeatureLoss(...)``.
"""

from __future__ import annotations

import copy
import math

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from .._precision import as_dtype, model_dtype
from ..integrate import ExponentialEuler, as_method, simulate
from ..network import Network
from ..neurons import ConductanceNeuron, IntegrateAndFire
from ..protocols import AbstractProtocol, Protocol, noisy
from ..stimuli import Interpolated, as_stimulus
from ._features import BurstOnsetPhase, BurstPhase, Feature
from ._nudging import Nudged
from ._optimizers import adam, lbfgs


class Loss(eqx.Module):
    """A scalar objective of a model. Subclasses implement ``__call__(model)``;
    ``check(model)`` raises early, readable errors (called by `fit` before any step)."""

    def __call__(self, model) -> Float[Array, ""]:
        raise NotImplementedError

    def check(self, model) -> None:
        pass

    def with_adjoint(self, adjoint) -> Loss:
        """The same loss with the simulations differentiated by ``adjoint``."""
        return self

    def synchronisable(self) -> bool:
        """Whether `with_nudging` can couple the model to this loss's recording: what
        `anneal` and `fit`'s recovery need."""
        return False

    def with_nudging(self, gain) -> Loss:
        """The same loss with the model coupled to the recording by gain·(V − V_data)."""
        raise TypeError(f"{type(self).__name__} has no recorded potential to couple a model to")

    def continued(self, result) -> Loss:
        """The loss for a fit that goes on from ``result`` (a `FitResult`, as between the
        stages of `anneal`): itself, unless it has variables of its own
        (`JunctionPotential`), which then start where ``result`` left them."""
        return self

    def residuals(self, model) -> Float[Array, " m"]:
        """r with ``loss(model) = Σ r²``, for least-squares losses (`TraceLoss`,
        `FeatureLoss` and their non-negative sums): `sensitivity` differentiates it."""
        raise NotImplementedError(
            f"{type(self).__name__} is not a least-squares loss (it has no residuals); "
            "sensitivity needs a TraceLoss, a FeatureLoss or a sum of them"
        )

    def noise_floor(self, model=None) -> float | None:
        """The loss that the data's own noise sets: what the true parameters would give
        (None where it cannot be estimated: `fit` then cannot tell a local minimum from
        the optimum by the loss's level). With ``model``, the estimate also uses its
        residuals (see `TraceLoss.noise_floor`)."""
        return None

    def variables(self, model, free):
        """What `fit` optimises for this loss, given the free parameters ``free`` (a
        `FreeParameters`): by default just them; `MultipleShooting` adds its segment
        states."""
        return free

    def is_smooth(self) -> bool:
        """Whether the loss is deterministic and smooth in the parameters (a trace MSE),
        so that quasi-Newton steps with a line search suit it."""
        return False

    def default_optimizer(self) -> optax.GradientTransformation:
        """What `fit` uses when given no optimiser: `lbfgs` for a smooth loss, else
        ``optax.adam(0.05)`` (robust to the rough surfaces of spike-based losses)."""
        return lbfgs() if self.is_smooth() else adam(0.05)

    def __add__(self, other) -> Loss:
        return SumLoss((self, as_loss(other)), (1.0, 1.0))

    def __radd__(self, other) -> Loss:
        if isinstance(other, int | float) and other == 0:  # sum([...]) starts at 0
            return self
        return as_loss(other) + self

    def __mul__(self, weight: float) -> Loss:
        return SumLoss((self,), (float(weight),))

    __rmul__ = __mul__


class FunctionLoss(Loss):
    """Wraps a plain function ``model → scalar``."""

    fn: object = eqx.field(static=True)

    def __call__(self, model):
        return self.fn(model)


def as_loss(loss) -> Loss:
    if isinstance(loss, Loss):
        return loss
    if callable(loss):
        return FunctionLoss(loss)
    raise TypeError(f"a loss is a callable model → scalar or a Loss; got {type(loss).__name__}")


class SumLoss(Loss):
    """Σᵢ wᵢ·lossᵢ(model)."""

    terms: tuple[Loss, ...]
    weights: tuple[float, ...] = eqx.field(static=True)

    def __call__(self, model):
        return sum(w * term(model) for w, term in zip(self.weights, self.terms, strict=True))

    def check(self, model):
        for term in self.terms:
            term.check(model)

    def with_adjoint(self, adjoint):
        return SumLoss(tuple(t.with_adjoint(adjoint) for t in self.terms), self.weights)

    def is_smooth(self):
        return all(t.is_smooth() for t in self.terms)

    def noise_floor(self, model=None):
        floors = [t.noise_floor(model) for t in self.terms]
        if any(f is None for f in floors) or any(w < 0 for w in self.weights):
            return None
        return sum(w * f for w, f in zip(self.weights, floors, strict=True))

    def residuals(self, model):
        if any(w < 0 for w in self.weights):
            raise ValueError(f"a loss with negative weights {self.weights} has no residuals")
        return jnp.concatenate(
            [
                jnp.sqrt(w) * jnp.ravel(t.residuals(model))
                for w, t in zip(self.weights, self.terms, strict=True)
            ]
        )

    def __add__(self, other):
        other = as_loss(other)
        if isinstance(other, SumLoss):
            return SumLoss(self.terms + other.terms, self.weights + other.weights)
        return SumLoss(self.terms + (other,), self.weights + (1.0,))

    def __mul__(self, weight):
        return SumLoss(self.terms, tuple(float(weight) * w for w in self.weights))

    __rmul__ = __mul__


# ---- simulation settings shared by the trace and feature losses -------------------------


class _Simulated(Loss):
    t1: float = eqx.field(static=True)
    save_every: float = eqx.field(static=True)
    solver: object
    stimulus: object
    adjoint: object
    rtol: float | None = eqx.field(static=True)
    atol: float | None = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def _set_simulation(self, t1, solver, save_every, stimulus, adjoint, rtol, atol, max_steps):
        self.solver = ExponentialEuler(dt=0.025, unroll=1) if solver is None else solver
        if save_every is None:
            save_every = as_method(self.solver).fixed_dt or 0.1
        self.t1 = float(t1)
        self.save_every = float(save_every)
        self.stimulus = None if stimulus is None else as_stimulus(stimulus)
        self.adjoint = adjoint
        self.rtol, self.atol, self.max_steps = rtol, atol, int(max_steps)

    def with_adjoint(self, adjoint):
        return eqx.tree_at(lambda s: s.adjoint, self, adjoint, is_leaf=lambda x: x is None)

    def _model(self, model):
        if self.stimulus is None:
            return model
        if not isinstance(model, ConductanceNeuron | IntegrateAndFire):
            raise ValueError(
                f"{type(self).__name__}: a stimulus was given but {type(model).__name__} "
                "has no stimulus field (for a circuit, give each cell its stimulus)"
            )
        # the recording's stimulus takes the model's precision
        stimulus = as_dtype(self.stimulus, model_dtype(model))
        return eqx.tree_at(lambda m: m.stimulus, model, stimulus)

    def _simulate(self, model):
        return *self._run(self._model(model)), _cell_names(model)

    def _run(self, model):
        """(ts, V) of ``model`` simulated with the loss's settings."""
        sol = simulate(
            model,
            self.t1,
            solver=self.solver,
            save_every=self.save_every,
            adjoint=self.adjoint,
            rtol=self.rtol,
            atol=self.atol,
            max_steps=self.max_steps,
            throw=False,
        )
        return sol.ts, sol.V

    def _window(self, start, stop) -> tuple[int, int]:
        """Static sample indices [i0, i1) of the window [start, stop] ms."""
        n = int(math.floor(self.t1 / self.save_every + 1e-9)) + 1
        i0 = int(math.ceil(start / self.save_every - 1e-9))
        i1 = n if stop is None else int(math.floor(stop / self.save_every + 1e-9)) + 1
        return i0, min(i1, n)


def _cell_names(model) -> tuple[str, ...]:
    return model.neuron_names if isinstance(model, Network) else ()


def _check_window(owner, start, stop, t1):
    if start < 0 or start >= t1:
        raise ValueError(f"{owner}: start = {start} ms must lie in [0, t1 = {t1} ms)")
    if stop is not None and not start < stop <= t1:
        raise ValueError(f"{owner}: stop = {stop} ms must lie in (start = {start}, t1 = {t1}] ms")


# ---- trace loss ---------------------------------------------------------------------


class TraceLoss(_Simulated):
    r"""Mean squared error (mV²) between the simulated potential and a target trace,

        L = (1/N) Σᵢ (V_model(tᵢ) − V_target(tᵢ))²,   tᵢ ∈ [start, stop],

    the model's trace (saved every ``save_every`` ms) linearly interpolated at the target's
    sample times ``tᵢ``, which need not lie on the simulation grid.

    **Arguments:**

    - ``target``: potentials in mV, shape (n,) — or (n, cells) for a circuit, or (n,)
      with ``cell=`` naming the recorded cell.
    - ``times`` (ms, shape (n,)) or ``dt`` (sampling interval in ms; times t0 + i·dt):
      when the samples were taken. See also `TraceLoss.from_recording` (sampling rate in Hz).
    - ``t1``: optional simulation length (ms); if given with ``dt``, the target must have
      exactly ⌊t1/dt⌋ + 1 samples (an early check against a mismatched recording).
    - ``start``, ``stop``: the analysis window in ms (default: all samples).
    - ``stimulus``: the current (µA/cm²) that was injected during the recording; it
      replaces the model's stimulus in the simulation. Default: keep the model's.
    - ``solver`` (default ``ExponentialEuler(dt=0.025, unroll=1)``), ``save_every``, ``adjoint``,
      ``rtol``, ``atol``, ``max_steps``: passed to `simulate`.

    >>> import jax.numpy as jnp
    >>> from jaxneuron import build_HH
    >>> loss = TraceLoss(jnp.full(101, -65.0), dt=0.5, t1=50.0)
    >>> float(loss(build_HH())) < 1.0        # HH at rest sits near −65 mV
    True
    """

    times: Float[Array, " n"]
    target: Float[Array, "n ..."]
    cell: str | None = eqx.field(static=True)
    window: tuple[int, int] = eqx.field(static=True)
    nudging: Float[Array, ""] | None = None

    def __init__(
        self,
        target,
        *,
        times=None,
        dt=None,
        t0=0.0,
        t1=None,
        start=None,
        stop=None,
        stimulus=None,
        cell=None,
        solver=None,
        save_every=None,
        adjoint=None,
        rtol=None,
        atol=None,
        max_steps=1_000_000,
    ):
        target = np.asarray(target, dtype=float)
        if target.ndim not in (1, 2) or target.shape[0] < 2:
            raise ValueError(
                f"TraceLoss: target must have shape (n_samples,) or (n_samples, cells) with "
                f"n_samples >= 2, got {target.shape}"
            )
        n = target.shape[0]
        if (times is None) == (dt is None):
            raise TypeError("TraceLoss: give the sample times either as times=... or dt=... (ms)")
        if times is not None:
            times = np.asarray(times, dtype=float)
            if times.shape != (n,):
                raise ValueError(
                    f"TraceLoss: target has {n} samples but times has shape {times.shape}; "
                    f"expected ({n},) sample times in ms"
                )
            if np.any(np.diff(times) <= 0):
                raise ValueError("TraceLoss: times (ms) must increase strictly")
        else:
            if not dt > 0:
                raise ValueError(f"TraceLoss: dt (sampling interval) must be > 0 ms, got {dt}")
            if t1 is not None:
                expected = int(math.floor((t1 - t0) / dt + 1e-9)) + 1
                if n != expected:
                    raise ValueError(
                        f"TraceLoss: target has {n} samples, expected {expected} for "
                        f"t = {t0:g} … {t1:g} ms sampled every {dt:g} ms"
                    )
            times = t0 + dt * np.arange(n)
        if t1 is None:
            t1 = float(times[-1])
        elif times[-1] > t1 + 1e-9:
            raise ValueError(f"TraceLoss: the target runs to {times[-1]:g} ms, past t1 = {t1:g} ms")
        if times[0] < 0:
            raise ValueError(f"TraceLoss: sample times start at {times[0]:g} ms, before 0 ms")
        start = float(times[0]) if start is None else float(start)
        _check_window("TraceLoss", start, stop, t1)
        keep = (times >= start - 1e-9) & (times <= (np.inf if stop is None else stop) + 1e-9)
        if keep.sum() < 1:
            raise ValueError(f"TraceLoss: no target sample in the window [{start}, {stop}] ms")
        self._set_simulation(t1, solver, save_every, stimulus, adjoint, rtol, atol, max_steps)
        self.times = jnp.asarray(times)
        if not np.all(np.isfinite(target)):
            bad = np.flatnonzero(~np.all(np.isfinite(target.reshape(n, -1)), axis=1))
            raise ValueError(
                f"TraceLoss: the target holds NaN or infinite values (first at sample "
                f"{bad[0]}, t = {times[bad[0]]:g} ms); drop or interpolate them, or fit a "
                "window without them (start, stop)"
            )
        self.target = jnp.asarray(target)
        self.cell = cell
        self.window = (int(np.argmax(keep)), int(len(keep) - np.argmax(keep[::-1])))

    @classmethod
    def from_recording(cls, V, sampling_rate_hz: float, *, t0: float = 0.0, **kwargs):
        """A `TraceLoss` for a recording sampled at ``sampling_rate_hz`` (Hz) from ``t0``
        (ms): sample i was taken at t0 + i·1000/sampling_rate_hz ms."""
        if not sampling_rate_hz > 0:
            raise ValueError(f"sampling_rate_hz must be > 0 Hz, got {sampling_rate_hz}")
        return cls(V, dt=1000.0 / sampling_rate_hz, t0=t0, **kwargs)

    def check(self, model):
        _check_gain(self.nudging, self.solver, model)
        cells = _cell_names(model)
        if cells and self.target.ndim == 1 and self.cell is None:
            raise ValueError(
                f"TraceLoss: the model is a circuit with cells {cells}; give a target of shape "
                f"(n, {len(cells)}) or name the recorded cell with cell=..."
            )
        if self.target.ndim == 2 and self.target.shape[1] != max(len(cells), 1):
            raise ValueError(
                f"TraceLoss: target has {self.target.shape[1]} columns, expected "
                f"{max(len(cells), 1)} (one per cell: {cells or ('the neuron',)})"
            )
        if self.cell is not None and self.cell not in cells:
            raise KeyError(f"TraceLoss: no cell {self.cell!r}; cells: {cells}")

    def is_smooth(self):
        return True

    def noise_floor(self, model=None):
        """The noise variance (mV²) over the window, the larger of two estimates (and not
        below `RESOLVED` of the target's variance):

        - σ̂² of white noise, from the target's second differences (`noise_variance`);
        - with ``model``, where its residuals r are not white noise (`looks_white`):
          their robust variance (1.4826·MAD(r))². Noise filtered by an amplifier has
          less power at high frequencies, so the first estimate underrates it, and this
          one does not. Where the residuals look white — the noise plus a slow misfit,
          or spikes out of step, which are sparse — the first estimate stands.

        None with nudging (the coupled loss is not the data's misfit).
        """
        if self.nudging is not None:
            return None
        i0, i1 = self.window
        floor = _floor(np.asarray(self.target)[i0:i1], axis=0)
        return floor if model is None else _with_residuals(floor, self.residuals(model))

    def synchronisable(self) -> bool:
        """True for a single neuron's trace (a 1-D target)."""
        return self.target.ndim == 1

    def with_nudging(self, gain) -> TraceLoss:
        """The same loss with the model coupled to the target by a current
        gain·(V − V_target(t)) (gain in mS/cm²; None: uncoupled), see `Nudged`."""
        return _replace(self, nudging=_gain(gain))

    def _simulate(self, model):
        if self.nudging is None:
            return super()._simulate(model)
        if self.target.ndim != 1 or _cell_names(model):
            raise ValueError("TraceLoss: nudging couples a single neuron to a 1-D target")
        cell = self._model(model)
        data = Interpolated(times=self.times, values=self.target)
        return *self._run(_nudged(cell, self.nudging, data)), ()

    def simulated(self, model):
        """The model's potential (mV) at the target's sample times, shaped like the target."""
        ts, V, cells = self._simulate(model)
        if self.cell is not None:
            V = V[:, cells.index(self.cell)]
        interp = lambda v: jnp.interp(self.times.astype(ts.dtype), ts, v)  # noqa: E731
        return interp(V) if V.ndim == 1 else jax.vmap(interp, in_axes=1, out_axes=1)(V)

    def __call__(self, model):
        i0, i1 = self.window
        V = self.simulated(model)
        residual = V[i0:i1] - self.target[i0:i1].astype(V.dtype)
        return jnp.mean(residual**2)

    def residuals(self, model):
        """(V_model − V_target)/√N over the window's samples (mV), flat."""
        i0, i1 = self.window
        V = self.simulated(model)
        residual = jnp.ravel(V[i0:i1] - self.target[i0:i1].astype(V.dtype))
        return residual / jnp.sqrt(residual.size)


# ---- protocol loss ------------------------------------------------------------------


class ProtocolLoss(_Simulated):
    r"""Mean squared error over all sweeps of a protocol — potentials (mV²) for a
    current-clamp `jaxneuron.Protocol`, clamp currents ((µA/cm²)²) for a
    `jaxneuron.clamp.VoltageClamp`:

        L = (1/(S·N)) Σₛ Σᵢ (y_model,s(tᵢ) − y_target,s(tᵢ))²,   tᵢ ∈ [start, stop],

    the sweeps simulated as one batch per stimulus structure.

    **Arguments:**

    - ``protocol``: the sweeps (their stimuli replace the model's).
    - ``targets``: (sweeps, n) recordings (mV, or µA/cm² in voltage clamp), sampled every
      ``dt`` ms from 0;
      n = ⌊t1/dt⌋ + 1 for the protocol's ``t1``.
    - ``start``, ``stop``: the analysis window in ms (default: the whole sweep).
    - ``solver`` (default ``ExponentialEuler(dt=0.025, unroll=1)``), ``save_every``, ``adjoint``,
      ``rtol``, ``atol``, ``max_steps``: passed to `simulate`.

    `ProtocolLoss.from_model` builds synthetic targets (with noise) from a reference model.

    >>> import jaxneuron as jn
    >>> protocol = jn.Protocol.steps([0.0, 10.0], onset=5.0, offset=40.0, t1=50.0)
    >>> loss = ProtocolLoss.from_model(jn.build_HH(), protocol, dt=0.1)
    >>> float(loss(jn.build_HH())) < 1e-6      # rounding only
    True
    """

    protocol: object
    targets: Float[Array, "sweeps n"]
    dt: float = eqx.field(static=True)
    window: tuple[int, int] = eqx.field(static=True)
    nudging: Float[Array, ""] | None = None

    def __init__(
        self,
        protocol,
        targets,
        *,
        dt,
        start=0.0,
        stop=None,
        solver=None,
        save_every=None,
        adjoint=None,
        rtol=None,
        atol=None,
        max_steps=1_000_000,
    ):
        if not isinstance(protocol, AbstractProtocol):
            raise TypeError(
                "ProtocolLoss: expected a jaxneuron.Protocol or jaxneuron.clamp.VoltageClamp, "
                f"got {protocol!r}"
            )
        if not dt > 0:
            raise ValueError(f"ProtocolLoss: dt (sampling interval) must be > 0 ms, got {dt}")
        targets = np.asarray(targets, dtype=float)
        n = _samples(protocol.t1, dt)
        if targets.shape != (len(protocol), n):
            raise ValueError(
                f"ProtocolLoss: targets have shape {targets.shape}, expected "
                f"({len(protocol)}, {n}): one row per sweep, sampled every {dt:g} ms over "
                f"0 … {protocol.t1:g} ms"
            )
        if not np.all(np.isfinite(targets)):
            sweep, sample = np.argwhere(~np.isfinite(targets))[0]
            raise ValueError(
                f"ProtocolLoss: the targets hold NaN or infinite values (first in sweep "
                f"{protocol.names[sweep]!r} at t = {sample * dt:g} ms)"
            )
        _check_window("ProtocolLoss", float(start), stop, protocol.t1)
        if save_every is None and solver is None:
            save_every = dt  # the default step (0.025 ms) divides common sampling intervals
        self._set_simulation(protocol.t1, solver, save_every, None, adjoint, rtol, atol, max_steps)
        self.protocol = protocol
        self.targets = jnp.asarray(targets)
        self.dt = float(dt)
        i0 = int(math.ceil(float(start) / dt - 1e-9))
        i1 = n if stop is None else int(math.floor(stop / dt + 1e-9)) + 1
        self.window = (i0, i1)

    @classmethod
    def from_model(cls, model, protocol, *, dt, noise_sd=0.0, seed=0, **kwargs):
        """A loss whose targets are ``model``'s responses to ``protocol`` sampled every
        ``dt`` ms, plus Gaussian noise of ``noise_sd`` mV (NumPy PCG64, ``seed``)."""
        probe = cls(protocol, np.zeros((len(protocol), _samples(protocol.t1, dt))), dt=dt, **kwargs)
        clean = eqx.filter_jit(probe.simulated)(model)
        return cls(protocol, noisy(clean, noise_sd, seed), dt=dt, **kwargs)

    def is_smooth(self):
        return True

    def check(self, model):
        if _cell_names(model):
            raise ValueError("ProtocolLoss: protocols stimulate a single neuron, not a circuit")
        _check_gain(self.nudging, self.solver, model)

    def synchronisable(self) -> bool:
        """True in current clamp (a `jaxneuron.Protocol`)."""
        return isinstance(self.protocol, Protocol)

    def with_nudging(self, gain) -> ProtocolLoss:
        """The same loss with each sweep's model coupled to that sweep's target by a
        current gain·(V − V_target(t)) (gain in mS/cm²; None: uncoupled), see `Nudged`;
        current clamp only."""
        if gain is not None and not isinstance(self.protocol, Protocol):
            raise TypeError("ProtocolLoss: nudging couples current-clamp sweeps (a Protocol)")
        return _replace(self, nudging=_gain(gain))

    def _couple(self, cell, sweep):
        times = self.dt * jnp.arange(self.targets.shape[1], dtype=self.targets.dtype)
        return _nudged(cell, self.nudging, Interpolated(times=times, values=self.targets[sweep]))

    def simulated(self, model):
        """(sweeps, n): the observed quantity (mV in current clamp, µA/cm² in voltage
        clamp) at the targets' sample times."""
        settings = dict(
            solver=self.solver,
            save_every=self.save_every,
            adjoint=self.adjoint,
            rtol=self.rtol,
            atol=self.atol,
            max_steps=self.max_steps,
        )
        if self.nudging is not None:
            settings["wrap"] = self._couple
        ts, observed = self.protocol.observe(model, **settings)
        times = self.dt * jnp.arange(self.targets.shape[1], dtype=ts.dtype)
        return jax.vmap(lambda v: jnp.interp(times, ts, v))(observed)

    def residuals(self, model):
        """(model − target)/√(S·N) over every sweep's window, flat."""
        i0, i1 = self.window
        V = self.simulated(model)
        residual = jnp.ravel(V[:, i0:i1] - self.targets[:, i0:i1].astype(V.dtype))
        return residual / jnp.sqrt(residual.size)

    def __call__(self, model):
        return jnp.sum(self.residuals(model) ** 2)

    def noise_floor(self, model=None):
        """As `TraceLoss.noise_floor`, over every sweep's window."""
        if self.nudging is not None:
            return None
        i0, i1 = self.window
        floor = _floor(np.asarray(self.targets)[:, i0:i1], axis=1)
        return floor if model is None else _with_residuals(floor, self.residuals(model))


#: the fraction of a target's variance (its extreme 1 % clipped) below which a misfit
#: counts as resolved whatever the noise estimate says (noise-free data: RMS ≈ 0.3% of
#: the signal's spread)
RESOLVED = 1e-5


def noise_variance(samples, axis: int = 0) -> float:
    r"""σ̂² of white measurement noise on sampled data, from second differences along
    ``axis``: for white noise of variance σ², x[i−1] − 2x[i] + x[i+1] has variance 6σ², so

        σ̂ = 1.4826 · MAD(Δ²x) / √6

    (MAD: the median absolute deviation; 1.4826 makes it the standard deviation of
    normal noise). The median keeps spikes and other fast, sparse events out of the
    estimate; the signal's own second differences count where they are not small against
    the noise (slowly sampled data), so σ̂ errs high, never low, for smooth signals.

    >>> import numpy as np
    >>> t = np.linspace(0, 100, 10_001)
    >>> x = np.sin(t / 5) + 2.0 * np.random.default_rng(0).normal(size=t.size)
    >>> round(noise_variance(x), 1)
    4.0
    """
    d2 = np.diff(np.asarray(samples, dtype=float), n=2, axis=axis).ravel()
    if d2.size == 0:
        return 0.0
    mad = np.median(np.abs(d2 - np.median(d2)))
    return float((1.4826 * mad) ** 2 / 6.0)


def _mad_variance(x) -> float:
    """(1.4826·MAD(x))²: the variance of normal data, unmoved by sparse outliers."""
    x = np.ravel(x)
    return float((1.4826 * np.median(np.abs(x - np.median(x)))) ** 2) if x.size else 0.0


def looks_white(residuals) -> bool:
    """Whether residuals (a 1-D sequence of samples) look like white noise: for white
    noise the variances of the second and first differences are in the ratio 6 : 2;
    noise correlated from sample to sample (low-pass filtered) gives less (a 4-sample
    moving average: 2). Robust variances (MAD), so sparse events (spikes out of step)
    do not count, and a slow misfit adds little to either; below 2.7 is not white.

    >>> import numpy as np
    >>> noise = np.random.default_rng(0).normal(size=10_000)
    >>> looks_white(noise), looks_white(np.convolve(noise, np.full(4, 0.5), "valid"))
    (True, False)
    """
    r = np.ravel(np.asarray(residuals, dtype=float))
    first = _mad_variance(np.diff(r, n=1))
    return first > 0 and _mad_variance(np.diff(r, n=2)) / first >= 2.7


def _with_residuals(floor: float, scaled_residuals) -> float:
    """`TraceLoss.noise_floor` with a model: ``floor`` from the data, raised to the
    residuals' robust variance where they are not white. ``scaled_residuals``: r/√N."""
    r = np.asarray(scaled_residuals, dtype=float) * math.sqrt(np.size(scaled_residuals))
    if not np.all(np.isfinite(r)) or looks_white(r):
        return floor
    return max(floor, _mad_variance(r))


def _floor(samples, axis):
    x = np.asarray(samples, dtype=float)
    # the spread of the signal without its extreme 1 % (a clamp's capacitive transients:
    # single samples of 10⁷ µA/cm² would otherwise set the floor)
    lo, hi = np.percentile(x, [0.5, 99.5])
    return max(noise_variance(x, axis), RESOLVED * float(np.var(np.clip(x, lo, hi))))


def _replace(module, **fields):
    """A copy of an equinox module with some fields replaced (works for None fields, which
    `eqx.tree_at` cannot locate by identity)."""
    new = copy.copy(module)
    for name, value in fields.items():
        object.__setattr__(new, name, value)
    return new


def _nudged(cell, gain, data):
    """``cell`` coupled to ``data``, the coupling in the cell's precision."""
    return Nudged(cell, *as_dtype((gain, data), model_dtype(cell)))


def _check_gain(gain, solver, model):
    """The explicit coupling of a fixed step is free of overshoot for gain·Δt/C < 1."""
    dt = None if gain is None else as_method(solver).fixed_dt
    if dt is None:
        return
    C = np.min(np.asarray(getattr(model, "C", 1.0), dtype=float))
    if float(gain) * dt / C >= 1.0:
        raise ValueError(
            f"nudging gain {float(gain):g} mS/cm² is too strong for the step dt = {dt} "
            f"ms and C = {C:g} µF/cm²: gain·dt/C must stay below 1 (gain < {C / dt:g} "
            "mS/cm²); lower the gain or the step"
        )


def _gain(gain):
    if gain is None:
        return None
    if not np.isfinite(gain) or gain < 0:
        raise ValueError(f"the nudging gain must be a finite conductance >= 0 mS/cm², got {gain}")
    return jnp.asarray(float(gain))


def _samples(t1, dt) -> int:
    return int(math.floor(t1 / dt + 1e-9)) + 1


# ---- feature loss -------------------------------------------------------------------


class FeatureLoss(_Simulated):
    r"""Σₖ weightₖ·((fₖ − targetₖ)/scaleₖ)² over differentiable features fₖ of the
    simulated window [start, stop] (ms).

    **Arguments:**

    - ``features``: a sequence of `Feature` (`BurstPeriod`, `DutyCycle`, `SpikeCount`,
      `FiringRate`, `SpikesPerBurst`, `VoltageHistogram`, `BurstPhase`), each with its
      target, weight and scale.
    - ``t1``: simulation length (ms); ``start``, ``stop``: the window (ms) — leave out the
      initial transient.
    - ``save_every`` (ms; default the exponential-Euler step: spikes must be resolved for
      smooth features), ``solver``, ``stimulus``, ``adjoint``, ``rtol``, ``atol``,
      ``max_steps``: as in `TraceLoss`.

    `with_targets_from` fills in the targets from a reference model (synthetic data).

    >>> from jaxneuron import build_HH
    >>> from jaxneuron.fit import FiringRate
    >>> loss = FeatureLoss([FiringRate(70.0)], t1=100.0, stimulus=10.0)
    >>> float(loss(build_HH())) < 0.05       # HH fires at about 70 Hz at 10 µA/cm²
    True
    """

    features: tuple[Feature, ...]
    window: tuple[int, int] = eqx.field(static=True)
    start: float = eqx.field(static=True)
    stop: float | None = eqx.field(static=True)

    def __init__(
        self,
        features,
        *,
        t1,
        start=0.0,
        stop=None,
        stimulus=None,
        solver=None,
        save_every=None,
        adjoint=None,
        rtol=None,
        atol=None,
        max_steps=1_000_000,
    ):
        features = tuple(features)
        if not features or not all(isinstance(f, Feature) for f in features):
            raise TypeError("FeatureLoss: features must be a non-empty sequence of Feature")
        _check_window("FeatureLoss", float(start), stop, float(t1))
        self._set_simulation(t1, solver, save_every, stimulus, adjoint, rtol, atol, max_steps)
        self.features = features
        self.start, self.stop = float(start), None if stop is None else float(stop)
        self.window = self._window(self.start, self.stop)
        if self.window[1] - self.window[0] < 4:
            raise ValueError("FeatureLoss: the window holds fewer than 4 samples")

    def check(self, model):
        cells = _cell_names(model)
        for f in self.features:
            reference = f.reference if isinstance(f, BurstPhase | BurstOnsetPhase) else None
            for cell in (f.cell, reference):
                if cell is not None and cell not in cells:
                    raise KeyError(f"FeatureLoss: {f.label}: no cell {cell!r}; cells: {cells}")
            if cells and f.cell is None:
                raise ValueError(
                    f"FeatureLoss: {f.label}: the model is a circuit with cells {cells}; "
                    "say which with cell=..."
                )

    def values(self, model) -> tuple:
        """Each feature's value on ``model``."""
        ts, V, cells = self._simulate(model)
        i0, i1 = self.window
        return tuple(f.value(ts[i0:i1], V[i0:i1], cells, self.save_every) for f in self.features)

    def __call__(self, model):
        values = self.values(model)
        return sum(f.error(v) for f, v in zip(self.features, values, strict=True))

    def residuals(self, model):
        values = self.values(model)
        return jnp.concatenate([f.residuals(v) for f, v in zip(self.features, values, strict=True)])

    def with_targets_from(self, model) -> FeatureLoss:
        """The same loss with every target set to the feature's value on ``model``."""
        self.check(model)
        values = eqx.filter_jit(self.values)(model)
        features = tuple(
            eqx.tree_at(lambda f: f.target, f, jnp.asarray(v), is_leaf=lambda x: x is None)
            for f, v in zip(self.features, values, strict=True)
        )
        return eqx.tree_at(lambda s: s.features, self, features)

    def report(self, model) -> dict[str, float]:
        """Feature values by label, as Python numbers (arrays as lists)."""
        values = eqx.filter_jit(self.values)(model)
        return {f.label: np.asarray(v).tolist() for f, v in zip(self.features, values, strict=True)}


def forward_mode_adjoint():
    """The adjoint that lets diffrax's adaptive solvers be differentiated in forward mode."""
    return diffrax.ForwardMode()
