r"""Synchronisation (nudging): a neuron coupled to the recording it is fitted to.

Fitting a free-running burster to its voltage trace fails with a plain trace MSE: a small
change of a conductance shifts every later spike, and the loss surface is rough with
local minima. Coupling the model to the data,

    C dV/dt = −Σ I_ion + I_ext − k·(V − V_data(t)),

slaves the model's spikes to the recorded ones while k is large enough, so that the
mismatch V − V_data measures the error of the ionic currents (≈ ΔI/k) along the recorded
trajectory, a smooth function of the conductances minimised by the true ones. Annealing
k to 0 (`anneal`) ends at the free-running fit (synchronisation-based estimation:
Abarbanel et al. 2009, Phys. Rev. E 79:026208; Toth et al. 2011, Biol. Cybern. 105:217).

The fixed step adds the coupling current explicitly, from the state at the start of the
step: a model exactly on the recorded trajectory then feels no coupling at all (treated
implicitly, like a synapse, the frozen V_data(t) would pull even the true model off its
path). The explicit coupling is stable for k·Δt/C < 2 and free of overshoot for
k·Δt/C < 1: k < 40 mS/cm² at Δt = 0.025 ms and C = 1 µF/cm².
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..neurons import AbstractDrivenNeuron, ConductanceNeuron
from ..stimuli import Interpolated

Scalar = Float[Array, ""]


class Nudged(AbstractDrivenNeuron):
    """``neuron`` with the coupling current k·(V − V_data(t)) (µA/cm²) to a recorded
    potential ``data`` (mV, an `Interpolated` of t in ms); ``gain`` k in mS/cm².

    >>> import jaxneuron as jn
    >>> from jaxneuron.stimuli import Interpolated
    >>> clamp = Interpolated(times=[0.0, 50.0], values=[-40.0, -40.0])
    >>> model = Nudged(jn.build_HH(), gain=5.0, data=clamp)
    >>> sol = jn.simulate(model, 50.0, solver=jn.ExponentialEuler(dt=0.025))
    >>> sol.V.shape
    (501,)
    """

    neuron: ConductanceNeuron
    gain: Scalar = eqx.field(converter=jnp.asarray)
    data: Interpolated

    def __check_init__(self):
        if not isinstance(self.neuron, ConductanceNeuron):
            raise TypeError(
                f"Nudged couples a conductance-based neuron; got {type(self.neuron).__name__}"
            )

    @property
    def stiff(self) -> bool:
        return self.neuron.stiff

    def initial_state(self):
        return self.neuron.initial_state()

    def parameters(self):
        return {**self.neuron.parameters(), "nudging gain": self.gain}

    def stimuli(self):
        return self.neuron.stimuli()

    def inputs(self, t, V):
        # G = 0: the coupling is explicit, so a model on the recorded trajectory feels none
        return jnp.zeros_like(self.gain), self.gain * (self.data(t) - V)
