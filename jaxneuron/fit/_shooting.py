r"""Multiple shooting: fit a free-running model to its trace cut into segments.

A small change of a conductance shifts every later spike of a free-running burster, so
the mean squared error of a long trace is rough, with local minima. Multiple shooting
(Bock 1981; for neurons and other chaotic or oscillating systems: Baake et al. 1992,
Ber. Bunsenges. Phys. Chem. 96:1695; Voss et al. 2004, Int. J. Bifurc. Chaos 14:1905)
cuts the trace [0, T] into M segments of length L = T/M and integrates each segment k
from its own initial state x_k, a free variable fitted beside the parameters θ:

    L(θ, x) = (1/N) Σᵢ (V(tᵢ; θ, x) − V_data(tᵢ))²
              + w/((M−1)·n) Σₖ Σⱼ ((φ_L(x_k; θ)ⱼ − x_{k+1,j}) / sⱼ)²,

where φ_L(x_k; θ) is the state reached at the end of segment k and sⱼ the spread of
state j (its standard deviation over the initial trajectory): the second term penalises
the jumps between segments (continuity weight w, in mV²). Within a segment a trajectory
cannot drift far from the data, so the loss stays smooth in θ; at the optimum the
segments join into one free-running trajectory of the fitted model.

The segment states start on the model's trajectory synchronised to the data (the model
coupled to the recording by ``gain``·(V − V_data), see `Nudged`); V is fitted as it is,
the positive states (gates, calcium) through their logarithm.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._precision import model_dtype
from .._protocols import AbstractSplitModel
from ..integrate import as_method, simulate
from ..neurons import ConductanceNeuron
from ..stimuli import Interpolated
from ._fit import AbstractVariables, FreeParameters
from ._losses import Loss, TraceLoss, _check_gain, _nudged
from ._optimizers import lbfgs


class _Shifted(AbstractSplitModel):
    """``neuron`` with time shifted by ``offset`` ms: its stimulus at t is the original's
    at t + offset (one segment, simulated from t = 0)."""

    neuron: ConductanceNeuron
    offset: Float[Array, ""]

    @property
    def name(self):
        return self.neuron.name

    @property
    def stiff(self):
        return self.neuron.stiff

    @property
    def state_names(self):
        return self.neuron.state_names

    def initial_state(self):
        return self.neuron.initial_state()

    def parameters(self):
        return self.neuron.parameters()

    def stimuli(self):
        return self.neuron.stimuli()

    def vector_field(self, t, y, args=None):
        return self.neuron.vector_field(t + self.offset, y, args)

    def membrane_field(self, t, y, args=None):
        return self.neuron.membrane_field(t + self.offset, y, args)

    def gate_field(self, t, y, args=None):
        return self.neuron.gate_field(t + self.offset, y, args)

    def fixed_step(self, t, y, dt, compensation=None):
        return self.neuron.fixed_step(t + self.offset, y, dt, compensation)


class _Segmented(eqx.Module):
    """What a `MultipleShooting` loss is evaluated on: the neuron and the initial states
    (M, n) of its segments; ``spread`` (n,) scales the jumps between segments."""

    neuron: ConductanceNeuron
    states: Float[Array, "M n"]
    spread: Float[Array, " n"]


class _ShootingVariables(AbstractVariables):
    """The free parameters followed by the M·n segment states: V as it is (scaled by its
    spread), the positive states through their logarithm."""

    free: FreeParameters
    names: tuple[str, ...] = eqx.field(static=True)
    transforms: tuple
    states: Float[Array, " Mn"]  # unconstrained initial segment states, flat
    spread: Float[Array, " n"]
    positive: tuple[bool, ...] = eqx.field(static=True)
    segments: int = eqx.field(static=True)

    @property
    def size(self):
        return self.free.size + self.states.size

    def values(self, u):
        return self.free.values(u[..., : self.free.size])

    def initial_values(self, model):
        return self.free.initial_values(model)

    def fitted(self, model, u):
        return self.free.apply(model, u[: self.free.size])

    def apply(self, model, u):
        P = self.free.size
        z = u[P:].reshape(self.segments, len(self.positive))
        positive = jnp.asarray(self.positive)
        states = jnp.where(positive, jnp.exp(jnp.where(positive, z, 0.0)), z * self.spread)
        return _Segmented(self.free.apply(model, u[:P]), states, self.spread)

    def unconstrained(self, values):
        u = self.free.unconstrained(values)
        states = jnp.broadcast_to(self.states.astype(u.dtype), (*u.shape[:-1], self.states.size))
        return jnp.concatenate([u, states], axis=-1)


class MultipleShooting(Loss):
    r"""A `TraceLoss` fitted by multiple shooting: the trace cut into ``segments`` pieces,
    each integrated from its own initial state, fitted beside the parameters, with the
    jumps between segments penalised (see the module's equation).

    **Arguments:**

    - ``trace``: a `TraceLoss` of one neuron, simulated with `ExponentialEuler`; its t1
      must split into ``segments`` pieces that are whole numbers of saves and steps.
    - ``segments``: M, the number of segments (each T/M ms long).
    - ``continuity``: w, the weight of the jumps (mV² per spread² of jump).
    - ``gain``: the coupling (mS/cm²) of the synchronised run that gives the initial
      segment states.

    `fit` optimises the segment states too (reverse-mode gradients); ``FitResult.model``
    is the fitted neuron. A smooth least-squares loss: `fit` uses `lbfgs` by default.

    >>> import jaxneuron as jn
    >>> from jaxneuron.fit import MultipleShooting, TraceLoss, fit
    >>> target = jn.simulate(jn.build_HH(10.0), 40.0, solver=jn.ExponentialEuler(dt=0.025)).V
    >>> loss = MultipleShooting(TraceLoss(target, dt=0.1), segments=4)
    >>> start = jn.set_parameters(jn.build_HH(10.0), {"K.g": 40.0})
    >>> result = fit(start, loss, "K.g", steps=30)
    >>> abs(result.values["K.g"] - 36.0) < 1.0     # from 40 towards 36
    True
    """

    trace: TraceLoss
    segments: int = eqx.field(static=True)
    continuity: float = eqx.field(static=True)
    gain: float = eqx.field(static=True)

    def __init__(self, trace: TraceLoss, *, segments: int, continuity: float = 1.0, gain=10.0):
        if not isinstance(trace, TraceLoss):
            raise TypeError(f"MultipleShooting cuts a TraceLoss; got {type(trace).__name__}")
        method = as_method(trace.solver)
        if method.fixed_dt is None:
            raise ValueError(
                "MultipleShooting integrates the segments with a fixed step: give the "
                f"TraceLoss solver=ExponentialEuler(dt=...), not {method.name}"
            )
        if trace.nudging is not None:
            raise ValueError("MultipleShooting: the TraceLoss must not be nudged")
        if int(segments) < 2:
            raise ValueError(f"segments must be >= 2, got {segments}")
        length = trace.t1 / int(segments)
        for what, step in (("save interval", trace.save_every), ("step", method.fixed_dt)):
            ratio = length / step
            if abs(ratio - round(ratio)) > 1e-6 * max(ratio, 1.0):
                raise ValueError(
                    f"MultipleShooting: segments of t1/segments = {length:g} ms are not a whole "
                    f"number of the {what} ({step:g} ms); choose segments to divide t1 = "
                    f"{trace.t1:g} ms into multiples of it"
                )
        if not continuity > 0:
            raise ValueError(f"continuity (weight of the jumps, mV²) must be > 0, got {continuity}")
        self.trace = trace
        self.segments = int(segments)
        self.continuity = float(continuity)
        self.gain = float(gain)

    @property
    def length(self) -> float:
        """The length of one segment, ms."""
        return self.trace.t1 / self.segments

    def check(self, model):
        if not isinstance(model, ConductanceNeuron):
            raise TypeError(
                f"MultipleShooting fits one conductance-based neuron; got {type(model).__name__}"
            )
        self.trace.check(model)
        _check_gain(self.gain, self.trace.solver, model)

    def is_smooth(self):
        return True

    def default_optimizer(self):
        return lbfgs()

    def variables(self, model, free):
        """The free parameters and the segment states, which start on the model's
        trajectory synchronised to the data."""
        self.check(model)
        cell = self.trace._model(model)
        data = Interpolated(times=self.trace.times, values=self.trace.target)
        sol = simulate(
            _nudged(cell, self.gain, data),
            self.trace.t1,
            solver=self.trace.solver,
            save_every=self.trace.save_every,
        )
        ys = np.asarray(sol.ys)
        stride = int(round(self.length / self.trace.save_every))
        states = ys[: self.segments * stride : stride]
        positive = tuple(bool(j > 0 and np.all(ys[:, j] > 0)) for j in range(ys.shape[1]))
        spread = np.maximum(np.std(ys, axis=0), 1e-6 * np.max(np.abs(ys), axis=0) + 1e-30)
        z = np.where(positive, np.log(np.where(positive, states, 1.0)), states / spread)
        dtype = model_dtype(model)
        return _ShootingVariables(
            free=free,
            names=free.names,
            transforms=free.transforms,
            states=jnp.asarray(z.ravel(), dtype),
            spread=jnp.asarray(spread, dtype),
            positive=positive,
            segments=self.segments,
        )

    def _segments(self, segmented: _Segmented):
        """(V on the save grid over [0, t1], the jumps between segments / spread)."""
        cell = self.trace._model(segmented.neuron)
        dtype = model_dtype(cell)
        offsets = jnp.arange(self.segments, dtype=dtype) * self.length

        def one(offset, y0):
            sol = simulate(
                _Shifted(cell, offset),
                self.length,
                solver=self.trace.solver,
                save_every=self.trace.save_every,
                adjoint=self.trace.adjoint,
                y0=y0,
                throw=False,
            )
            return sol.ys

        ys = jax.vmap(one)(offsets, segmented.states.astype(dtype))  # (M, n_s + 1, n)
        V = jnp.concatenate([jnp.ravel(ys[:, :-1, 0]), ys[-1, -1:, 0]])
        jumps = (ys[:-1, -1, :] - segmented.states[1:]) / segmented.spread
        return V, jumps

    def residuals(self, segmented: _Segmented):
        """The trace's residuals, then √(w/((M−1)·n))·jumps."""
        V, jumps = self._segments(segmented)
        ts = jnp.arange(V.shape[0], dtype=V.dtype) * self.trace.save_every
        simulated = jnp.interp(self.trace.times.astype(V.dtype), ts, V)
        i0, i1 = self.trace.window
        data = simulated[i0:i1] - self.trace.target[i0:i1].astype(V.dtype)
        data = data / math.sqrt(i1 - i0)
        continuity = jnp.ravel(jumps) * math.sqrt(self.continuity / jumps.size)
        return jnp.concatenate([data, continuity])

    def __call__(self, segmented: _Segmented):
        return jnp.sum(self.residuals(segmented) ** 2)
