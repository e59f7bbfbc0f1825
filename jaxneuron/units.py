"""Units and geometry.

jaxneuron works in membrane *densities*:

| quantity            | unit    |
|---------------------|---------|
| time                | ms      |
| voltage             | mV      |
| capacitance         | µF/cm²  |
| conductance         | mS/cm²  |
| current             | µA/cm²  |
| calcium             | µM      |

With these, ``C dV/dt = -Σ I`` needs no conversion factor: µA/cm² ÷ µF/cm² = mV/ms.
Whole-cell quantities (nA, nS, µS, nF) enter only through an explicit `Geometry`,
never through a hidden constant.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._validation import check_positive

#: Membrane area of the Prinz et al. (2003, 2004) single-compartment cell, in cm².
PRINZ_AREA_CM2 = 0.628e-3


def conductance_density(conductance_nS, area_cm2):
    """A whole-cell conductance in nS as a density in mS/cm² over a membrane of
    ``area_cm2`` cm²: g = G / (A · 10⁶) (1 mS = 10⁶ nS). The one conversion of nS to a
    density: `Geometry` uses it for a circuit's cells, a `jaxneuron.PopulationNetwork`
    for its neurons' ``area``.

    >>> round(conductance_density(1.0, 0.628e-3), 7)
    0.0015924
    """
    return conductance_nS / (area_cm2 * 1e6)


class Geometry(eqx.Module):
    """Membrane area of a single-compartment cell, for whole-cell quantities.

    Conversions (A the area in cm²):

    - current:      I[nA]  = i[µA/cm²] · A · 10³
    - conductance:  G[nS]  = g[mS/cm²] · A · 10⁶     (1 µS = 10³ nS)
    - capacitance:  C[nF]  = c[µF/cm²] · A · 10³

    **Example:**

    >>> geo = Geometry(area_cm2=0.628e-3)
    >>> round(float(geo.conductance_density(1.0)), 7)   # 1 nS in mS/cm²
    0.0015924
    """

    area_cm2: Float[Array, ""] = eqx.field(converter=jnp.asarray)

    def __post_init__(self):
        check_positive("Geometry.area_cm2", self.area_cm2, "cm²")

    def current_density(self, current_nA):
        """Whole-cell current in nA → density in µA/cm²."""
        return current_nA / (self.area_cm2 * 1e3)

    def whole_cell_current(self, density_uA_cm2):
        """Density in µA/cm² → whole-cell current in nA."""
        return density_uA_cm2 * self.area_cm2 * 1e3

    def conductance_density(self, conductance_nS):
        """Whole-cell conductance in nS → density in mS/cm² (`conductance_density`)."""
        return conductance_density(conductance_nS, self.area_cm2)

    def whole_cell_conductance(self, density_mS_cm2):
        """Density in mS/cm² → whole-cell conductance in nS."""
        return density_mS_cm2 * self.area_cm2 * 1e6

    def whole_cell_capacitance(self, density_uF_cm2):
        """Specific capacitance in µF/cm² → whole-cell capacitance in nF."""
        return density_uF_cm2 * self.area_cm2 * 1e3
