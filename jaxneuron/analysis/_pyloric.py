r"""The pyloric rhythm of Prinz, Bucher & Marder (2004): "pyloric-like" and the 15
quantitative criteria of the biological rhythm.

Two stages, as in the 2004 network database study:

1. **pyloric-like**: the rhythm is triphasic — AB/PD, LP and PY each burst once per AB/PD
   cycle — and in order: AB/PD ends before LP starts, LP starts before PY starts, and LP
   ends before PY ends (LP and PY may overlap);
2. **pyloric**: pyloric-like, and each of 15 features of the rhythm lies within mean ± 2 SD
   of the lobster (*Homarus americanus*) pyloric rhythm, 99 preparations (Prinz et al.
   2004, Table 1; unpublished data of D. Bucher, A. A. Prinz and E. Marder, the data set
   of Bucher, Prinz & Marder 2005, J Neurosci 25:1611).

Where the numbers come from. The paper's Table 1 was not available to us: the means and
standard deviations below are those of Table 1 as transcribed in the code of Gonçalves et
al. 2020 (eLife 9:e56261; repository ``mackelab/IdentifyMechanisticModels_2020``, file
``7_stg/model/simulator/find_pyloric.py``, which also keeps the ranges, equal to mean ± 2 SD
to the last digit). Five of them (the duty cycles and the LP and PY phases) are cited from
"Prinz et al. 2004, Table 1" independently by ``ljstolting/ADHP-maintains-pyloricness``;
three of the ranges (period 0.952–2.067 s, AB/PD burst 0.317–0.847 s, LP duty cycle
0.146–0.383) appear in a summary of the paper. The means are mutually consistent (e.g.
0.533 − 0.385 = 0.148, the AB/PD–LP phase gap). The burst-order rules of stage 1 are those
the same code calls "the three conditions from Prinz' paper". Not checked against the
original: whether the bounds are exactly mean ± 2 SD, and "<" against "≤".

How jaxneuron measures the features (`StreamingRhythm`, `burst_phases`): cycles from one
AB/PD burst onset to the next; phases are means over cycles of (time − cycle start) /
cycle length; burst lengths are means in ms (first to last spike); duty cycles are offset
phase − onset phase; gaps and delays in ms are phase differences times the mean period.
With Prinz's routine (`PrinzRhythm`, ``StreamingRhythm(rule=PrinzAdaptive())``) the
stage-1 rules hold in every cycle (``in_order``), which implies them on the mean phases;
the earlier streaming rule (no ``rule``) applies them to the mean phases only.

>>> from jaxneuron.analysis import PYLORIC_2004_CRITERIA
>>> [(c.name, c.low, c.high) for c in PYLORIC_2004_CRITERIA[:2]]
[('period', 951.0, 2067.0), ('AB/PD burst', 316.0, 848.0)]
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class Criterion:
    """One feature of the biological rhythm: ``name``, ``unit``, the biological ``mean``
    and ``sd``; a model passes when ``low`` ≤ value ≤ ``high`` (mean ± 2 SD)."""

    name: str
    unit: str
    mean: float
    sd: float

    @property
    def low(self) -> float:
        return round(self.mean - 2 * self.sd, 6)

    @property
    def high(self) -> float:
        return round(self.mean + 2 * self.sd, 6)


#: The 15 features of Prinz et al. 2004, Table 1 (lobster, 99 preparations), mean and SD.
PYLORIC_2004_CRITERIA: tuple[Criterion, ...] = (
    Criterion("period", "ms", 1509.0, 279.0),
    Criterion("AB/PD burst", "ms", 582.0, 133.0),
    Criterion("LP burst", "ms", 399.0, 113.0),
    Criterion("PY burst", "ms", 530.0, 150.0),
    Criterion("AB/PD-LP gap", "ms", 221.0, 109.0),
    Criterion("LP-PY gap", "ms", -61.0, 60.0),
    Criterion("AB/PD-LP delay", "ms", 803.0, 169.0),
    Criterion("AB/PD-PY delay", "ms", 1141.0, 216.0),
    Criterion("AB/PD duty cycle", "", 0.385, 0.040),
    Criterion("LP duty cycle", "", 0.264, 0.059),
    Criterion("PY duty cycle", "", 0.348, 0.054),
    Criterion("AB/PD-LP phase gap", "", 0.148, 0.065),
    Criterion("LP-PY phase gap", "", -0.040, 0.034),
    Criterion("LP phase", "", 0.533, 0.054),
    Criterion("PY phase", "", 0.758, 0.060),
)


class PyloricCriteria(eqx.Module):
    """Stage 1 (pyloric-like) and stage 2 (the 15 criteria) from a rhythm's values.

    Takes the output of `StreamingRhythm.summary` (or a table with its columns) for the
    cells ``cells`` = (AB/PD, LP, PY) and returns ``pyloric.<feature>`` for the 15
    features of ``criteria``, ``criteria_met`` (how many of them lie in their range),
    ``pyloric_like`` and ``pyloric`` (pyloric-like with all criteria met).

    **Fields** (static): ``cells`` (the names of the AB/PD, LP and PY cells), ``criteria``
    (default `PYLORIC_2004_CRITERIA`: the same 15 names with other bounds may be given).
    """

    cells: tuple[str, str, str] = eqx.field(static=True, default=("AB/PD", "LP", "PY"))
    criteria: tuple[Criterion, ...] = eqx.field(static=True, default=PYLORIC_2004_CRITERIA)

    def __check_init__(self):
        names = [c.name for c in self.criteria]
        if sorted(names) != sorted(c.name for c in PYLORIC_2004_CRITERIA):
            raise ValueError(f"criteria must cover the 15 features of Prinz 2004, got {names}")

    def features(self, rhythm) -> dict:
        """The 15 features, by criterion name, from the rhythm's columns."""
        ab, lp, py = self.cells

        def col(cell, key):
            return jnp.asarray(rhythm[f"{cell}.{key}"])

        period = jnp.asarray(rhythm["period"])
        on = {c: col(c, "onset_phase") for c in self.cells}
        off = {c: col(c, "offset_phase") for c in self.cells}
        return {
            "period": period,
            "AB/PD burst": col(ab, "burst_length"),
            "LP burst": col(lp, "burst_length"),
            "PY burst": col(py, "burst_length"),
            "AB/PD-LP gap": (on[lp] - off[ab]) * period,
            "LP-PY gap": (on[py] - off[lp]) * period,
            "AB/PD-LP delay": (on[lp] - on[ab]) * period,
            "AB/PD-PY delay": (on[py] - on[ab]) * period,
            "AB/PD duty cycle": off[ab] - on[ab],
            "LP duty cycle": off[lp] - on[lp],
            "PY duty cycle": off[py] - on[py],
            "AB/PD-LP phase gap": on[lp] - off[ab],
            "LP-PY phase gap": on[py] - off[lp],
            "LP phase": on[lp] - on[ab],
            "PY phase": on[py] - on[ab],
        }

    def __call__(self, rhythm) -> dict:
        ab, lp, py = self.cells
        values = self.features(rhythm)
        met = 0
        for c in self.criteria:
            value = values[c.name]
            met = met + ((value >= c.low) & (value <= c.high)).astype(jnp.int32)
        on = {c: jnp.asarray(rhythm[f"{c}.onset_phase"]) for c in self.cells}
        off = {c: jnp.asarray(rhythm[f"{c}.offset_phase"]) for c in self.cells}
        # NaN (no burst, or an unfinished one) compares False: not pyloric-like
        pyloric_like = (
            jnp.asarray(rhythm["in_order"]).astype(bool)
            & (off[ab] <= on[lp])
            & (on[lp] <= on[py])
            & (off[lp] <= off[py])
        )
        out = {f"pyloric.{name}": value for name, value in values.items()}
        out["criteria_met"] = met
        out["pyloric_like"] = pyloric_like
        out["pyloric"] = pyloric_like & (met == len(self.criteria))
        return out
