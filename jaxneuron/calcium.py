r"""Intracellular calcium: a first-order pool and the Nernst potential.

    τCa d[Ca]/dt = −f · I_Ca − [Ca] + [Ca]rest                (Liu et al. 1998; Prinz et al. 2003)
    E_Ca = (RT/2F) · ln([Ca]out / [Ca])

with [Ca] in µM, τCa in ms, I_Ca the calcium current density in µA/cm² (negative:
inward) and f in µM per µA/cm². The papers give f per whole-cell current (Prinz:
14.96 µM/nA) or per current over capacitance (Liu: 0.94 µM per nA/nF); the builders
convert these explicitly (`prinz_influx_factor`, `liu_influx_factor`).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._numerics import relax
from ._validation import check_finite, check_nonnegative, check_positive
from .units import Geometry

Scalar = Float[Array, ""]

#: RT/2F in mV used by default: its value at 10.0 °C (`nernst_factor_mv`). Published
#: implementations of the Prinz/Liu models use 12.19–12.25 mV (xolotl: 0.0431·(T + 273.15)).
NERNST_FACTOR_MV = 12.2

#: The molar gas constant (J/(mol·K)), CODATA 2018.
GAS_CONSTANT = 8.314462618
#: The Faraday constant (C/mol), CODATA 2018.
FARADAY = 96485.33212


def nernst_factor_mv(celsius: float) -> float:
    """RT/2F in mV for a divalent ion (calcium) at ``celsius`` °C.

    >>> round(nernst_factor_mv(10.0), 3), round(nernst_factor_mv(11.0), 3)
    (12.2, 12.243)
    """
    kelvin = float(celsius) + 273.15
    if not kelvin > 0:
        raise ValueError(f"temperature must be above absolute zero, got {celsius} °C")
    return 1000.0 * GAS_CONSTANT * kelvin / (2.0 * FARADAY)


#: [Ca] floor (µM) inside the logarithm of the Nernst potential, so that a trial step of
#: an adaptive solver that undershoots zero gives a finite (huge) E_Ca instead of NaN.
_CA_FLOOR_UM = 1e-9


class CalciumPool(eqx.Module):
    """A single, well-mixed calcium pool with first-order removal.

    **Fields** (all leaves): ``tau`` (ms), ``Ca_rest`` (µM), ``influx_factor`` f (µM per
    µA/cm² of calcium current density), ``Ca_out`` (µM), ``nernst_factor`` RT/2F (mV).

    >>> pool = CalciumPool(tau=200.0, influx_factor=9.39488, Ca_rest=0.05)
    >>> round(float(pool.reversal(0.05)), 3)    # 12.2 mV · ln(3000 / 0.05)
    134.22
    """

    tau: Scalar = eqx.field(converter=jnp.asarray)
    influx_factor: Scalar = eqx.field(converter=jnp.asarray)
    Ca_rest: Scalar = eqx.field(converter=jnp.asarray, default=0.05)
    Ca_out: Scalar = eqx.field(converter=jnp.asarray, default=3000.0)
    nernst_factor: Scalar = eqx.field(converter=jnp.asarray, default=NERNST_FACTOR_MV)

    def __check_init__(self):
        check_positive("CalciumPool.tau", self.tau, "ms")
        check_nonnegative("CalciumPool.influx_factor", self.influx_factor, "µM per µA/cm²")
        check_positive("CalciumPool.Ca_rest", self.Ca_rest, "µM")
        check_positive("CalciumPool.Ca_out", self.Ca_out, "µM")
        check_finite("CalciumPool.nernst_factor", self.nernst_factor, "mV")

    def reversal(self, Ca) -> Scalar:
        """E_Ca = (RT/2F) ln([Ca]out / [Ca]) in mV."""
        return self.nernst_factor * jnp.log(self.Ca_out / jnp.maximum(Ca, _CA_FLOOR_UM))

    def steady_state(self, I_Ca) -> Scalar:
        """[Ca]∞ = [Ca]rest − f · I_Ca (µM) for a calcium current density I_Ca (µA/cm²)."""
        return self.Ca_rest - self.influx_factor * I_Ca

    def derivative(self, Ca, I_Ca) -> Scalar:
        """d[Ca]/dt = ([Ca]∞ − [Ca]) / τCa in µM/ms."""
        return (self.steady_state(I_Ca) - Ca) / self.tau

    def increment(self, Ca, I_Ca, dt) -> Scalar:
        """The exact change of [Ca] (µM) over ``dt`` ms with I_Ca frozen:
        ([Ca]∞ − [Ca])(1 − e^{−Δt/τCa}); [Ca] stays positive whenever [Ca]∞ > 0."""
        return relax(Ca, self.steady_state(I_Ca), dt / self.tau)


def prinz_influx_factor(f_uM_per_nA: float = 14.96, geometry: Geometry | None = None):
    """Prinz et al. (2003): f is per whole-cell current, 14.96 µM/nA. Per current density,
    f · A · 10³ (A in cm²): 9.395 µM per µA/cm² for the paper's A = 0.628·10⁻³ cm²."""
    from .units import PRINZ_AREA_CM2

    geometry = Geometry(area_cm2=PRINZ_AREA_CM2) if geometry is None else geometry
    return f_uM_per_nA * geometry.whole_cell_current(1.0)


def liu_influx_factor(f_uM_per_nA_per_nF: float = 0.94, C_uF_per_cm2=1.0):
    """Liu et al. (1998): f is per current over capacitance, 0.94 µM per nA/nF. A density
    i in µA/cm² over C in µF/cm² is i/C in nA/nF, so f per µA/cm² is 0.94 / C."""
    return f_uM_per_nA_per_nF / C_uF_per_cm2
