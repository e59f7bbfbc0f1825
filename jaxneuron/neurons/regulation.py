r"""Activity-dependent regulation of maximal conductances: slow variables that move a
neuron's conductances with its own calcium signals.

A regulator reads one activity signal from the neuron at every step and holds the
regulated maximal conductances as *states* (everything else stays a parameter, so
targets, time constants and rates can be swept and fitted). Wrap a neuron with
`RegulatedNeuron` to integrate both together.

**Liu et al. (1998)**, "A model neuron with activity-dependent conductances regulated by
multiple calcium sensors" (J Neurosci 18:2309). Three sensors read the calcium current
I_Ca (in nA/nF: the current over the capacitance, inward negative; eq. 4, Table 2):

    X = Ḡ_X M² H                                   (the DC sensor has no H: X = Ḡ_X M²)
    M∞ = 1 / (1 + e^{Z_M + I_Ca}),   H∞ = 1 / (1 + e^{−Z_H − I_Ca})
    τ_M dM/dt = M∞ − M,              τ_H dH/dt = H∞ − H

and every regulated maximal conductance ḡᵢ follows (eq. 3, Table 1)

    τ_g dḡᵢ/dt = [Aᵢ (F̄ − F) + Bᵢ (S̄ − S) + Cᵢ (D̄ − D)] ḡᵢ

with the targets F̄, S̄, D̄ of the fast (F), slow (S) and DC (D) sensors. The rule is
multiplicative: a conductance never changes sign.

**O'Leary, Williams, Franci & Marder (2014)**, "Cell types, network homeostasis, and
pathological compensation from a biologically plausible ion channel expression model"
(Neuron 82:809). Each channel's mRNA mᵢ integrates the calcium error and its conductance
follows the mRNA:

    τᵢ dmᵢ/dt = [Ca]_target − [Ca],        τ_g dḡᵢ/dt = mᵢ − ḡᵢ

with mᵢ kept ≥ 0 (a negative amount of mRNA has no meaning). While no mᵢ is held at 0,
τᵢ (mᵢ − mᵢ(0)) is the same for every channel at every time, so conductances started
from mᵢ(0) = 0 settle with ratios ḡᵢ/ḡⱼ = τⱼ/τᵢ: the correlations of the paper.

>>> from jaxneuron import LiuConfig, build_Liu
>>> from jaxneuron.neurons.regulation import liu_1998_regulation
>>> regulator = liu_1998_regulation()
>>> regulator.state_names[:5], regulator.channel_names
(('F.M', 'F.H', 'S.M', 'S.H', 'D.M'), ('Na', 'CaT', 'CaS', 'A', 'KCa', 'Kd', 'H'))
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._numerics import expm1, relax
from .._protocols import AbstractNamedChannels
from .._validation import check_finite, check_nonnegative, check_positive

Scalar = Float[Array, ""]


def _optional(x):
    return None if x is None else jnp.asarray(x)


class AbstractRegulator(AbstractNamedChannels):
    """A regulator of the maximal conductances of the channels ``channel_names``.

    Its state is a tuple named by `state_names`; it reads one activity signal from the
    neuron (`activity`) and the neuron's regulated conductances are `conductances` of its
    state. `increment` is the change over a step of ``dt`` ms with the activity frozen,
    `derivative` the vector field for adaptive solvers.
    """

    @property
    @abc.abstractmethod
    def state_names(self) -> tuple[str, ...]:
        """The regulator's states, in order (the regulated conductances are ``"<channel>.g"``)."""

    @property
    @abc.abstractmethod
    def implicit(self) -> tuple[bool, ...]:
        """Per state: True for fast states that IMEX solvers treat implicitly (with the gates)."""

    @abc.abstractmethod
    def check_neuron(self, neuron) -> None:
        """Raise a clear error if ``neuron`` lacks what the regulator reads."""

    @abc.abstractmethod
    def activity(self, neuron, y) -> Scalar:
        """The signal the regulator reads from the neuron's state ``y``."""

    @abc.abstractmethod
    def initial_state(self, g0: tuple, activity) -> tuple:
        """The state at the start, from the neuron's conductances ``g0`` (mS/cm², in
        ``channel_names`` order) and its initial activity."""

    @abc.abstractmethod
    def conductances(self, r: tuple) -> tuple:
        """The regulated maximal conductances (mS/cm², ``channel_names`` order) in state ``r``."""

    @abc.abstractmethod
    def derivative(self, r: tuple, activity) -> tuple:
        """d/dt of every state (per ms)."""

    @abc.abstractmethod
    def increment(self, r: tuple, activity, dt) -> tuple:
        """The change of every state over ``dt`` ms with the activity frozen."""

    @abc.abstractmethod
    def parameters(self) -> dict[str, Array]:
        """Every numeric parameter by name (as `jaxneuron.parameters` resolves them below
        ``"regulator."``)."""


# ---- Liu et al. 1998 ----------------------------------------------------------------------


class CalciumSensor(eqx.Module):
    r"""One calcium-current sensor of Liu et al. (1998): X = Ḡ M² H (X = Ḡ M² without
    ``Z_H``), with M∞ = 1/(1 + e^{Z_M + I}), H∞ = 1/(1 + e^{−Z_H − I}) for the calcium
    current I in nA/nF, and first-order relaxation with ``tau_M``, ``tau_H`` (ms).

    **Fields:** ``G`` (dimensionless), ``Z_M``, ``Z_H`` (in nA/nF; Z_H None for a sensor
    without inactivation), ``tau_M``, ``tau_H`` (ms), ``target`` (the value the regulation
    drives the sensor's average to, dimensionless).

    >>> fast = CalciumSensor(G=10.0, Z_M=14.2, tau_M=0.5, Z_H=9.8, tau_H=1.5, target=0.1)
    >>> fast.gates, round(float(fast.value(fast.steady_state(-12.0))), 4)
    (('M', 'H'), 0.0099)
    """

    G: Scalar = eqx.field(converter=jnp.asarray)
    Z_M: Scalar = eqx.field(converter=jnp.asarray)
    tau_M: Scalar = eqx.field(converter=jnp.asarray)
    target: Scalar = eqx.field(converter=jnp.asarray)
    Z_H: Scalar | None = eqx.field(converter=_optional, default=None)
    tau_H: Scalar | None = eqx.field(converter=_optional, default=None)

    def __check_init__(self):
        check_nonnegative("CalciumSensor.G", self.G, "")
        check_finite("CalciumSensor.Z_M", self.Z_M, "nA/nF")
        check_positive("CalciumSensor.tau_M", self.tau_M, "ms")
        check_finite("CalciumSensor.target", self.target, "")
        if (self.Z_H is None) != (self.tau_H is None):
            raise ValueError("CalciumSensor: give both Z_H (nA/nF) and tau_H (ms), or neither")
        if self.Z_H is not None:
            check_finite("CalciumSensor.Z_H", self.Z_H, "nA/nF")
            check_positive("CalciumSensor.tau_H", self.tau_H, "ms")

    @property
    def gates(self) -> tuple[str, ...]:
        return ("M",) if self.Z_H is None else ("M", "H")

    def steady_state(self, I_Ca) -> tuple:
        """(M∞, H∞) (or (M∞,)) for the calcium current ``I_Ca`` in nA/nF."""
        M = 1.0 / (1.0 + jnp.exp(self.Z_M + I_Ca))
        if self.Z_H is None:
            return (M,)
        return M, 1.0 / (1.0 + jnp.exp(-self.Z_H - I_Ca))

    def time_constants(self) -> tuple:
        return (self.tau_M,) if self.Z_H is None else (self.tau_M, self.tau_H)

    def value(self, x: tuple) -> Scalar:
        """The sensor's output Ḡ M² H from its gates ``x``."""
        out = self.G * x[0] ** 2
        return out if self.Z_H is None else out * x[1]


class LiuCoupling(eqx.Module):
    """How one conductance follows the three sensors (Liu et al. 1998, eq. 3, Table 1):
    τ dḡ/dt = [A (F̄ − F) + B (S̄ − S) + C (D̄ − D)] ḡ, with ``tau`` in ms."""

    A: Scalar = eqx.field(converter=jnp.asarray)
    B: Scalar = eqx.field(converter=jnp.asarray)
    C: Scalar = eqx.field(converter=jnp.asarray)
    tau: Scalar = eqx.field(converter=jnp.asarray, default=5000.0)

    def __check_init__(self):
        for field in ("A", "B", "C"):
            check_finite(f"LiuCoupling.{field}", getattr(self, field), "")
        check_positive("LiuCoupling.tau", self.tau, "ms")


class LiuRegulation(AbstractRegulator):
    """The three-sensor regulation of Liu et al. (1998): the fast (``F``), slow (``S``)
    and DC (``D``) `CalciumSensor` read the calcium current over the capacitance, and each
    regulated channel follows them by its `LiuCoupling` (see the module docstring).

    The state is the sensors' gates (``"F.M"``, ``"F.H"``, …) followed by the regulated
    conductances (``"<channel>.g"``, mS/cm²). `liu_1998_regulation` builds the paper's.
    """

    F: CalciumSensor
    S: CalciumSensor
    D: CalciumSensor
    channels: tuple[LiuCoupling, ...]
    channel_names: tuple[str, ...] = eqx.field(static=True)

    def __check_init__(self):
        if len(self.channels) != len(self.channel_names):
            raise ValueError("LiuRegulation: one LiuCoupling per regulated channel name")

    def _sensors(self):
        return (("F", self.F), ("S", self.S), ("D", self.D))

    @property
    def state_names(self) -> tuple[str, ...]:
        gates = [f"{n}.{g}" for n, sensor in self._sensors() for g in sensor.gates]
        return tuple(gates + [f"{c}.g" for c in self.channel_names])

    @property
    def implicit(self) -> tuple[bool, ...]:
        n_gates = sum(len(sensor.gates) for _, sensor in self._sensors())
        return (True,) * n_gates + (False,) * len(self.channel_names)

    def check_neuron(self, neuron) -> None:
        if not any(ch.ion == "Ca" for ch in neuron.channels):
            raise ValueError(
                f"{neuron.name}: Liu's sensors read the calcium current, but no channel "
                "carries calcium (ion='Ca')"
            )

    def activity(self, neuron, y) -> Scalar:
        """I_Ca / C in nA/nF (a density in µA/cm² over µF/cm²)."""
        return neuron.calcium_current(y) / neuron.C

    def _split(self, r):
        n_gates = len(r) - len(self.channel_names)
        gates, i = [], 0
        for _, sensor in self._sensors():
            gates.append(tuple(r[i : i + len(sensor.gates)]))
            i += len(sensor.gates)
        return gates, tuple(r[n_gates:])

    def initial_state(self, g0, activity) -> tuple:
        gates = [x for _, sensor in self._sensors() for x in sensor.steady_state(activity)]
        return tuple(gates) + tuple(g0)

    def conductances(self, r) -> tuple:
        return self._split(r)[1]

    def sensor_values(self, r) -> tuple:
        """(F, S, D) in state ``r``."""
        gates, _ = self._split(r)
        return tuple(s.value(x) for (_, s), x in zip(self._sensors(), gates, strict=True))

    def _rates(self, sensor_values):
        """[A (F̄ − F) + B (S̄ − S) + C (D̄ − D)] / τ per regulated channel (1/ms)."""
        F, S, D = sensor_values
        eF, eS, eD = self.F.target - F, self.S.target - S, self.D.target - D
        return [(k.A * eF + k.B * eS + k.C * eD) / k.tau for k in self.channels]

    def derivative(self, r, activity) -> tuple:
        gates, g = self._split(r)
        dgates = [
            (x_inf - x) / tau
            for (_, sensor), xs in zip(self._sensors(), gates, strict=True)
            for x, x_inf, tau in zip(
                xs, sensor.steady_state(activity), sensor.time_constants(), strict=True
            )
        ]
        rates = self._rates(self.sensor_values(r))
        return tuple(dgates) + tuple(rate * gi for rate, gi in zip(rates, g, strict=True))

    def increment(self, r, activity, dt) -> tuple:
        """Sensor gates exactly for the frozen current, then each conductance exactly for
        the new sensor values: Δḡ = ḡ (e^{k Δt} − 1), k the bracket of eq. 3 over τ."""
        gates, g = self._split(r)
        dgates, new_gates = [], []
        for (_, sensor), xs in zip(self._sensors(), gates, strict=True):
            d = [
                relax(x, x_inf, dt / tau)
                for x, x_inf, tau in zip(
                    xs, sensor.steady_state(activity), sensor.time_constants(), strict=True
                )
            ]
            dgates.extend(d)
            new_gates.append(tuple(x + dx for x, dx in zip(xs, d, strict=True)))
        values = tuple(s.value(x) for (_, s), x in zip(self._sensors(), new_gates, strict=True))
        rates = self._rates(values)
        return tuple(dgates) + tuple(gi * expm1(k * dt) for k, gi in zip(rates, g, strict=True))

    def parameters(self) -> dict[str, Array]:
        out = {}
        for name, sensor in self._sensors():
            for field in ("G", "Z_M", "Z_H", "tau_M", "tau_H", "target"):
                value = getattr(sensor, field)
                if value is not None:
                    out[f"{name}.{field}"] = value
        for cname, k in zip(self.channel_names, self.channels, strict=True):
            out.update({f"{cname}.{f}": getattr(k, f) for f in ("A", "B", "C", "tau")})
        return out


#: The sensors of Liu et al. (1998): Ḡ after eq. 4 (p. 2312) and Z_M, Z_H, τ_M, τ_H (ms)
#: from Table 2 (p. 2313), read as transcribed in ModelDB entry 93321 (T. M. Morse).
LIU_1998_SENSORS = {
    "F": dict(G=10.0, Z_M=14.2, Z_H=9.8, tau_M=0.5, tau_H=1.5),
    "S": dict(G=3.0, Z_M=7.2, Z_H=2.8, tau_M=50.0, tau_H=60.0),
    "D": dict(G=1.0, Z_M=3.0, tau_M=500.0),
}
#: The coefficients (A, B, C) of each regulated conductance on the fast, slow and DC
#: sensor errors (Liu et al. 1998, Table 1; ModelDB 93321). The leak is not regulated.
LIU_1998_COUPLING = {
    "Na": (1.0, 0.0, 0.0),
    "CaT": (0.0, 1.0, 0.0),
    "CaS": (0.0, 1.0, 0.0),
    "A": (0.0, -1.0, -1.0),
    "KCa": (0.0, -1.0, -1.0),
    "Kd": (1.0, -1.0, 0.0),
    "H": (0.0, 1.0, 1.0),
}
#: The targets F̄, S̄, D̄ of the bursting neuron of Liu et al. (1998), p. 2312.
LIU_1998_TARGETS = (0.1, 0.1, 0.1)
#: The regulation time constant τ_g of Liu et al. (1998), 5 s (p. 2312), in ms.
LIU_1998_TAU = 5000.0


#: Liu et al. (1998), Fig. 3: the maximal conductances (µS/nF, which is mS/cm² at 1 µF/cm²)
#: of models A and B at the start and at the end of the regulation, as read from the
#: figure in ModelDB 93321 (fig3.hoc); the leak, not regulated, is 0.01 (p. 2318).
LIU_1998_FIG3 = {
    "A": {
        "start": dict(Na=32.89, CaT=0.268, CaS=0.779, A=24.16, KCa=36.58, Kd=15.10, H=0.107),
        "end": dict(Na=48.98, CaT=0.49, CaS=1.47, A=10.20, KCa=15.0, Kd=11.22, H=0.24),
    },
    "B": {
        "start": dict(Na=24.16, CaT=0.805, CaS=1.087, A=37.92, KCa=19.80, Kd=40.60, H=0.094),
        "end": dict(Na=36.73, CaT=1.14, CaS=1.55, A=16.33, KCa=8.16, Kd=44.39, H=0.20),
    },
}


def liu_1998_regulation(
    targets=LIU_1998_TARGETS, tau: float = LIU_1998_TAU, channels=None
) -> LiuRegulation:
    """Liu et al.'s (1998) regulation: the paper's sensors, targets (F̄, S̄, D̄), τ_g (ms)
    and Table 1 couplings for ``channels`` (default: all seven voltage-gated currents of
    `jaxneuron.build_Liu`; the leak stays fixed).

    >>> reg = liu_1998_regulation(channels=("CaS", "KCa"))
    >>> reg.state_names[-2:], float(reg.channels[1].B)
    (('CaS.g', 'KCa.g'), -1.0)
    """
    channels = tuple(LIU_1998_COUPLING) if channels is None else tuple(channels)
    unknown = [c for c in channels if c not in LIU_1998_COUPLING]
    if unknown:
        raise ValueError(
            f"Liu et al. (1998) regulate {tuple(LIU_1998_COUPLING)}, not {unknown}; build a "
            "LiuRegulation with your own LiuCoupling for other channels"
        )
    if len(targets) != 3:
        raise ValueError(f"targets are (F̄, S̄, D̄), three numbers; got {targets}")
    sensors = {
        name: CalciumSensor(target=t, **LIU_1998_SENSORS[name])
        for name, t in zip("FSD", targets, strict=True)
    }
    couplings = tuple(LiuCoupling(*LIU_1998_COUPLING[c], tau=tau) for c in channels)
    return LiuRegulation(**sensors, channels=couplings, channel_names=channels)


# ---- O'Leary et al. 2014 ------------------------------------------------------------------


class IntegralController(eqx.Module):
    """The controller of one channel (O'Leary et al. 2014): τ dm/dt = [Ca]_target − [Ca],
    τ_g dḡ/dt = m − ḡ.

    **Fields:** ``tau`` (the integration time constant, ms·µM per mS/cm²: the mRNA, in
    the conductance it codes for, grows by 1 mS/cm² per ``tau`` ms at 1 µM of error),
    ``tau_g`` (ms), ``m0`` (the initial mRNA, mS/cm²).
    """

    tau: Scalar = eqx.field(converter=jnp.asarray)
    tau_g: Scalar = eqx.field(converter=jnp.asarray)
    m0: Scalar = eqx.field(converter=jnp.asarray, default=0.0)

    def __check_init__(self):
        check_positive("IntegralController.tau", self.tau, "ms·µM per mS/cm²")
        check_positive("IntegralController.tau_g", self.tau_g, "ms")
        check_nonnegative("IntegralController.m0", self.m0, "mS/cm²")


class IntegralControl(AbstractRegulator):
    """Integral control of conductances by intracellular calcium (O'Leary et al. 2014):
    one `IntegralController` per regulated channel, all driven by the error
    ``target`` − [Ca] (µM; see the module docstring).

    The state is ``"<channel>.mRNA"`` and ``"<channel>.g"`` per channel (mS/cm²).

    >>> control = IntegralControl.with_rates(3.0, {"CaS": 1e4, "Kd": 2e3}, tau_g=1e3)
    >>> control.state_names
    ('CaS.mRNA', 'CaS.g', 'Kd.mRNA', 'Kd.g')
    """

    target: Scalar = eqx.field(converter=jnp.asarray)
    channels: tuple[IntegralController, ...]
    channel_names: tuple[str, ...] = eqx.field(static=True)

    def __check_init__(self):
        check_positive("IntegralControl.target ([Ca] target)", self.target, "µM")
        if len(self.channels) != len(self.channel_names):
            raise ValueError("IntegralControl: one IntegralController per regulated channel name")

    @classmethod
    def with_rates(cls, target, taus: dict, *, tau_g=1000.0, m0=0.0) -> IntegralControl:
        """Controllers for the channels of ``taus`` (name → τ, ms·µM per mS/cm²), all with
        the same ``tau_g`` (ms) and initial mRNA ``m0`` (mS/cm²)."""
        controllers = tuple(IntegralController(tau=t, tau_g=tau_g, m0=m0) for t in taus.values())
        return cls(target=target, channels=controllers, channel_names=tuple(taus))

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(f"{c}.{s}" for c in self.channel_names for s in ("mRNA", "g"))

    @property
    def implicit(self) -> tuple[bool, ...]:
        return (False,) * (2 * len(self.channel_names))

    def check_neuron(self, neuron) -> None:
        if neuron.calcium is None:
            raise ValueError(
                f"{neuron.name}: integral control reads [Ca], but the neuron has no calcium pool"
            )

    def activity(self, neuron, y) -> Scalar:
        """[Ca] in µM."""
        return y[neuron.state_names.index("Ca")]

    def initial_state(self, g0, activity) -> tuple:
        m0 = [jnp.broadcast_to(k.m0, jnp.shape(g)) for k, g in zip(self.channels, g0, strict=True)]
        return tuple(x for pair in zip(m0, g0, strict=True) for x in pair)

    def conductances(self, r) -> tuple:
        return tuple(r[1::2])

    def derivative(self, r, activity) -> tuple:
        error = self.target - activity
        out = []
        for k, m, g in zip(self.channels, r[0::2], r[1::2], strict=True):
            held = (m <= 0) & (error < 0)  # the mRNA stays at its floor of 0
            out += [jnp.where(held, 0.0, error / k.tau), (m - g) / k.tau_g]
        return tuple(out)

    def increment(self, r, activity, dt) -> tuple:
        """mRNA exactly for the frozen error (floored at 0); then the conductance relaxes
        towards the new mRNA exactly (first order in Δt overall)."""
        error = self.target - activity
        out = []
        for k, m, g in zip(self.channels, r[0::2], r[1::2], strict=True):
            m_new = jnp.maximum(m + dt * error / k.tau, 0.0)
            out += [m_new - m, relax(g, m_new, dt / k.tau_g)]
        return tuple(out)

    def parameters(self) -> dict[str, Array]:
        out = {"target": self.target}
        for cname, k in zip(self.channel_names, self.channels, strict=True):
            out.update({f"{cname}.{f}": getattr(k, f) for f in ("tau", "tau_g", "m0")})
        return out
