"""The channel abstraction: kinetics are written once, everything else is derived.

A channel is an equinox module whose maximal conductance ``g`` (mS/cm²) and reversal
potential ``E`` (mV) are pytree leaves. Its gates are static structure: the names in
``gates`` and the integer exponents in ``powers``. A concrete channel implements one
method, `gate_kinetics`, returning ``(x∞(V), τx(V))`` for each gate — exactly what the
papers' tables give. From it the library derives

- the vector field        dx/dt = (x∞ − x) / τx,
- the exponential (Rush–Larsen) update  x ← x∞ + (x − x∞) · exp(−Δt / τx),
- steady-state initial conditions        x = x∞(V₀),

and the current  I = g · Π xᵢ^pᵢ · (V − E).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._validation import check_finite, check_nonnegative, check_positive

Scalar = Float[Array, ""]
Kinetics = tuple[Scalar, Scalar]


def from_alpha_beta(alpha, beta) -> Kinetics:
    """Convert opening/closing rates (1/ms) to (x∞, τx in ms).

    dx/dt = α(1 − x) − βx  ⇔  x∞ = α / (α + β),  τx = 1 / (α + β).
    """
    total = alpha + beta
    return alpha / total, 1.0 / total


def sigmoid(V, a, b):
    """σ(V; a, b) = 1 / (1 + exp((V + a) / b)), the steady-state shape of the STG papers."""
    return 1.0 / (1.0 + jnp.exp((V + a) / b))


def _optional_array(x):
    return None if x is None else jnp.asarray(x)


class IonChannel(eqx.Module):
    """A gated ionic current  I = scale · g · Π xᵢ^pᵢ · (V − E)   [µA/cm²].

    Subclasses set the class variables ``gates`` (names) and ``powers`` (exponents) and
    implement `gate_kinetics`. ``g`` is in mS/cm², ``E`` in mV; ``scale`` (dimensionless,
    default 1) multiplies ``g``, so a fit can move a channel relative to a preset.

    A channel with ``ion = "Ca"`` carries calcium: its current feeds the neuron's calcium
    pool, and when its ``E`` is None the reversal potential is the pool's Nernst
    potential.
    """

    g: Scalar = eqx.field(converter=jnp.asarray)
    E: Scalar | None = eqx.field(converter=_optional_array, default=None)
    scale: Scalar = eqx.field(converter=jnp.asarray, default=1.0)
    shift: Scalar | None = eqx.field(converter=_optional_array, default=None)
    tau_scale: Scalar | None = eqx.field(converter=_optional_array, default=None)
    slope: Scalar | None = eqx.field(converter=_optional_array, default=None)
    pivots: tuple[float, ...] | None = eqx.field(static=True, default=None)

    gates: ClassVar[tuple[str, ...]] = ()
    powers: ClassVar[tuple[int, ...]] = ()
    ion: ClassVar[str | None] = None
    #: an upper bound (ms) of every gate's τ over all V (and [Ca]) at ``tau_scale`` 1, from
    #: the paper's formulas (a test checks it on a dense grid); None: not declared. A
    #: shift, a slope or a ``VT`` moves or stretches τ(V) but keeps its maximum.
    tau_max: ClassVar[float | None] = None

    def __check_init__(self):
        name = type(self).__name__
        check_nonnegative(f"{name}.g (maximal conductance)", self.g, "mS/cm²")
        check_nonnegative(f"{name}.scale (conductance scale)", self.scale, "")
        if self.E is None:
            if self.ion != "Ca":
                raise ValueError(f"{name}.E (reversal potential, mV) is required")
        else:
            check_finite(f"{name}.E (reversal potential)", self.E, "mV")
        if self.shift is not None:
            check_finite(f"{name}.shift (kinetics shift)", self.shift, "mV")
        if self.tau_scale is not None:
            check_positive(f"{name}.tau_scale (time-constant scale)", self.tau_scale, "")
        if self.slope is not None:
            check_positive(f"{name}.slope (voltage-dependence stretch)", self.slope, "")
            if self.pivots is None or len(self.pivots) != len(self.gates):
                raise ValueError(f"{name}: a slope needs one pivot per gate; use `modulated`")
        if len(self.gates) != len(self.powers):
            raise TypeError(f"{name}: `gates` and `powers` must have the same length")

    def gate_kinetics(self, V: Scalar, Ca: Scalar | None = None) -> tuple[Kinetics, ...]:
        """(x∞, τx in ms) for every gate at potential V (mV) and calcium Ca (µM), in the
        order of ``gates``."""
        return ()

    def kinetics(self, V: Scalar, Ca: Scalar | None = None) -> tuple[Kinetics, ...]:
        """`gate_kinetics` with the channel's modulation, when set: every gate's x∞ and τ
        taken at V − ``shift`` (mV: the half-activation and half-inactivation voltages
        move by +shift), its voltage dependence stretched by ``slope`` about the gate's
        half-activation voltage Vᵢ (``pivots``): gate i is taken at
        Vᵢ + (V − shift − Vᵢ)/slope, so a Boltzmann slope factor k becomes slope·k; and
        every τ multiplied by ``tau_scale``. These are the kinetic parameters a
        voltage-clamp fit recovers. Unset (None), they cost nothing and are not
        parameters (see `modulated`)."""
        if self.shift is not None:
            V = V - self.shift
        if self.slope is None:
            pairs = self.gate_kinetics(V, Ca)
        else:  # one evaluation per gate, each at its own stretched potential
            pairs = tuple(
                self.gate_kinetics(p + (V - p) / self.slope, Ca)[i]
                for i, p in enumerate(self.pivots)
            )
        if self.tau_scale is not None:
            pairs = tuple((x_inf, tau * self.tau_scale) for x_inf, tau in pairs)
        return pairs

    def open_probability(self, gate_values) -> Scalar:
        """Π xᵢ^pᵢ; 1 for a channel without gates (a leak)."""
        result = jnp.ones_like(self.g)
        for x, p in zip(gate_values, self.powers, strict=True):
            result = result * x**p
        return result

    def conductance(self, gate_values) -> Scalar:
        """Instantaneous conductance scale · g · Π xᵢ^pᵢ in mS/cm²."""
        return self.scale * self.g * self.open_probability(gate_values)

    def current(self, V: Scalar, gate_values, E: Scalar | None = None) -> Scalar:
        """I = scale · g · Π xᵢ^pᵢ · (V − E) in µA/cm² (positive outward); ``E`` overrides
        the channel's own reversal potential (the neuron passes E_Ca for calcium channels)."""
        return self.conductance(gate_values) * (V - (self.E if E is None else E))


def modulated(
    channel: IonChannel, shift: float = 0.0, tau_scale: float = 1.0, slope: float | None = None
) -> IonChannel:
    """``channel`` with fittable kinetics: its gates' x∞ and τ taken at V − ``shift`` (mV),
    τ scaled by ``tau_scale`` and, when ``slope`` is given, each gate's voltage dependence
    stretched by ``slope`` about its half-activation voltage (see `IonChannel.kinetics`);
    the neuron then names them ``"<channel>.shift"``, ``"<channel>.tau_scale"`` and
    ``"<channel>.slope"``.

    The half-activation voltages are found once, here: where each gate's x∞ crosses 1/2
    between −150 and +100 mV (a channel whose x∞ depends on calcium, or never crosses 1/2,
    has no slope to modulate: `ValueError`).

    >>> from jaxneuron.channels import PrinzA
    >>> a = modulated(PrinzA(g=50.0), shift=2.0)
    >>> m_inf = float(a.kinetics(-20.0)[0][0])  # m∞ at −20 mV is the plain channel's at −22
    >>> abs(m_inf - float(PrinzA(g=50.0).kinetics(-22.0)[0][0])) < 1e-6
    True
    >>> steep = modulated(PrinzA(g=50.0), slope=0.5)
    >>> [round(v, 2) for v in steep.pivots]   # m∞ = σ(V; 27.2, −8.7), h∞ = σ(V; 56.9, 4.9)
    [-27.2, -56.9]
    """
    if not isinstance(channel, IonChannel):
        raise TypeError(f"modulated needs an IonChannel, got {type(channel).__name__}")
    name = type(channel).__name__
    check_finite(f"{name}.shift (kinetics shift)", shift, "mV")
    check_positive(f"{name}.tau_scale (time-constant scale)", tau_scale, "")
    dtype = jnp.result_type(channel.g)
    channel = eqx.tree_at(
        lambda c: (c.shift, c.tau_scale),
        channel,
        (jnp.asarray(shift, dtype=dtype), jnp.asarray(tau_scale, dtype=dtype)),
        is_leaf=lambda x: x is None,
    )
    if slope is None:
        return channel
    check_positive(f"{name}.slope (voltage-dependence stretch)", slope, "")
    pivots = half_activation_voltages(channel)
    return dataclasses.replace(channel, slope=jnp.asarray(slope, dtype=dtype), pivots=pivots)


def half_activation_voltages(channel: IonChannel) -> tuple[float, ...]:
    """V (mV) where each gate's x∞ (of `gate_kinetics`, unmodulated) crosses 1/2, from a
    0.01-mV grid over −150…+100 mV refined by linear interpolation."""
    name = type(channel).__name__
    V = np.arange(-150.0, 100.0 + 1e-9, 0.01)
    try:
        pairs = channel.gate_kinetics(jnp.asarray(V))
    except ValueError as err:
        raise ValueError(
            f"{name}: its gates depend on more than V ({err}); slope modulation needs "
            "voltage-only steady states"
        ) from err
    pivots = []
    for gate, (x_inf, _) in zip(channel.gates, pairs, strict=True):
        d = np.asarray(x_inf, dtype=float) - 0.5
        below = d < 0
        crossing = np.flatnonzero(below[:-1] != below[1:])
        if len(crossing) != 1:
            raise ValueError(
                f"{name}.{gate}: x∞ crosses 1/2 {len(crossing)} times between −150 and "
                "+100 mV; slope modulation needs one half-activation voltage per gate"
            )
        k = crossing[0]
        pivots.append(float(V[k] - d[k] * (V[k + 1] - V[k]) / (d[k + 1] - d[k])))
    return tuple(pivots)


def requires_calcium(channel: IonChannel, Ca):
    if Ca is None:
        raise ValueError(
            f"{type(channel).__name__} depends on [Ca] but the neuron has no calcium pool"
        )
    return Ca


class Leak(IonChannel):
    """Passive leak  I = g · (V − E)."""
