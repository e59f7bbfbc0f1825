r"""The integrate-and-fire family: LIF, AdEx and Izhikevich, with resets as events.

Each model is an equinox module whose parameters are array leaves. Between spikes it is an
ODE (``vector_field``); a spike is the upward crossing of ``threshold`` by the first state
V, after which ``reset`` maps the state and, for the LIF, V is held for ``refractory`` ms.
`jaxneuron.simulate_spiking` integrates them, either with exact events
(diffrax root finding) or with a fixed step (``fixed_step``).

=========== ============================================ ==================== ===========
model       between spikes                               at V ≥ threshold     units
=========== ============================================ ==================== ===========
LIF         τ dV/dt = −(V − E_L) + R·I                   V → V_reset, hold    mV, ms, MΩ,
                                                         t_ref                nA
AdEx        C dV/dt = −g_L(V − E_L)                      V → V_r, w → w + b   pF, nS, mV,
            + g_L Δ_T exp((V − V_T)/Δ_T) − w + I                              ms, pA
            τ_w dw/dt = a(V − E_L) − w
Izhikevich  dv/dt = 0.04v² + 5v + 140 − u + I            v → c, u → u + d     "mV", ms
            du/dt = a(b v − u)                           (at v ≥ 30)
=========== ============================================ ==================== ===========

References: Lapicque (1907) / Gerstner & Kistler, *Spiking Neuron Models* (2002) for the
LIF; Brette & Gerstner (2005), J Neurophysiol 94:3637 for the AdEx and Naud, Marcille,
Clopath & Gerstner (2008), Biol Cybern 99:335 for its firing patterns; Izhikevich (2003),
IEEE Trans Neural Netw 14:1569.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._numerics import advance, membrane_increment, relax
from .._protocols import AbstractSpikingModel, as_state_vector
from .._validation import check_finite, check_nonnegative, check_positive, is_concrete
from ..stimuli import AbstractStimulus, as_stimulus
from ._config import config

Scalar = Float[Array, ""]
State = Float[Array, " n_states"]

# The AdEx exponential overflows float32 past exp(88); beyond the spike cut-off its value
# never matters (the solve stops at V_peak), so the exponent is capped well below that.
_MAX_EXPONENT = 40.0


def _check_below(lower_name: str, lower, upper_name: str, upper, unit: str) -> None:
    """Raise if ``lower`` is not strictly below ``upper`` (both concrete)."""
    if not (is_concrete(lower) and is_concrete(upper)):
        return
    lo, up = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if np.any(lo >= up):
        raise ValueError(
            f"{lower_name} must be below {upper_name}: got {lower_name} = {lower!r} {unit} "
            f"and {upper_name} = {upper!r} {unit}"
        )


class IntegrateAndFire(AbstractSpikingModel):
    """The integrate-and-fire family (`LIF`, `AdEx`, `Izhikevich`): a spiking model
    (`jaxneuron.AbstractSpikingModel`) whose parameters are the scalar array fields.

    A concrete model sets ``state_names`` (V first) and implements ``vector_field``,
    ``fixed_step``, ``reset``, ``initial_state``, ``threshold``, ``refractory`` and
    ``event_threshold``.
    """

    stiff: ClassVar[bool] = False
    #: the model's current unit per pA, for synaptic currents g (nS)·(V − E) (mV) = pA:
    #: 1e-3 for nA, 1 for pA, None for a dimensionless model (the `Izhikevich`)
    current_per_pA: ClassVar[float | None] = None

    def parameters(self) -> dict[str, Array]:
        """Every array field by its name (mV, ms, … as documented by the model)."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if eqx.is_inexact_array(getattr(self, f.name))
        }

    def stimuli(self) -> tuple[AbstractStimulus, ...]:
        return (self.stimulus,)

    @property
    def num_states(self) -> int:
        return len(self.state_names)


# ---- LIF -----------------------------------------------------------------------------


class LIF(IntegrateAndFire):
    r"""Leaky integrate-and-fire neuron with an absolute refractory period.

        τ dV/dt = −(V − E_L) + R·I(t)        for V < V_th
        V ≥ V_th  ⇒  spike; V → V_reset, held there for t_ref

    Units: V, E_L, V_th, V_reset, V0 in mV; τ and t_ref in ms; R in MΩ and the stimulus
    I(t) in nA, so that R·I is in mV (1 MΩ · 1 nA = 1 mV). Under a constant current with
    R·I > V_th − E_L the interspike interval is

        T = t_ref + τ ln[(R·I + E_L − V_reset) / (R·I + E_L − V_th)],

    which is τ ln[R·I / (R·I − (V_th − E_L))] + t_ref when V_reset = E_L.

    **Example:**

    >>> neuron = LIF(tau=10.0, R=10.0, E_L=-65.0, V_th=-50.0, V_reset=-65.0, t_ref=2.0,
    ...              V0=-65.0, stimulus=2.0)
    >>> round(float(neuron.vector_field(0.0, neuron.initial_state())[0]), 6)   # mV/ms
    2.0
    """

    state_names: ClassVar[tuple[str, ...]] = ("V",)
    current_per_pA: ClassVar[float | None] = 1e-3  # nA

    tau: Scalar = eqx.field(converter=jnp.asarray)
    R: Scalar = eqx.field(converter=jnp.asarray)
    E_L: Scalar = eqx.field(converter=jnp.asarray)
    V_th: Scalar = eqx.field(converter=jnp.asarray)
    V_reset: Scalar = eqx.field(converter=jnp.asarray)
    t_ref: Scalar = eqx.field(converter=jnp.asarray)
    V0: Scalar = eqx.field(converter=jnp.asarray)
    stimulus: AbstractStimulus = eqx.field(converter=as_stimulus)
    name: str = eqx.field(static=True, default="neuron")

    def __check_init__(self):
        n = self.name
        check_positive(f"{n}: tau (membrane time constant)", self.tau, "ms")
        check_positive(f"{n}: R (membrane resistance)", self.R, "MΩ")
        check_finite(f"{n}: E_L (resting potential)", self.E_L, "mV")
        check_nonnegative(f"{n}: t_ref (refractory period)", self.t_ref, "ms")
        _check_below(f"{n}: V_reset", self.V_reset, "V_th (threshold)", self.V_th, "mV")
        _check_below(f"{n}: V0 (initial potential)", self.V0, "V_th (threshold)", self.V_th, "mV")

    @property
    def threshold(self):
        return self.V_th

    @property
    def refractory(self):
        return self.t_ref

    def event_threshold(self, dtype):
        return self.V_th

    def initial_state(self):
        return jnp.stack([self.V0])

    def vector_field(self, t, y, args=None):
        V = y[0]
        return jnp.stack([(self.E_L - V + self.R * self.stimulus(t)) / self.tau]).astype(y.dtype)

    def reset(self, y):
        return (jnp.broadcast_to(self.V_reset, y[0].shape).astype(y[0].dtype),)

    def fixed_step(self, t, y, dt, compensation=None):
        """Exact for a current held at I(t) over the step (exponential Euler):
        V ← V + (V∞ − V)(1 − e^{−Δt/τ}) with V∞ = E_L + R·I(t)."""
        V_inf = self.E_L + self.R * self.stimulus(t)
        (c,) = (None,) if compensation is None else compensation
        V, c = advance(y[0], relax(y[0], V_inf, dt / self.tau), c)
        return (V,), None if compensation is None else (c,)


@config
class LIFConfig:
    """Parameters of the leaky integrate-and-fire neuron.

    ``tau`` and ``t_ref`` in ms; ``R`` in MΩ (the stimulus is in nA, R·I in mV);
    ``E_L``, ``V_th``, ``V_reset``, ``V0`` in mV. ``V0=None`` starts at ``E_L``.

    >>> LIFConfig(tau=20.0).V_th
    -50.0
    """

    tau: float = 10.0
    R: float = 10.0
    E_L: float = -65.0
    V_th: float = -50.0
    V_reset: float = -65.0
    t_ref: float = 2.0
    V0: float | None = None

    def __post_init__(self):
        check_positive("LIFConfig.tau", self.tau, "ms")
        check_positive("LIFConfig.R", self.R, "MΩ")
        check_nonnegative("LIFConfig.t_ref", self.t_ref, "ms")
        for field in ("E_L", "V_th", "V_reset"):
            check_finite(f"LIFConfig.{field}", getattr(self, field), "mV")
        _check_below("LIFConfig.V_reset", self.V_reset, "V_th", self.V_th, "mV")
        if self.V0 is not None:
            check_finite("LIFConfig.V0", self.V0, "mV")
            _check_below("LIFConfig.V0", self.V0, "V_th", self.V_th, "mV")


def build_LIF(stimulus=None, *, name: str = "neuron", config: LIFConfig | None = None) -> LIF:
    """Build a leaky integrate-and-fire neuron.

    **Arguments:**

    - ``stimulus``: injected current in **nA** (R is in MΩ, so R·I is in mV) — an
      `AbstractStimulus`, a number, a function of t (ms), or None for no current.
    - ``name``: label used in messages.
    - ``config``: a `LIFConfig` (default τ = 10 ms, R = 10 MΩ, E_L = V_reset = −65 mV,
      V_th = −50 mV, t_ref = 2 ms).

    >>> from jaxneuron import simulate_spiking
    >>> sol = simulate_spiking(build_LIF(2.0), 100.0, max_spikes=20)
    >>> int(sol.spike_count), round(float(sol.spike_times[0]), 4)   # 10 ln 4 ms
    (6, 13.8629)
    """
    cfg = LIFConfig() if config is None else config
    if not isinstance(cfg, LIFConfig):
        raise TypeError(f"config must be a LIFConfig, got {type(cfg).__name__}")
    return LIF(
        tau=cfg.tau,
        R=cfg.R,
        E_L=cfg.E_L,
        V_th=cfg.V_th,
        V_reset=cfg.V_reset,
        t_ref=cfg.t_ref,
        V0=cfg.E_L if cfg.V0 is None else cfg.V0,
        stimulus=as_stimulus(stimulus),
        name=name,
    )


# ---- AdEx ----------------------------------------------------------------------------


class AdEx(IntegrateAndFire):
    r"""Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005).

        C dV/dt  = −g_L (V − E_L) + g_L Δ_T exp((V − V_T)/Δ_T) − w + I(t)
        τ_w dw/dt = a (V − E_L) − w
        V ≥ V_peak  ⇒  spike; V → V_r, w → w + b

    Units (Brette & Gerstner's): C in pF; g_L and a in nS; E_L, V_T, Δ_T, V_r, V_peak, V0
    in mV; τ_w in ms; w, b and the stimulus I(t) in pA (nS · mV = pA, pA/pF = mV/ms).
    The exponent is capped at 40 (far above any V below V_peak) so that float32 never
    overflows in a trial step.

    **float32.** V diverges in finite time: from V_T + kΔ_T the rest of the upstroke lasts
    about (C/g_L) e^{−k}, which for k > 10 is below float32's resolution of t at
    hundreds of ms. In float32 the event path therefore locates the crossing of
    min(V_peak, V_T + 10 Δ_T) instead, which fires earlier by at most ≈ (C/g_L) e^{−10}
    (< 1 µs for the presets) — the divergence time, to float32 resolution. float64
    locates V_peak itself.

    >>> neuron = build_AdEx(500.0, config=AdExConfig.preset("tonic"))
    >>> neuron.state_names
    ('V', 'w')
    """

    state_names: ClassVar[tuple[str, ...]] = ("V", "w")
    current_per_pA: ClassVar[float | None] = 1.0  # pA

    C: Scalar = eqx.field(converter=jnp.asarray)
    g_L: Scalar = eqx.field(converter=jnp.asarray)
    E_L: Scalar = eqx.field(converter=jnp.asarray)
    V_T: Scalar = eqx.field(converter=jnp.asarray)
    Delta_T: Scalar = eqx.field(converter=jnp.asarray)
    a: Scalar = eqx.field(converter=jnp.asarray)
    tau_w: Scalar = eqx.field(converter=jnp.asarray)
    b: Scalar = eqx.field(converter=jnp.asarray)
    V_r: Scalar = eqx.field(converter=jnp.asarray)
    V_peak: Scalar = eqx.field(converter=jnp.asarray)
    V0: Scalar = eqx.field(converter=jnp.asarray)
    w0: Scalar = eqx.field(converter=jnp.asarray)
    stimulus: AbstractStimulus = eqx.field(converter=as_stimulus)
    name: str = eqx.field(static=True, default="neuron")

    def __check_init__(self):
        n = self.name
        check_positive(f"{n}: C (membrane capacitance)", self.C, "pF")
        check_positive(f"{n}: g_L (leak conductance)", self.g_L, "nS")
        check_positive(f"{n}: Delta_T (slope factor)", self.Delta_T, "mV")
        check_positive(f"{n}: tau_w (adaptation time constant)", self.tau_w, "ms")
        check_finite(f"{n}: a (subthreshold adaptation)", self.a, "nS")
        check_finite(f"{n}: b (spike-triggered adaptation)", self.b, "pA")
        check_finite(f"{n}: E_L (resting potential)", self.E_L, "mV")
        check_finite(f"{n}: w0 (initial adaptation current)", self.w0, "pA")
        _check_below(f"{n}: V_r (reset)", self.V_r, "V_peak (spike cut-off)", self.V_peak, "mV")
        _check_below(f"{n}: V_T (threshold)", self.V_T, "V_peak (spike cut-off)", self.V_peak, "mV")
        _check_below(f"{n}: V0 (initial potential)", self.V0, "V_peak", self.V_peak, "mV")

    @property
    def threshold(self):
        return self.V_peak

    @property
    def refractory(self):
        return None

    def event_threshold(self, dtype):
        if jnp.finfo(dtype).bits >= 64:
            return self.V_peak
        return jnp.minimum(self.V_peak, self.V_T + 10.0 * self.Delta_T)

    def initial_state(self):
        return jnp.stack([self.V0, jnp.broadcast_to(self.w0, self.V0.shape)])

    def _dV(self, t, V, w):
        exponent = jnp.minimum((V - self.V_T) / self.Delta_T, _MAX_EXPONENT)
        spike = self.g_L * self.Delta_T * jnp.exp(exponent)
        return (-self.g_L * (V - self.E_L) + spike - w + self.stimulus(t)) / self.C

    def vector_field(self, t, y, args=None):
        V, w = y[0], y[1]
        dw = (self.a * (V - self.E_L) - w) / self.tau_w
        return jnp.stack([self._dV(t, V, w), dw]).astype(y.dtype)

    def reset(self, y):
        V_r = jnp.broadcast_to(self.V_r, y[0].shape).astype(y[0].dtype)
        return V_r, (y[1] + self.b).astype(y[1].dtype)

    def fixed_step(self, t, y, dt, compensation=None):
        """Exponential Euler: w exactly for frozen V, then V with the leak exact and the
        exponential, w and I frozen: V ← V + Δt·(dV/dt)·(1 − e^{−z})/z, z = Δt g_L/C."""
        V, w = y
        c_V, c_w = (None, None) if compensation is None else compensation
        w_new, c_w = advance(w, relax(w, self.a * (V - self.E_L), dt / self.tau_w), c_w)
        dV = membrane_increment(self._dV(t, V, w_new), self.g_L / self.C, dt)
        V_new, c_V = advance(V, dV, c_V)
        return (V_new, w_new), None if compensation is None else (c_V, c_w)


#: Firing patterns of the AdEx neuron: Naud, Marcille, Clopath & Gerstner (2008), Biol
#: Cybern 99:335, Table 1: C (pF), g_L (nS), E_L (mV), V_T (mV), Δ_T (mV), a (nS), τ_w (ms),
#: b (pA), V_r (mV) and the step current I (pA) that shows the pattern. The spike cut-off
#: V_peak is 0 mV for all of them.
NAUD_2008 = {
    "tonic": dict(C=200, g_L=10, E_L=-70, V_T=-50, Delta_T=2, a=2, tau_w=30, b=0, V_r=-58, I=500),
    "adapting": dict(
        C=200, g_L=12, E_L=-70, V_T=-50, Delta_T=2, a=2, tau_w=300, b=60, V_r=-58, I=500
    ),
    "initial burst": dict(
        C=130, g_L=18, E_L=-58, V_T=-50, Delta_T=2, a=4, tau_w=150, b=120, V_r=-50, I=400
    ),
    "regular bursting": dict(
        C=200, g_L=10, E_L=-58, V_T=-50, Delta_T=2, a=2, tau_w=120, b=100, V_r=-46, I=210
    ),
    "delayed accelerating": dict(
        C=200, g_L=12, E_L=-70, V_T=-50, Delta_T=2, a=-10, tau_w=300, b=0, V_r=-58, I=300
    ),
    "transient": dict(
        C=100, g_L=10, E_L=-65, V_T=-50, Delta_T=2, a=10, tau_w=90, b=100, V_r=-47, I=180
    ),
}


@config
class AdExConfig:
    """Parameters of the AdEx neuron (Brette & Gerstner 2005 units).

    ``C`` in pF; ``g_L``, ``a`` in nS; ``E_L``, ``V_T``, ``Delta_T``, ``V_r``, ``V_peak``,
    ``V0`` in mV; ``tau_w`` in ms; ``b``, ``w0`` in pA. ``V0=None`` starts at ``E_L``.
    The defaults are Brette & Gerstner's (2005) cortical pyramidal cell;
    `AdExConfig.preset` gives the firing patterns of Naud et al. (2008), Table 1.

    >>> AdExConfig.preset("adapting").tau_w
    300.0
    """

    C: float = 281.0
    g_L: float = 30.0
    E_L: float = -70.6
    V_T: float = -50.4
    Delta_T: float = 2.0
    a: float = 4.0
    tau_w: float = 144.0
    b: float = 80.5
    V_r: float = -70.6
    V_peak: float = 0.0
    V0: float | None = None
    w0: float = 0.0

    def __post_init__(self):
        check_positive("AdExConfig.C", self.C, "pF")
        check_positive("AdExConfig.g_L", self.g_L, "nS")
        check_positive("AdExConfig.Delta_T", self.Delta_T, "mV")
        check_positive("AdExConfig.tau_w", self.tau_w, "ms")
        check_finite("AdExConfig.a", self.a, "nS")
        check_finite("AdExConfig.b", self.b, "pA")
        check_finite("AdExConfig.w0", self.w0, "pA")
        for field in ("E_L", "V_T", "V_r", "V_peak"):
            check_finite(f"AdExConfig.{field}", getattr(self, field), "mV")
        _check_below("AdExConfig.V_r", self.V_r, "V_peak", self.V_peak, "mV")
        _check_below("AdExConfig.V_T", self.V_T, "V_peak", self.V_peak, "mV")
        if self.V0 is not None:
            _check_below("AdExConfig.V0", self.V0, "V_peak", self.V_peak, "mV")

    @classmethod
    def preset(cls, pattern: str, **overrides) -> AdExConfig:
        """The parameters of one of Naud et al.'s (2008) firing patterns (``"tonic"``,
        ``"adapting"``, ``"initial burst"``, ``"regular bursting"``, ``"delayed
        accelerating"``, ``"transient"``); the pattern's current is `NAUD_2008[pattern]["I"]`
        (pA)."""
        if pattern not in NAUD_2008:
            raise KeyError(f"no AdEx preset {pattern!r}; presets: {sorted(NAUD_2008)}")
        params = {k: float(v) for k, v in NAUD_2008[pattern].items() if k != "I"}
        params.update(overrides)
        return cls(**params)


def build_AdEx(stimulus=None, *, name: str = "neuron", config: AdExConfig | None = None) -> AdEx:
    """Build an adaptive exponential integrate-and-fire neuron.

    **Arguments:**

    - ``stimulus``: injected current in **pA** — an `AbstractStimulus`, a number, a
      function of t (ms), or None.
    - ``name``: label used in messages.
    - ``config``: an `AdExConfig` (default: Brette & Gerstner 2005).

    >>> from jaxneuron import simulate_spiking
    >>> pattern = NAUD_2008["adapting"]
    >>> sol = simulate_spiking(build_AdEx(pattern["I"], config=AdExConfig.preset("adapting")),
    ...                        300.0, max_spikes=50)
    >>> isi = jnp.diff(sol.spike_times[: int(sol.spike_count)])
    >>> bool(isi[-1] > 2 * isi[0])      # spike-frequency adaptation
    True
    """
    cfg = AdExConfig() if config is None else config
    if not isinstance(cfg, AdExConfig):
        raise TypeError(f"config must be an AdExConfig, got {type(cfg).__name__}")
    return AdEx(
        C=cfg.C,
        g_L=cfg.g_L,
        E_L=cfg.E_L,
        V_T=cfg.V_T,
        Delta_T=cfg.Delta_T,
        a=cfg.a,
        tau_w=cfg.tau_w,
        b=cfg.b,
        V_r=cfg.V_r,
        V_peak=cfg.V_peak,
        V0=cfg.E_L if cfg.V0 is None else cfg.V0,
        w0=cfg.w0,
        stimulus=as_stimulus(stimulus),
        name=name,
    )


# ---- Izhikevich ----------------------------------------------------------------------


class Izhikevich(IntegrateAndFire):
    r"""Izhikevich's (2003) simple model.

        dv/dt = 0.04 v² + 5 v + 140 − u + I(t)
        du/dt = a (b v − u)
        v ≥ v_peak (30)  ⇒  spike; v → c, u → u + d

    In the paper's convention v is in mV and t in ms, and u and I are in mV/ms (the
    model is dimensionless: I = 10 is the paper's usual tonic input). a is in 1/ms, b
    dimensionless, c in mV, d in mV/ms. The state is named ``("V", "u")``.

    >>> neuron = build_Izhikevich(10.0, config=IzhikevichConfig.preset("RS"))
    >>> [round(float(x), 3) for x in neuron.initial_state()]    # v0 = −65, u0 = b·v0
    [-65.0, -13.0]
    """

    state_names: ClassVar[tuple[str, ...]] = ("V", "u")

    a: Scalar = eqx.field(converter=jnp.asarray)
    b: Scalar = eqx.field(converter=jnp.asarray)
    c: Scalar = eqx.field(converter=jnp.asarray)
    d: Scalar = eqx.field(converter=jnp.asarray)
    v_peak: Scalar = eqx.field(converter=jnp.asarray)
    V0: Scalar = eqx.field(converter=jnp.asarray)
    u0: Scalar = eqx.field(converter=jnp.asarray)
    stimulus: AbstractStimulus = eqx.field(converter=as_stimulus)
    name: str = eqx.field(static=True, default="neuron")

    def __check_init__(self):
        n = self.name
        check_positive(f"{n}: a (recovery rate)", self.a, "1/ms")
        check_finite(f"{n}: b (recovery sensitivity)", self.b, "")
        check_finite(f"{n}: d (recovery reset increment)", self.d, "mV/ms")
        check_finite(f"{n}: u0 (initial recovery)", self.u0, "mV/ms")
        _check_below(f"{n}: c (reset)", self.c, "v_peak (spike cut-off)", self.v_peak, "mV")
        _check_below(f"{n}: V0 (initial potential)", self.V0, "v_peak", self.v_peak, "mV")

    @property
    def threshold(self):
        return self.v_peak

    @property
    def refractory(self):
        return None

    def event_threshold(self, dtype):
        return self.v_peak

    def initial_state(self):
        return jnp.stack([self.V0, jnp.broadcast_to(self.u0, self.V0.shape)])

    def vector_field(self, t, y, args=None):
        v, u = y[0], y[1]
        dv = 0.04 * v**2 + 5.0 * v + 140.0 - u + self.stimulus(t)
        return jnp.stack([dv, self.a * (self.b * v - u)]).astype(y.dtype)

    def reset(self, y):
        c = jnp.broadcast_to(self.c, y[0].shape).astype(y[0].dtype)
        return c, (y[1] + self.d).astype(y[1].dtype)

    def fixed_step(self, t, y, dt, compensation=None):
        """Forward Euler, as in Izhikevich (2003) (there with Δt = 0.5–1 ms; use ≤ 0.1)."""
        field = self.vector_field(t, as_state_vector(y))
        c = (None, None) if compensation is None else compensation
        pairs = [advance(x, dt * field[i], c[i]) for i, x in enumerate(y)]
        y_next = tuple(p[0] for p in pairs)
        return y_next, None if compensation is None else tuple(p[1] for p in pairs)


#: Cell types of Izhikevich (2003), Fig. 2: regular spiking, intrinsically bursting,
#: chattering, fast spiking and low-threshold spiking (a in 1/ms, b, c in mV, d in mV/ms).
IZHIKEVICH_2003 = {
    "RS": dict(a=0.02, b=0.2, c=-65.0, d=8.0),
    "IB": dict(a=0.02, b=0.2, c=-55.0, d=4.0),
    "CH": dict(a=0.02, b=0.2, c=-50.0, d=2.0),
    "FS": dict(a=0.1, b=0.2, c=-65.0, d=2.0),
    "LTS": dict(a=0.02, b=0.25, c=-65.0, d=2.0),
}


@config
class IzhikevichConfig:
    """Parameters of Izhikevich's (2003) model: ``a`` (1/ms), ``b``, ``c`` (mV), ``d``
    (mV/ms), ``v_peak`` and ``V0`` (mV), ``u0`` (mV/ms; None → b·V0). Defaults: regular
    spiking. `IzhikevichConfig.preset` gives the paper's cell classes.

    >>> IzhikevichConfig.preset("CH").c
    -50.0
    """

    a: float = 0.02
    b: float = 0.2
    c: float = -65.0
    d: float = 8.0
    v_peak: float = 30.0
    V0: float = -65.0
    u0: float | None = None

    def __post_init__(self):
        check_positive("IzhikevichConfig.a", self.a, "1/ms")
        check_finite("IzhikevichConfig.b", self.b, "")
        check_finite("IzhikevichConfig.d", self.d, "mV/ms")
        _check_below("IzhikevichConfig.c", self.c, "v_peak", self.v_peak, "mV")
        _check_below("IzhikevichConfig.V0", self.V0, "v_peak", self.v_peak, "mV")

    @classmethod
    def preset(cls, cell: str, **overrides) -> IzhikevichConfig:
        """``"RS"``, ``"IB"``, ``"CH"``, ``"FS"`` or ``"LTS"`` (Izhikevich 2003, Fig. 2)."""
        if cell not in IZHIKEVICH_2003:
            raise KeyError(f"no Izhikevich preset {cell!r}; presets: {sorted(IZHIKEVICH_2003)}")
        return cls(**{**IZHIKEVICH_2003[cell], **overrides})


def build_Izhikevich(
    stimulus=None, *, name: str = "neuron", config: IzhikevichConfig | None = None
) -> Izhikevich:
    """Build an Izhikevich (2003) neuron.

    **Arguments:**

    - ``stimulus``: injected current in the model's units (mV/ms; 10 is the paper's
      tonic input) — an `AbstractStimulus`, a number, a function of t (ms), or None.
    - ``name``: label used in messages.
    - ``config``: an `IzhikevichConfig` (default: regular spiking).

    >>> from jaxneuron import simulate_spiking
    >>> sol = simulate_spiking(build_Izhikevich(10.0), 200.0, max_spikes=50)
    >>> int(sol.spike_count) > 3
    True
    """
    cfg = IzhikevichConfig() if config is None else config
    if not isinstance(cfg, IzhikevichConfig):
        raise TypeError(f"config must be an IzhikevichConfig, got {type(cfg).__name__}")
    return Izhikevich(
        a=cfg.a,
        b=cfg.b,
        c=cfg.c,
        d=cfg.d,
        v_peak=cfg.v_peak,
        V0=cfg.V0,
        u0=cfg.b * cfg.V0 if cfg.u0 is None else cfg.u0,
        stimulus=as_stimulus(stimulus),
        name=name,
    )
