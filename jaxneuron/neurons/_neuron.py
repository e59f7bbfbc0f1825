r"""A single-compartment conductance-based neuron, optionally with a calcium pool.

    C dV/dt = −Σ_c s·g_c Π xᵢ^pᵢ (V − E_c) + I_ext(t)            [µA/cm²]
    dxᵢ/dt  = (xᵢ∞(V, [Ca]) − xᵢ) / τᵢ(V)                          [1/ms]
    τCa d[Ca]/dt = −f I_Ca − [Ca] + [Ca]rest                       [µM]

with s the global conductance scale ``g_scale`` and E_c = E_Ca([Ca]) (Nernst) for
calcium channels without a fixed reversal. The state is one flat vector
``y = [V, ([Ca]), gates of channel 1, gates of channel 2, …]`` (names in
`ConductanceNeuron.state_names`), so implicit solvers see a small dense Jacobian and a
population is a batch of vectors.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._numerics import advance, membrane_increment, relax
from .._protocols import AbstractNamedChannels, AbstractSplitModel
from .._validation import check_finite, check_nonnegative, check_positive
from ..calcium import CalciumPool
from ..channels import IonChannel
from ..stimuli import AbstractStimulus, as_stimulus

Scalar = Float[Array, ""]
State = Float[Array, " n_states"]

#: a gate whose time constant stays within this many steps goes without compensation
#: (see `ConductanceNeuron.compensated_states`)
FAST_STEPS = 400


class ConductanceNeuron(AbstractSplitModel, AbstractNamedChannels):
    """A point neuron made of named ion channels, a capacitance, an injected current and
    optionally a calcium pool.

    **Fields:**

    - ``channels``: the ion channels (each an `IonChannel`), in state order.
    - ``channel_names``: their names (static), e.g. ``("Na", "K", "Leak")``.
    - ``C``: specific membrane capacitance, µF/cm².
    - ``V0``: initial membrane potential, mV. Gates start at steady state for ``V0``.
    - ``stimulus``: the injected current, µA/cm² (see `jaxneuron.stimuli`).
    - ``calcium``: a `CalciumPool`, or None.
    - ``Ca0``: initial [Ca], µM (used when there is a pool).
    - ``g_scale``: a global factor on every maximal conductance (dimensionless).
    - ``name``: a label used in messages and plots (static).
    - ``stiff``: a hint for `simulate`'s default solver (static).

    **Example:**

    >>> from jaxneuron import build_HH
    >>> neuron = build_HH(10.0)
    >>> neuron.state_names
    ('V', 'Na.m', 'Na.h', 'K.n')
    >>> float(neuron.channel("Na").g)
    120.0
    """

    channels: tuple[IonChannel, ...]
    C: Scalar = eqx.field(converter=jnp.asarray)
    V0: Scalar = eqx.field(converter=jnp.asarray)
    stimulus: AbstractStimulus = eqx.field(converter=as_stimulus)
    calcium: CalciumPool | None = None
    Ca0: Scalar = eqx.field(converter=jnp.asarray, default=0.05)
    g_scale: Scalar = eqx.field(converter=jnp.asarray, default=1.0)
    channel_names: tuple[str, ...] = eqx.field(static=True, default=())
    name: str = eqx.field(static=True, default="neuron")
    stiff: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        check_positive(f"{self.name}: C (membrane capacitance)", self.C, "µF/cm²")
        check_finite(f"{self.name}: V0 (initial potential)", self.V0, "mV")
        check_positive(f"{self.name}: Ca0 (initial calcium)", self.Ca0, "µM")
        check_nonnegative(f"{self.name}: g_scale (conductance scale)", self.g_scale, "")
        if len(self.channel_names) != len(self.channels):
            raise ValueError(
                f"{self.name}: {len(self.channels)} channels but {len(self.channel_names)} names"
            )
        if len(set(self.channel_names)) != len(self.channel_names):
            raise ValueError(f"{self.name}: channel names must be unique: {self.channel_names}")
        for cname, ch in zip(self.channel_names, self.channels, strict=True):
            if ch.E is None and self.calcium is None:
                raise ValueError(
                    f"{self.name}: channel {cname!r} takes its reversal potential from a "
                    "calcium pool (E=None), but the neuron has none; give E (mV) or calcium"
                )

    # ---- structure -------------------------------------------------------------------

    def channel(self, name: str) -> IonChannel:
        """The channel called ``name``; usable inside `eqx.tree_at`."""
        try:
            return self.channels[self.channel_names.index(name)]
        except ValueError:
            raise KeyError(
                f"{self.name} has no channel {name!r}; channels: {self.channel_names}"
            ) from None

    @property
    def state_names(self) -> tuple[str, ...]:
        names = ["V"] + (["Ca"] if self.calcium is not None else [])
        for cname, ch in zip(self.channel_names, self.channels, strict=True):
            names.extend(f"{cname}.{gate}" for gate in ch.gates)
        return tuple(names)

    @property
    def num_states(self) -> int:
        return len(self.state_names)

    def compensated_states(self, dt: float) -> tuple[bool, ...]:
        """Kahan summation for V, [Ca] and every gate but those of channels whose
        declared ``tau_max`` (and no ``tau_scale``) is at most `FAST_STEPS` steps of
        ``dt`` ms: such a gate moves by at least 1/`FAST_STEPS` of its distance to x∞ each
        step, so plain addition leaves it at most `FAST_STEPS`/2 units in the last place
        from x∞ (about 1e-5 of a gate in float32).

        >>> from jaxneuron import build_HH
        >>> build_HH().compensated_states(0.025)
        (True, False, False, False)
        >>> build_HH().compensated_states(0.02)  # Na's τh reaches 8.6 ms > 400 × 0.02 ms
        (True, True, True, False)
        """
        flags = [True] * (2 if self.calcium is not None else 1)
        for channel in self.channels:
            fast = (
                channel.tau_max is not None
                and channel.tau_scale is None
                and channel.tau_max <= FAST_STEPS * float(dt)
            )
            flags.extend([not fast] * len(channel.gates))
        return tuple(flags)

    def parameters(self) -> dict[str, Array]:
        """Every numeric parameter by a readable name (for messages and tables)."""
        out = {"C": self.C, "V0": self.V0, "g_scale": self.g_scale}
        for cname, ch in zip(self.channel_names, self.channels, strict=True):
            out[f"{cname}.g"] = ch.g
            if ch.E is not None:
                out[f"{cname}.E"] = ch.E
            if ch.shift is not None:
                out[f"{cname}.shift"] = ch.shift
            if ch.tau_scale is not None:
                out[f"{cname}.tau_scale"] = ch.tau_scale
            if ch.slope is not None:
                out[f"{cname}.slope"] = ch.slope
        if self.calcium is not None:
            out["Ca0"] = self.Ca0
        return out

    def stimuli(self) -> tuple[AbstractStimulus, ...]:
        return (self.stimulus,)

    def _unpack(self, y: State):
        V = y[0]
        i = 1
        Ca = None
        if self.calcium is not None:
            Ca, i = y[1], 2
        gates = []
        for ch in self.channels:
            n = len(ch.gates)
            gates.append(tuple(y[i + k] for k in range(n)))
            i += n
        return V, Ca, gates

    def _flatten(self, V, Ca, gates) -> list:
        """The state variables in state order, as a list (the inverse of `_unpack`, which
        also accepts a list)."""
        parts = [V] + ([Ca] if self.calcium is not None else [])
        return parts + [x for channel_gates in gates for x in channel_gates]

    def _pack(self, V, Ca, gates) -> State:
        return jnp.stack([jnp.asarray(p, dtype=V.dtype) for p in self._flatten(V, Ca, gates)])

    # ---- currents -------------------------------------------------------------------

    def _reversals(self, Ca):
        E_Ca = None if self.calcium is None else self.calcium.reversal(Ca)
        return [E_Ca if ch.E is None else ch.E for ch in self.channels]

    def _channel_currents(self, V, Ca, gates):
        return [
            self.g_scale * ch.current(V, x, E)
            for ch, x, E in zip(self.channels, gates, self._reversals(Ca), strict=True)
        ]

    def _calcium_current(self, currents):
        return sum(I for ch, I in zip(self.channels, currents, strict=True) if ch.ion == "Ca")

    def calcium_current(self, y: State) -> Scalar:
        """The current through the calcium channels (``ion="Ca"``), µA/cm², inward
        negative, for the state ``y`` (a vector or a state tuple)."""
        V, Ca, gates = self._unpack(y)
        return self._calcium_current(self._channel_currents(V, Ca, gates))

    def ionic_currents(self, y: State) -> dict[str, Scalar]:
        """Each channel's current (µA/cm², outward positive) by channel name."""
        V, Ca, gates = self._unpack(y)
        return dict(zip(self.channel_names, self._channel_currents(V, Ca, gates), strict=True))

    # ---- initial state -------------------------------------------------------------

    def initial_state(self, V0=None, Ca0=None) -> State:
        """[V0, (Ca0), x∞(V0, Ca0) for every gate]: gates at steady state for the holding
        potential and calcium."""
        V = self.V0 if V0 is None else jnp.asarray(V0, dtype=self.V0.dtype)
        Ca = self.Ca0 if Ca0 is None else jnp.asarray(Ca0, dtype=self.V0.dtype)
        Ca = Ca if self.calcium is not None else None
        gates = [tuple(x_inf for x_inf, _ in ch.kinetics(V, Ca)) for ch in self.channels]
        return self._pack(V, Ca, gates)

    # ---- vector fields --------------------------------------------------------------

    def _gate_derivatives(self, V, Ca, gates):
        return [
            tuple(
                (x_inf - xi) / tau for xi, (x_inf, tau) in zip(x, ch.kinetics(V, Ca), strict=True)
            )
            for ch, x in zip(self.channels, gates, strict=True)
        ]

    def _slow_derivatives(self, t, V, Ca, gates, inputs=None):
        currents = self._channel_currents(V, Ca, gates)
        dV = (self.stimulus(t) - sum(currents) - _input_current(inputs, V)) / self.C
        dCa = None
        if self.calcium is not None:
            dCa = self.calcium.derivative(Ca, self._calcium_current(currents))
        return dV, dCa

    def vector_field(self, t, y: State, args=None, inputs=None) -> State:
        """dy/dt for diffrax: [dV/dt (mV/ms), (d[Ca]/dt, µM/ms), dx/dt (1/ms) …].

        ``inputs = (G, J)`` adds a current linear in V, I = G·V − J (G in mS/cm², J in
        µA/cm², outward positive): how a network passes synaptic and gap-junction
        currents, so that the exponential integrator can treat them implicitly in V."""
        V, Ca, gates = self._unpack(y)
        dV, dCa = self._slow_derivatives(t, V, Ca, gates, inputs)
        return self._pack(dV, dCa, self._gate_derivatives(V, Ca, gates)).astype(y.dtype)

    def membrane_field(self, t, y: State, args=None, inputs=None) -> State:
        """V and [Ca] part of `vector_field` (zeros for the gates): KenCarp's explicit term."""
        V, Ca, gates = self._unpack(y)
        dV, dCa = self._slow_derivatives(t, V, Ca, gates, inputs)
        zeros = [tuple(jnp.zeros_like(xi) for xi in x) for x in gates]
        return self._pack(dV, dCa, zeros).astype(y.dtype)

    def gate_field(self, t, y: State, args=None) -> State:
        """The gate part of `vector_field` (zero for V, [Ca]): KenCarp's implicit term."""
        V, Ca, gates = self._unpack(y)
        zero = jnp.zeros_like(V)
        dCa = None if Ca is None else zero
        return self._pack(zero, dCa, self._gate_derivatives(V, Ca, gates)).astype(y.dtype)

    def fixed_step(self, t, y, dt, compensation=None, inputs=None):
        r"""One split exponential-Euler (Rush–Larsen) step of ``dt`` ms on the state tuple
        ``y`` (see `jaxneuron.AbstractFixedStepModel`):

        1. gates with V(n), [Ca](n):  x ← x + (x∞ − x)(1 − e^{−Δt/τ})
        2. V with the new gates (and ``inputs``, see `vector_field`), exactly for the
           linear equation C dV/dt = −G V + J:  V ← V + Δt·(dV/dt)·(1 − e^{−z})/z,
           z = Δt G/C
        3. [Ca] with the new V and gates: [Ca] ← [Ca] + ([Ca]∞ − [Ca])(1 − e^{−Δt/τCa})

        Every sub-step is exact for frozen coefficients, so the scheme is unconditionally
        stable for the stiff gates; this order of the sub-steps keeps burst periods of
        the STG neurons within 0.1% at Δt = 0.025 ms (updating V with the old gates does
        not). Each increment is added (with ``compensation``: by Kahan summation) before
        the next sub-step reads the variable.

        Returns ``(y_next, compensation_next)``.
        """
        V, Ca, gates = self._unpack(y)
        c_V, c_Ca, c_gates = self._unpack(
            [None] * self.num_states if compensation is None else compensation
        )
        new_gates, new_c_gates = [], []
        for ch, x, c_x in zip(self.channels, gates, c_gates, strict=True):
            pairs = [
                advance(xi, relax(xi, x_inf, dt / tau), ci)
                for xi, ci, (x_inf, tau) in zip(x, c_x, ch.kinetics(V, Ca), strict=True)
            ]
            new_gates.append(tuple(p[0] for p in pairs))
            new_c_gates.append(tuple(p[1] for p in pairs))
        total_g = self.g_scale * sum(
            ch.conductance(x) for ch, x in zip(self.channels, new_gates, strict=True)
        )
        if inputs is not None:
            total_g = total_g + inputs[0]
        currents = self._channel_currents(V, Ca, new_gates)
        dV = (self.stimulus(t) - sum(currents) - _input_current(inputs, V)) / self.C
        V_new, c_V = advance(V, membrane_increment(dV, total_g / self.C, dt), c_V)
        Ca_new = None
        if self.calcium is not None:
            I_Ca = self._calcium_current(self._channel_currents(V_new, Ca, new_gates))
            Ca_new, c_Ca = advance(Ca, self.calcium.increment(Ca, I_Ca, dt), c_Ca)
        y_next = tuple(self._flatten(V_new, Ca_new, new_gates))
        if compensation is None:
            return y_next, None
        return y_next, tuple(self._flatten(c_V, c_Ca, new_c_gates))


def _input_current(inputs, V):
    if inputs is None:
        return 0.0
    G, J = inputs
    return G * V - J
