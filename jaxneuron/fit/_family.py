r"""Degenerate families: every model of a parameter region that matches target features.

Many conductance sets produce the same rhythm (Prinz, Bucher & Marder 2004, Nat. Neurosci.
7:1345; Marder & Goaillard 2006). `find_family` collects them: it sweeps candidate
parameter sets (a `jaxneuron.sweep` space, e.g. log-uniform draws around a model) with the
exact online features of the sweep engine, keeps those whose features lie within a relative
tolerance of the targets, and optionally moves near misses onto the targets by gradient
descent on a `FeatureLoss` (all starts at once), verifying each fitted model again with the
exact features. The result is a table and the "many models, one rhythm" figure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..parameters import get_parameter
from ..sweep import FEATURE_NAMES, Table, sweep
from ._fit import fit
from ._losses import FeatureLoss


@dataclasses.dataclass(frozen=True)
class Family:
    """What `find_family` returns.

    - ``table``: one row per candidate examined — its parameters, its exact features, the
      largest relative feature error ``error``, ``origin`` (``"sweep"`` or ``"fit"``) and
      ``member`` (error ≤ tolerance);
    - ``names``: the parameters; ``targets``: feature name → value; ``tolerance``;
      ``reference``: the parameter values of the model the search started from.
    """

    table: pd.DataFrame
    names: tuple[str, ...]
    targets: dict
    tolerance: float
    reference: dict

    @property
    def members(self) -> pd.DataFrame:
        """The rows that match every target within the tolerance."""
        return self.table[self.table["member"]].reset_index(drop=True)

    def spans(self) -> dict[str, float]:
        """max/min of each parameter over the members (1 when there are none)."""
        m = self.members
        return {
            n: float(m[n].max() / m[n].min()) if len(m) and m[n].min() > 0 else 1.0
            for n in self.names
        }

    def __str__(self):
        spans = ", ".join(f"{n} {s:.2g}×" for n, s in self.spans().items())
        return (
            f"{len(self.members)} models match {self.targets} within "
            f"{self.tolerance:.0%} (of {len(self.table)} examined); spans: {spans}"
        )

    def plot(self, ax=None):
        """Each member's parameters relative to the reference (log scale), one column per
        parameter, each member a line: the "many models, one rhythm" picture."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(1.0 + 0.8 * len(self.names), 3.5))
        m = self.members
        x = np.arange(len(self.names))
        for _, row in m.iterrows():
            ratios = [row[n] / self.reference[n] for n in self.names]
            ax.plot(x, ratios, "-o", color="tab:blue", alpha=0.35, markersize=3)
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_yscale("log")
        ax.set_xticks(x, self.names, rotation=45, ha="right")
        ax.set_ylabel("value / reference")
        ax.set_title(f"{len(m)} models within {self.tolerance:.0%} of the targets")
        ax.figure.tight_layout()
        return ax.figure


def _errors(table: pd.DataFrame, targets: Mapping[str, float]) -> np.ndarray:
    columns = [
        np.abs(table[k].to_numpy(dtype=float) - v) / abs(v) if v != 0 else np.abs(table[k])
        for k, v in targets.items()
    ]
    error = np.max(np.stack(columns), axis=0)
    return np.where(np.isfinite(error), error, np.inf)


def find_family(
    model,
    targets: Mapping[str, float],
    candidates,
    *,
    t1: float,
    start: float,
    tolerance: float = 0.02,
    refine: FeatureLoss | None = None,
    refine_within: float = 0.2,
    max_refine: int = 64,
    steps: int = 60,
    dtype=None,
    progress: bool = False,
) -> Family:
    r"""Models of a parameter region whose exact features match ``targets``.

    **Arguments:**

    - ``model``: the model whose parameters ``candidates`` varies (the rest keep its values).
    - ``targets``: sweep feature name → target (``burst_period`` ms, ``duty_cycle``,
      ``spikes_per_burst``, … — see `jaxneuron.sweep.FEATURE_NAMES`).
    - ``candidates``: a sweep space (`Random`, `Grid`, `Table`, `PrinzDatabase`) over the
      parameters of the family.
    - ``t1``, ``start`` (ms): each candidate's run and the start of the feature window.
    - ``tolerance``: the largest relative error of any feature for a member.
    - ``refine``: a `FeatureLoss` with the same targets; the ``max_refine`` closest near
      misses (error ≤ ``refine_within``) are fitted to it for ``steps`` steps (one
      vmapped multi-start `fit`) and verified again by the exact features.
    - ``dtype``: the sweeps' precision (default float64 when enabled, else float32).

    **Example:**

    >>> import jaxneuron as jn
    >>> from jaxneuron.sweep import Grid
    >>> family = find_family(jn.build_HH(10.0), {"isi_mean": 14.6}, Grid({"K.g": [30.0, 36.0]}),
    ...                      t1=200.0, start=100.0, tolerance=0.05)
    >>> len(family.table)
    2
    """
    unknown = [k for k in targets if k not in FEATURE_NAMES]
    if unknown:
        raise KeyError(f"unknown feature(s) {unknown}; the sweep computes {FEATURE_NAMES}")
    if not tolerance > 0:
        raise ValueError(f"tolerance must be > 0 (a relative error), got {tolerance}")
    settings = dict(t1=t1, start=start, progress=progress)
    if dtype is not None:
        settings["dtype"] = dtype
    elif np.asarray(get_parameter(model, "C")).dtype == np.float64:
        settings["dtype"] = np.float64
    swept = sweep(model, candidates, **settings).table
    names = tuple(candidates.names)
    swept = swept.assign(origin="sweep", error=_errors(swept, targets))
    tables = [swept]
    if refine is not None:
        near = swept[(swept["error"] > tolerance) & (swept["error"] <= refine_within)]
        near = near.nsmallest(max_refine, "error")
        if len(near):
            starts = near[list(names)].to_numpy(dtype=float)
            fitted = fit(model, refine, list(names), starts=starts, steps=steps)
            values = {n: np.asarray(fitted.start_values[n], dtype=float) for n in names}
            checked = sweep(model, Table(values), **settings).table
            tables.append(checked.assign(origin="fit", error=_errors(checked, targets)))
    table = pd.concat(tables, ignore_index=True)
    table["member"] = table["error"] <= tolerance
    return Family(
        table=table,
        names=names,
        targets=dict(targets),
        tolerance=float(tolerance),
        reference={n: float(get_parameter(model, n)) for n in names},
    )
