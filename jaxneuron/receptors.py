r"""Receptor kinetics: how a conductance opened by presynaptic spikes evolves in time.

A receptor's state is linear: ``n_components`` variables per synapse (or per
postsynaptic neuron, when synapses of one kind add up), decaying exactly over a step, to
which each spike adds a fixed "kick". One definition serves both spiking engines:
`jaxneuron.spiking` (a state per synapse) and `jaxneuron.networks` (a state per
postsynaptic neuron, the weights summed in).

With s = t − t_arrival ≥ 0 the time since a spike arrived, the conductance per unit
weight (nS per nS of weight) is

    exponential  k(s) = e^{−s/τ}                                    (1 at s = 0)
    alpha        k(s) = (s/τ)·e^{1 − s/τ}                            (peak 1 at s = τ)
    NMDA         k(s) = N·(e^{−s/τ_decay} − e^{−s/τ_rise})           (peak 1), times the
                 Mg²⁺ block B(V) = 1/(1 + [Mg]/3.57 mM · e^{−0.062 V})

and the current into the cell is k·w·B(V)·(E − V). Kernels as in Dayan & Abbott,
*Theoretical Neuroscience* (2001), §5.8; the block from Jahr & Stevens (1990), J Neurosci
10:3178.

Every parameter is a scalar or an array broadcasting against the state's leading axes;
the state has shape (..., n_components).

>>> r = AlphaReceptor(tau=3.0, E=0.0)
>>> round(float(r.open(r.decay(r.kick(jnp.zeros(1)), 3.0))[0]), 6)   # peak at τ
1.0
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._numerics import relax
from ._validation import check_finite, check_nonnegative, check_positive, is_concrete

#: Jahr & Stevens (1990): the Mg²⁺ dissociation constant at 0 mV (mM).
MG_HALF_BLOCK_MM = 3.57
#: Jahr & Stevens (1990): the voltage dependence of the Mg²⁺ block (1/mV).
MG_VOLTAGE_SLOPE = 0.062


def mg_block(V, Mg=1.0):
    r"""Jahr & Stevens' (1990) Mg²⁺ block of NMDA receptors, the open fraction at V (mV):

        B(V) = 1 / (1 + [Mg²⁺]/3.57 mM · e^{−0.062 V})

    ``Mg`` in mM. Jahr & Stevens (1990), J Neurosci 10:3178.

    >>> round(float(mg_block(0.0)), 4), round(float(mg_block(-65.0)), 4)
    (0.7812, 0.0597)
    """
    return 1.0 / (1.0 + Mg / MG_HALF_BLOCK_MM * jnp.exp(-MG_VOLTAGE_SLOPE * V))


class AbstractReceptor(eqx.Module):
    """The kinetics of a spike-driven conductance (see the module): a linear state of
    ``n_components`` variables, its exact decay, the kick of one spike, the open
    conductance per unit weight, and a voltage-dependent block. ``E`` (mV) is the
    reversal potential."""

    n_components: eqx.AbstractClassVar[int]
    # every subclass has ``E`` (mV), declared there so that it keeps its place among the
    # subclass's fields

    @abc.abstractmethod
    def decay(self, state, dt):
        """The state ``dt`` ms later without spikes (exact: the state is linear)."""

    @abc.abstractmethod
    def kick(self, lag):
        """The state (..., n_components) one spike has reached ``lag`` ms after arriving."""

    @abc.abstractmethod
    def open(self, state):
        """The conductance per unit weight (peak 1), without the voltage-dependent block."""

    def block(self, V):
        """The open fraction at the postsynaptic potential ``V`` (mV): 1 unless blocked."""
        return jnp.ones_like(V)


def _col(x):
    return jnp.asarray(x)[..., None]


class ExponentialReceptor(AbstractReceptor):
    """k(s) = e^{−s/τ}: an instantaneous rise and a single exponential decay.
    ``tau`` (ms), ``E`` (mV).

    >>> r = ExponentialReceptor(5.0, 0.0)
    >>> round(float(r.open(r.decay(r.kick(jnp.zeros(1)), 5.0))[0]), 4)   # 1/e
    0.3679
    """

    n_components: ClassVar[int] = 1

    tau: Float[Array, "..."] = eqx.field(converter=jnp.asarray)
    E: Float[Array, "..."] = eqx.field(converter=jnp.asarray)

    def __check_init__(self):
        check_positive("ExponentialReceptor.tau (decay time)", self.tau, "ms")
        check_finite("ExponentialReceptor.E (reversal potential)", self.E, "mV")

    def decay(self, state, dt):
        return state * _col(jnp.exp(-dt / self.tau))

    def kick(self, lag):
        return _col(jnp.exp(-lag / self.tau))

    def open(self, state):
        return state[..., 0]


class AlphaReceptor(AbstractReceptor):
    r"""k(s) = (s/τ)·e^{1 − s/τ}, peak 1 at s = τ. ``tau`` (ms), ``E`` (mV).

    Two linear states, dx/dt = −x/τ and dy/dt = −y/τ + (e/τ)·x, a spike adding 1 to x;
    k = y. Over a step both advance exactly: x ← e^{−Δt/τ}x, y ← e^{−Δt/τ}(y + (eΔt/τ)x).
    """

    n_components: ClassVar[int] = 2

    tau: Float[Array, "..."] = eqx.field(converter=jnp.asarray)
    E: Float[Array, "..."] = eqx.field(converter=jnp.asarray)

    def __check_init__(self):
        check_positive("AlphaReceptor.tau (time to peak)", self.tau, "ms")
        check_finite("AlphaReceptor.E (reversal potential)", self.E, "mV")

    def decay(self, state, dt):
        x, y = state[..., 0], state[..., 1]
        factor = jnp.exp(-dt / self.tau)
        return jnp.stack([factor * x, factor * (y + jnp.e * dt / self.tau * x)], axis=-1)

    def kick(self, lag):
        factor = jnp.exp(-lag / self.tau)
        return jnp.stack([factor, jnp.e * lag / self.tau * factor], axis=-1)

    def open(self, state):
        return state[..., 1]


class NMDAReceptor(AbstractReceptor):
    r"""k(s) = N·(e^{−s/τ_decay} − e^{−s/τ_rise}) with N normalising the peak to 1 (at
    s* = τ_r τ_d ln(τ_d/τ_r)/(τ_d − τ_r)), blocked by Mg²⁺ as in `mg_block`.
    ``tau_rise``, ``tau_decay`` (ms), ``E`` (mV), ``Mg`` (mM). Jahr & Stevens (1990).

    >>> r = NMDAReceptor()
    >>> [round(float(x), 4) for x in r.block(jnp.array([-80.0, -40.0]))]
    [0.0244, 0.2302]
    """

    n_components: ClassVar[int] = 2

    tau_rise: Float[Array, "..."] = eqx.field(converter=jnp.asarray, default=2.0)
    tau_decay: Float[Array, "..."] = eqx.field(converter=jnp.asarray, default=100.0)
    E: Float[Array, "..."] = eqx.field(converter=jnp.asarray, default=0.0)
    Mg: Float[Array, "..."] = eqx.field(converter=jnp.asarray, default=1.0)

    def __check_init__(self):
        check_positive("NMDAReceptor.tau_rise (rise time constant)", self.tau_rise, "ms")
        check_positive("NMDAReceptor.tau_decay (decay time constant)", self.tau_decay, "ms")
        check_finite("NMDAReceptor.E (reversal potential)", self.E, "mV")
        check_nonnegative("NMDAReceptor.Mg (extracellular magnesium)", self.Mg, "mM")
        if is_concrete(self.tau_rise) and is_concrete(self.tau_decay):
            if jnp.any(self.tau_rise >= self.tau_decay):
                raise ValueError(
                    f"NMDAReceptor: tau_rise ({self.tau_rise} ms) must be shorter than "
                    f"tau_decay ({self.tau_decay} ms)"
                )

    def _taus(self):
        tau_d, tau_r = jnp.broadcast_arrays(self.tau_decay, self.tau_rise)
        return jnp.stack([tau_d, tau_r], axis=-1)

    def decay(self, state, dt):
        return state * jnp.exp(-dt / self._taus())

    def kick(self, lag):
        return jnp.exp(-jnp.asarray(lag)[..., None] / self._taus())

    def open(self, state):
        tau_r, tau_d = self.tau_rise, self.tau_decay
        t_peak = tau_r * tau_d * jnp.log(tau_d / tau_r) / (tau_d - tau_r)
        norm = 1.0 / (jnp.exp(-t_peak / tau_d) - jnp.exp(-t_peak / tau_r))
        return norm * (state[..., 0] - state[..., 1])

    def block(self, V):
        return mg_block(V, self.Mg)


class GradedRelease(eqx.Module):
    r"""Graded transmitter release (Abbott & Marder 1998; Prinz, Bucher & Marder 2004):
    the synaptic activation s of a presynaptic cell follows its potential V_pre,

        ds/dt = (s∞(V_pre) − s) / τs,   s∞ = 1 / (1 + exp((V_th − V_pre)/Δ)),
        τs = (1 − s∞) / k₋,

    and a synapse of strength g conducts g·s. ``V_th``, ``Delta`` (mV), ``k_minus``
    (1/ms); scalars or arrays. τs → 0 as s∞ → 1 (a stiff limit): the rate is written
    1/τs = k₋ (1 + e^{(V_pre − V_th)/Δ}), with no division, and `increment` advances s
    exactly for frozen V_pre, so s stays in [0, 1].

    >>> r = GradedRelease(V_th=-35.0, Delta=5.0, k_minus=1 / 40)
    >>> float(r.steady_state(-35.0))
    0.5
    """

    V_th: Float[Array, "..."] = eqx.field(converter=jnp.asarray, default=-35.0)
    Delta: Float[Array, "..."] = eqx.field(converter=jnp.asarray, default=5.0)
    k_minus: Float[Array, "..."] = eqx.field(converter=jnp.asarray, default=1.0 / 40.0)

    def __check_init__(self):
        check_finite("synapse threshold V_th", self.V_th, "mV")
        check_positive("synapse slope Delta", self.Delta, "mV")
        check_positive("synapse rate k_minus", self.k_minus, "1/ms")

    def _steady_state_and_rate(self, V_pre):
        """s∞ and 1/τs from one exponential, e = exp((V_pre − V_th)/Δ): s∞ = e/(1 + e),
        written 1/(1 + 1/e) where e > 1 (finite values and gradients as e grows or
        vanishes), and 1/τs = k₋ (1 + e)."""
        e = jnp.exp((V_pre - self.V_th) / self.Delta)
        above = e > 1.0
        e_above, e_below = jnp.where(above, e, 1.0), jnp.where(above, 1.0, e)
        s_inf = jnp.where(above, 1.0 / (1.0 + 1.0 / e_above), e_below / (1.0 + e_below))
        return s_inf, self.k_minus * (1.0 + e)

    def steady_state(self, V_pre):
        """s∞(V_pre) = 1 / (1 + exp((V_th − V_pre)/Δ))."""
        return self._steady_state_and_rate(V_pre)[0]

    def rate(self, V_pre):
        """1/τs = k₋ / (1 − s∞) = k₋ (1 + exp((V_pre − V_th)/Δ)), in 1/ms."""
        return self._steady_state_and_rate(V_pre)[1]

    def derivative(self, V_pre, s):
        """ds/dt."""
        s_inf, rate = self._steady_state_and_rate(V_pre)
        return (s_inf - s) * rate

    def increment(self, V_pre, s, dt):
        """The exact change of s over ``dt`` ms with V_pre frozen: (s∞ − s)(1 − e^{−Δt/τs})."""
        s_inf, rate = self._steady_state_and_rate(V_pre)
        return relax(s, s_inf, dt * rate)
