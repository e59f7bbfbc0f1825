r"""Voltage clamp: a neuron held at command potentials, observed through its clamp current.

The amplifier is modelled as a large conductance G_clamp between the membrane and the
command potential V_cmd(t),

    C dV/dt = −Σ I_ion − G_clamp·(V − V_cmd(t)),      I_clamp = G_clamp·(V_cmd − V),

so V follows V_cmd within I_ion/G_clamp (0.1 mV for 10 mA/cm²… at the default 10⁵ mS/cm²)
and I_clamp — the current the amplifier injects, outward ionic current counted positive —
is Σ I_ion + C dV/dt. The exponential-Euler step treats the clamp implicitly, so the stiff
coupling is stable at any step. `VoltageClamp` runs a set of command sweeps as batches;
`jaxneuron.fit.ProtocolLoss` fits channel parameters — conductances and the kinetic
``shift``, ``tau_scale`` and ``slope`` of `jaxneuron.channels.modulated` — to recorded
clamp currents.

>>> import jaxneuron as jn
>>> vc = VoltageClamp.steps(holding=-80.0, levels=[-40.0, 0.0], onset=10.0, offset=60.0, t1=80.0)
>>> result = vc.simulate(jn.build_HH(), solver=jn.ExponentialEuler(dt=0.025))
>>> result.I.shape          # (sweeps, samples) in µA/cm²
(2, 801)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp

from ._precision import as_dtype, model_dtype
from ._validation import check_positive
from .integrate import simulate
from .neurons import AbstractDrivenNeuron, ConductanceNeuron
from .protocols import AbstractProtocol, checked_sweeps, stacked_groups
from .stimuli import AbstractStimulus, Constant, Step

#: The default clamp conductance, mS/cm².
CLAMP_CONDUCTANCE = 1e5


class Clamped(AbstractDrivenNeuron):
    """``neuron`` under voltage clamp to ``command`` (mV as a function of t in ms, any
    `jaxneuron.stimuli` shape) through ``conductance`` (mS/cm²); it starts at steady
    state at the command's initial value. Its own stimulus still flows.
    """

    neuron: ConductanceNeuron
    command: AbstractStimulus
    conductance: jax.Array = eqx.field(converter=jnp.asarray, default=CLAMP_CONDUCTANCE)

    def __check_init__(self):
        if not isinstance(self.neuron, ConductanceNeuron):
            raise TypeError(
                f"Clamped holds a conductance-based neuron; got {type(self.neuron).__name__}"
            )
        check_positive("Clamped.conductance", self.conductance, "mS/cm²")

    @property
    def stiff(self) -> bool:
        return True

    def initial_state(self):
        return self.neuron.initial_state(V0=self.command(jnp.zeros_like(self.neuron.V0)))

    def parameters(self):
        return {**self.neuron.parameters(), "clamp conductance": self.conductance}

    def stimuli(self):
        return (*self.neuron.stimuli(), self.command)

    def inputs(self, t, V):
        # implicit in the exponential-Euler step: stable for any clamp conductance
        return self.conductance, self.conductance * self.command(t)

    def clamp_current(self, ts, V):
        """I_clamp = G_clamp·(V_cmd(t) − V) in µA/cm² at times ``ts`` (ms)."""
        return self.conductance * (jax.vmap(self.command)(ts) - V)


@dataclasses.dataclass(frozen=True)
class ClampResult:
    """What `VoltageClamp.simulate` returns: sample times ``ts`` (n,) in ms, clamp currents
    ``I`` (sweeps, n) in µA/cm², membrane potentials ``V`` (sweeps, n) in mV, ``success``
    and the sweep ``names``."""

    ts: jax.Array
    I: jax.Array  # noqa: E741
    V: jax.Array
    success: jax.Array
    names: tuple[str, ...]


class VoltageClamp(AbstractProtocol):
    """Voltage-clamp sweeps: command potentials (mV, one per sweep, as stimuli-shaped
    functions of t in ms), each applied for ``t1`` ms from steady state at its initial
    value. The observed quantity is the clamp current (µA/cm²)."""

    commands: tuple[AbstractStimulus, ...]
    t1: float = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True)
    conductance: float = eqx.field(static=True, default=CLAMP_CONDUCTANCE)

    def __init__(self, commands: Sequence, *, t1: float, names=None, conductance=CLAMP_CONDUCTANCE):
        self.commands, self.t1, self.names = checked_sweeps("VoltageClamp", commands, t1, names)
        check_positive("VoltageClamp.conductance", conductance, "mS/cm²")
        self.conductance = float(conductance)

    @classmethod
    def steps(
        cls,
        *,
        holding: float,
        levels: Sequence[float],
        onset: float,
        offset: float,
        t1: float,
        conductance: float = CLAMP_CONDUCTANCE,
    ) -> VoltageClamp:
        """Steps from ``holding`` to each of ``levels`` (mV) between ``onset`` and
        ``offset`` (ms)."""
        levels = [float(v) for v in levels]
        return cls(
            [Constant(float(holding)) + Step(v - float(holding), onset, offset) for v in levels],
            t1=t1,
            names=[f"step to {v:g} mV" for v in levels],
            conductance=conductance,
        )

    def __len__(self):
        return len(self.commands)

    def observe(self, model, *, solver=None, save_every=None, **kwargs):
        """(ts, I): the sample times (ms) and the clamp currents (sweeps, n) in µA/cm²."""
        result = self.simulate(model, solver=solver, save_every=save_every, **kwargs)
        return result.ts, result.I

    def simulate(self, model, *, solver=None, save_every=None, **kwargs) -> ClampResult:
        """Every sweep on ``model`` (a `ConductanceNeuron`) by `jaxneuron.simulate` with
        ``solver`` (an `ExponentialEuler` or an implicit diffrax solver: the clamp is stiff),
        ``save_every`` and ``kwargs``; sweeps with commands of one structure run as one
        vmapped batch. Traceable."""
        if not isinstance(model, ConductanceNeuron):
            raise TypeError(f"VoltageClamp needs a ConductanceNeuron, got {type(model).__name__}")
        dtype = model_dtype(model)
        kwargs = dict(kwargs, throw=False)
        conductance = jnp.asarray(self.conductance, dtype)

        def one(command):
            clamped = Clamped(model, as_dtype(command, dtype), conductance)
            sol = simulate(clamped, self.t1, solver=solver, save_every=save_every, **kwargs)
            return sol.ts, clamped.clamp_current(sol.ts, sol.V), sol.V, sol.success

        out = [None] * len(self)
        ts = None
        for indices, stacked in stacked_groups(self.commands):
            ts_b, I_b, V_b, ok_b = jax.vmap(one)(stacked)
            ts = ts_b[0]
            for j, i in enumerate(indices):
                out[i] = (I_b[j], V_b[j], ok_b[j])
        return ClampResult(
            ts=ts,
            I=jnp.stack([o[0] for o in out]),
            V=jnp.stack([o[1] for o in out]),
            success=jnp.stack([o[2] for o in out]),
            names=self.names,
        )
