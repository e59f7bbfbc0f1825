r"""Degenerate families: every model of a parameter region that matches target features.

Many conductance sets produce the same rhythm (Prinz, Bucher & Marder 2004, Nat. Neurosci.
7:1345; Marder & Goaillard 2006). `find_family` collects them: it sweeps candidate
parameter sets (a `jaxneuron.sweep` space, e.g. log-uniform draws around a model) with the
exact online features of the sweep engine, keeps those whose features lie within a relative
tolerance of the targets, and optionally moves near misses onto the targets by gradient
descent on a `FeatureLoss` (all starts at once), verifying each fitted model again with the
exact features. `walk_family` explores the family from a member outwards instead: walkers
step along the directions that leave the features unchanged to first order and keep only
steps that still match. The result is a table and the "many models, one rhythm" figure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

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

    def distinct(self, ratio: float = 1.1) -> pd.DataFrame:
        """A subset of the members in which every two differ by at least the factor
        ``ratio`` in some parameter (greedy, in table order)."""
        m = self.members
        logs = np.log(m[list(self.names)].to_numpy(dtype=float))
        kept: list[int] = []
        for i, x in enumerate(logs):
            if all(np.max(np.abs(x - logs[j])) >= np.log(ratio) for j in kept):
                kept.append(i)
        return m.iloc[kept].reset_index(drop=True)

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
        from matplotlib.ticker import FormatStrFormatter

        if ax is None:
            _, ax = plt.subplots(figsize=(1.0 + 0.8 * len(self.names), 3.5))
        m = self.members
        x = np.arange(len(self.names))
        for _, row in m.iterrows():
            ratios = [row[n] / self.reference[n] for n in self.names]
            ax.plot(x, ratios, "-o", color="tab:blue", alpha=0.35, markersize=3)
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_yscale("log")
        for axis_format in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            axis_format(FormatStrFormatter("%.2g"))
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


def _sweep_settings(model, targets, tolerance, t1, start, dtype, progress) -> dict:
    """The checked targets and tolerance, and the settings of the sweeps that measure the
    candidates (float64 when the model is, unless ``dtype`` says otherwise)."""
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
    return settings


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
    settings = _sweep_settings(model, targets, tolerance, t1, start, dtype, progress)
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


#: features that count events (integers): `walk_family` checks them but does not follow
#: their (zero or infinite) derivatives
_COUNTS = ("n_spikes", "spikes_per_burst", "n_bursts")


def walk_family(
    model,
    targets: Mapping[str, float],
    names,
    *,
    t1: float,
    start: float,
    tolerance: float = 0.02,
    walkers: int = 32,
    steps: int = 20,
    step: float = 0.05,
    persistence: float = 0.8,
    difference: float = 0.02,
    seed: int = 0,
    dtype=None,
    progress: bool = False,
) -> Family:
    r"""Explore the family of ``model`` (a member) by constrained random walks in the
    logarithms x of the parameters ``names``.

    Each of ``walkers`` walkers, at a member x, takes per iteration:

    1. the Jacobian J of the log features (all targets but the event counts
       ``n_spikes``, ``spikes_per_burst``, ``n_bursts``) by forward differences of size
       ``difference`` in x, from the exact features of the sweep engine;
    2. a step ξ = ``persistence``·v + N(0, ``step``²), v the walker's last move (0
       after a rejection: a persistent walk spreads in proportion to the steps taken,
       not to their square root), projected onto the null space of J,
       x′ = x + (I − J⁺J)ξ: the features do not change to first order;
    3. one Gauss–Newton correction x″ = x′ − J⁺(log f(x′) − log f*);

    and moves to x″ (else x′) if it matches every target within ``tolerance``, else
    stays. Every proposal examined is a row of the table (``origin`` ``"walk"``).

    **Arguments:** as `find_family` for ``targets``, ``t1``, ``start``, ``tolerance``,
    ``dtype``; ``steps`` iterations of all walkers; ``seed`` of the proposals. Each
    iteration costs walkers·(P + 2) runs (three sweeps).

    **Example:**

    >>> import jaxneuron as jn
    >>> family = walk_family(jn.build_HH(10.0), {"isi_mean": 14.64}, ["Na.g", "K.g"],
    ...                      t1=200.0, start=100.0, tolerance=0.05, walkers=2, steps=1)
    >>> len(family.table)
    5
    """
    settings = _sweep_settings(model, targets, tolerance, t1, start, dtype, False)
    for what, value in (("walkers", walkers), ("steps", steps)):
        if int(value) < 1:
            raise ValueError(f"{what} must be >= 1, got {value}")
    if not 0 <= persistence < 1:
        raise ValueError(f"persistence must lie in [0, 1), got {persistence}")
    if not step > 0 or not difference > 0:
        raise ValueError(
            f"step and difference must be > 0 (in log units), got {step}, {difference}"
        )
    names = tuple([names] if isinstance(names, str) else names)
    reference = {n: float(get_parameter(model, n)) for n in names}
    if any(v <= 0 for v in reference.values()):
        raise ValueError(
            f"walk_family walks in log space: every parameter must be > 0, got {reference}"
        )
    followed = [k for k in targets if k not in _COUNTS]
    if not followed:
        raise ValueError(f"walk_family needs a target that is not an event count {_COUNTS}")
    goal = np.log([float(targets[k]) for k in followed])

    def evaluate(points):
        columns = dict(zip(names, np.exp(points).T, strict=True))
        table = sweep(model, Table(columns), **settings).table
        return table.assign(error=_errors(table, targets))

    P = len(names)
    rng = np.random.default_rng(seed)
    x = np.tile(np.log([reference[n] for n in names]), (int(walkers), 1))
    first = evaluate(x[:1]).assign(origin="reference")
    if not first["error"].iloc[0] <= tolerance:
        raise ValueError(
            f"walk_family starts from a member, but the model's features are "
            f"{ {k: float(first[k].iloc[0]) for k in targets} }, not within {tolerance:.0%} "
            f"of {dict(targets)}"
        )
    tables = [first]
    velocity = np.zeros_like(x)

    def log_features(table):
        return np.log(table[followed].to_numpy(dtype=float))

    here = np.tile(log_features(first), (len(x), 1))  # (K, C): log f at each walker
    for _ in tqdm(range(int(steps)), disable=not progress, desc="walk"):
        shifted = (x[:, None, :] + difference * np.eye(P)[None]).reshape(-1, P)
        logf = log_features(evaluate(shifted)).reshape(len(x), P, -1)
        J = np.swapaxes((logf - here[:, None, :]) / difference, 1, 2)  # (K, C, P)
        ok = np.all(np.isfinite(J), axis=(1, 2))
        J = np.where(ok[:, None, None], J, 0.0)
        pinv = np.linalg.pinv(J)  # (K, P, C)
        xi = persistence * velocity + rng.normal(0.0, step, size=x.shape)
        proposal = x + xi - np.einsum("kpc,kcq,kq->kp", pinv, J, xi)
        proposed = evaluate(proposal)
        residual = log_features(proposed) - goal
        residual = np.where(np.isfinite(residual), residual, 0.0)
        corrected = proposal - np.einsum("kpc,kc->kp", pinv, residual)
        checked = evaluate(corrected)
        tables += [proposed.assign(origin="walk"), checked.assign(origin="walk")]
        good_c = ok & (checked["error"].to_numpy() <= tolerance)
        good_p = ok & (proposed["error"].to_numpy() <= tolerance)
        moved = np.where(good_c[:, None], corrected, np.where(good_p[:, None], proposal, x))
        here = np.where(
            good_c[:, None],
            log_features(checked),
            np.where(good_p[:, None], log_features(proposed), here),
        )
        velocity, x = moved - x, moved
    table = pd.concat(tables, ignore_index=True)
    table["member"] = table["error"] <= tolerance
    return Family(
        table=table,
        names=names,
        targets=dict(targets),
        tolerance=float(tolerance),
        reference=reference,
    )
