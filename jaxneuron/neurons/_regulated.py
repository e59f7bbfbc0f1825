r"""A conductance-based neuron whose maximal conductances are regulated by its activity.

The state is the neuron's, followed by the regulator's:
``[V, [Ca], gates …, regulator states …]`` — the regulated conductances ``"<channel>.g"``
among the latter. At every step the neuron runs with the conductances of the state, and
the regulator reads the neuron's activity (`jaxneuron.neurons.regulation`).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from .._numerics import advance
from .._protocols import AbstractSplitModel
from ._neuron import ConductanceNeuron
from .regulation import AbstractRegulator


class RegulatedNeuron(AbstractSplitModel):
    """A `ConductanceNeuron` with a regulator (`LiuRegulation`, `IntegralControl`) that
    moves the maximal conductances of some of its channels.

    The neuron's ``channel(c).g`` of a regulated channel is the *initial* conductance
    (mS/cm²); the conductance during the run is the state ``"<c>.g"``. With a regulator
    whose conductances never move (zero couplings, infinite time constants) the run is
    the unregulated neuron's, step for step. Works as a cell of a `jaxneuron.Network`.

    Parameters are named ``"neuron.<name>"`` (``"neuron.CaS.g"``, the initial CaS
    conductance) and ``"regulator.<name>"`` (``"regulator.F.target"``).

    >>> from jaxneuron import LiuConfig, build_Liu, simulate
    >>> from jaxneuron.neurons.regulation import liu_1998_regulation
    >>> model = RegulatedNeuron(build_Liu(config=LiuConfig(Leak_g=0.01)), liu_1998_regulation())
    >>> model.state_names[-7:]
    ('Na.g', 'CaT.g', 'CaS.g', 'A.g', 'KCa.g', 'Kd.g', 'H.g')
    >>> sol = simulate(model, 50.0, solver="exponential_euler", save_every=50.0)
    >>> round(float(sol["Na.g"][-1]), 3) != 100.0    # Na moved with the fast sensor
    True
    """

    neuron: ConductanceNeuron
    regulator: AbstractRegulator

    def __check_init__(self):
        if not isinstance(self.neuron, ConductanceNeuron):
            raise TypeError(
                f"RegulatedNeuron regulates a ConductanceNeuron, got {type(self.neuron).__name__}"
            )
        if not isinstance(self.regulator, AbstractRegulator):
            raise TypeError(
                f"RegulatedNeuron needs a regulator (LiuRegulation, IntegralControl), got "
                f"{type(self.regulator).__name__}"
            )
        missing = [c for c in self.regulator.channel_names if c not in self.neuron.channel_names]
        if missing:
            raise ValueError(
                f"{self.neuron.name}: the regulator controls {missing}, which the neuron does "
                f"not have; its channels: {self.neuron.channel_names}"
            )
        self.regulator.check_neuron(self.neuron)
        names = self.state_names
        clash = sorted({n for n in names if names.count(n) > 1})
        if clash:
            raise ValueError(f"{self.neuron.name}: state names {clash} occur twice")

    # ---- structure -----------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.neuron.name

    @property
    def stiff(self) -> bool:
        return self.neuron.stiff

    @property
    def stimulus(self):
        return self.neuron.stimulus

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.neuron.state_names + self.regulator.state_names

    @property
    def num_states(self) -> int:
        return len(self.state_names)

    def parameters(self) -> dict:
        out = {f"neuron.{k}": v for k, v in self.neuron.parameters().items()}
        out.update({f"regulator.{k}": v for k, v in self.regulator.parameters().items()})
        return out

    def stimuli(self) -> tuple:
        return self.neuron.stimuli()

    def regulated(self, r: tuple) -> ConductanceNeuron:
        """The neuron with the regulated conductances of regulator state ``r``."""
        index = [self.neuron.channel_names.index(c) for c in self.regulator.channel_names]
        return eqx.tree_at(
            lambda n: tuple(n.channels[i].g for i in index),
            self.neuron,
            tuple(self.regulator.conductances(r)),
        )

    def _split(self, y):
        n = self.neuron.num_states
        return y[:n], y[n:]

    # ---- dynamics ------------------------------------------------------------------

    def initial_state(self):
        """The neuron's initial state, the regulated conductances at the neuron's values
        and the regulator's other states at rest for the initial activity."""
        y = self.neuron.initial_state()
        g0 = tuple(self.neuron.channel(c).g for c in self.regulator.channel_names)
        r = self.regulator.initial_state(g0, self.regulator.activity(self.neuron, y))
        return jnp.concatenate([y, jnp.stack([jnp.asarray(x, y.dtype) for x in r])])

    def _fields(self, t, y, inputs, which):
        y_n, r = self._split(y)
        neuron = self.regulated(tuple(r))
        dr = self.regulator.derivative(tuple(r), self.regulator.activity(neuron, y_n))
        implicit = self.regulator.implicit
        if which == "all":
            dy = neuron.vector_field(t, y_n, inputs=inputs)
        elif which == "membrane":
            dy = neuron.membrane_field(t, y_n, inputs=inputs)
            dr = [jnp.zeros_like(d) if imp else d for d, imp in zip(dr, implicit, strict=True)]
        else:
            dy = neuron.gate_field(t, y_n)
            dr = [d if imp else jnp.zeros_like(d) for d, imp in zip(dr, implicit, strict=True)]
        return jnp.concatenate([dy, jnp.stack([jnp.asarray(d, y.dtype) for d in dr])])

    def vector_field(self, t, y, args=None, inputs=None):
        """dy/dt: the neuron's with the conductances of the state, and the regulator's."""
        return self._fields(t, y, inputs, "all")

    def membrane_field(self, t, y, args=None, inputs=None):
        """The explicit part for IMEX solvers: the neuron's membrane part and the slow
        regulator states (conductances, mRNA)."""
        return self._fields(t, y, inputs, "membrane")

    def gate_field(self, t, y, args=None):
        """The implicit part: the neuron's gates and the fast regulator states (sensors)."""
        return self._fields(t, y, None, "gates")

    def fixed_step(self, t, y, dt, compensation=None, inputs=None):
        """The neuron's exponential-Euler step with the conductances of the state, then
        the regulator's `increment` with the activity of the new neuron state (the
        regulator's variables are slower than the membrane's, like [Ca] after V)."""
        y_n, r = self._split(tuple(y))
        c_n, c_r = self._split((None,) * len(y) if compensation is None else tuple(compensation))
        neuron = self.regulated(r)
        y_next, c_next = neuron.fixed_step(
            t, y_n, dt, None if compensation is None else c_n, inputs=inputs
        )
        dr = self.regulator.increment(r, self.regulator.activity(neuron, y_next), dt)
        pairs = [advance(x, d, c) for x, d, c in zip(r, dr, c_r, strict=True)]
        y_out = tuple(y_next) + tuple(p[0] for p in pairs)
        if compensation is None:
            return y_out, None
        return y_out, tuple(c_next) + tuple(p[1] for p in pairs)
