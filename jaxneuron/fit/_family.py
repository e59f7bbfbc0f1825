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

import equinox as eqx
import jax
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
      ``reference``: the parameter values of the model the search started from;
      ``scales``: feature name → the unit of its error (None: relative errors, the error
      of a feature is |value − target| / |target|).
    """

    table: pd.DataFrame
    names: tuple[str, ...]
    targets: dict
    tolerance: float
    reference: dict
    scales: dict | None = None

    @property
    def members(self) -> pd.DataFrame:
        """The rows that match every target within the tolerance."""
        return self.table.loc[self.table["member"].to_numpy(dtype=bool)].reset_index(drop=True)

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

    def _within(self) -> str:
        if self.scales is None:
            return f"{self.tolerance:.0%}"
        return f"{self.tolerance:g} × their scales"

    def __str__(self):
        spans = ", ".join(f"{n} {s:.2g}×" for n, s in self.spans().items())
        return (
            f"{len(self.members)} models match {self.targets} within "
            f"{self._within()} (of {len(self.table)} examined); spans: {spans}"
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
        ax.set_title(f"{len(m)} models within {self._within()} of the targets")
        ax.figure.tight_layout()
        return ax.figure


def _scale_of(targets: Mapping[str, float], scales: Mapping[str, float] | None, key: str):
    if scales is not None:
        return float(scales[key])
    return abs(float(targets[key])) if targets[key] != 0 else 1.0


def _errors(table: pd.DataFrame, targets: Mapping[str, float], scales=None) -> np.ndarray:
    """The largest error of any target feature, per row: |value − target| / scale (the
    scale |target| by default; 1 for a zero target); inf where a feature is missing."""
    missing = [k for k in targets if k not in table.columns]
    if missing:
        raise KeyError(f"no feature(s) {missing} in the sweep's columns {list(table.columns)}")
    columns = [
        np.abs(table[k].to_numpy(dtype=float) - v) / _scale_of(targets, scales, k)
        for k, v in targets.items()
    ]
    error = np.max(np.stack(columns), axis=0)
    return np.where(np.isfinite(error), error, np.inf)


def _check_scales(targets, scales) -> dict | None:
    if scales is None:
        return None
    scales = {k: float(v) for k, v in scales.items()}
    unknown = [k for k in scales if k not in targets]
    lacking = [k for k in targets if k not in scales]
    if unknown or lacking:
        raise KeyError(
            f"scales must name every target feature and no other; unknown {unknown}, "
            f"lacking {lacking}"
        )
    bad = {k: v for k, v in scales.items() if not v > 0}
    if bad:
        raise ValueError(f"every scale must be > 0 (in its feature's unit), got {bad}")
    return scales


def _known_features(model, rhythm) -> set[str]:
    """The columns a sweep of ``model`` has: the features of each recorded potential (no
    prefix for a neuron, ``<cell>.`` for a circuit) and, with a rhythm, its columns."""
    cells = [n[: -len("V")] for n in model.state_names if n.endswith(".V")]
    known = {p + f for p in (cells or [""]) for f in FEATURE_NAMES}
    if rhythm is not None:
        known |= set(rhythm.names())
    return known


def _sweep_settings(model, targets, tolerance, t1, start, dtype, progress, rhythm=None) -> dict:
    """The checked targets and tolerance, and the settings of the sweeps that measure the
    candidates (float64 when the model is, unless ``dtype`` says otherwise)."""
    unknown = [k for k in targets if k not in _known_features(model, rhythm)]
    if unknown:
        raise KeyError(
            f"unknown feature(s) {unknown}; the sweep computes {FEATURE_NAMES} per "
            "recorded potential and, with rhythm=..., the rhythm's columns"
        )
    if not tolerance > 0:
        raise ValueError(f"tolerance must be > 0, got {tolerance}")
    settings = dict(t1=t1, start=start, progress=progress)
    if rhythm is not None:
        settings["rhythm"] = rhythm
    if dtype is not None:
        settings["dtype"] = dtype
    elif any(
        np.asarray(leaf).dtype == np.float64
        for leaf in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))
    ):
        settings["dtype"] = np.float64
    return settings


#: the largest chunk of the families' sweeps (the sweep engine's CPU default)
_MAX_CHUNK = 2**14


def _evaluator(model, names, settings, targets, scales):
    """points (K, P) of log parameters → their sweep table with the column ``error``."""

    def evaluate(points):
        # one chunk of a power of two of runs (the last point repeated), or chunks of
        # _MAX_CHUNK (the engine pads the last one): the searches' sweeps of varying size
        # then share a few compiled programs instead of compiling one per size
        n = len(points)
        size = min(1 << max(n - 1, 0).bit_length(), _MAX_CHUNK)
        if n < size:
            points = np.concatenate([points, np.repeat(points[-1:], size - n, axis=0)])
        columns = dict(zip(names, np.exp(points).T, strict=True))
        table = sweep(model, Table(columns), chunk_size=size, **settings).table
        table = table.iloc[:n]
        return table.assign(error=_errors(table, targets, scales))

    return evaluate


def find_family(
    model,
    targets: Mapping[str, float],
    candidates,
    *,
    t1: float,
    start: float,
    tolerance: float = 0.02,
    scales: Mapping[str, float] | None = None,
    rhythm=None,
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
    - ``tolerance``: the largest error of any feature for a member, relative to the
      target, or in units of ``scales``.
    - ``scales``: feature name → the unit of its error, in the feature's unit (e.g. a
      biological SD); None for relative errors.
    - ``rhythm``: a `jaxneuron.analysis.StreamingRhythm` measured in each run; its
      columns (``period``, ``pyloric.LP phase``, …) may then be targets.
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
    settings = _sweep_settings(model, targets, tolerance, t1, start, dtype, progress, rhythm)
    scales = _check_scales(targets, scales)
    swept = sweep(model, candidates, **settings).table
    names = tuple(candidates.names)
    swept = swept.assign(origin="sweep", error=_errors(swept, targets, scales))
    tables = [swept]
    if refine is not None:
        near = swept[(swept["error"] > tolerance) & (swept["error"] <= refine_within)]
        near = near.nsmallest(max_refine, "error")
        if len(near):
            starts = near[list(names)].to_numpy(dtype=float)
            fitted = fit(model, refine, list(names), starts=starts, steps=steps)
            values = {n: np.asarray(fitted.start_values[n], dtype=float) for n in names}
            checked = sweep(model, Table(values), **settings).table
            tables.append(checked.assign(origin="fit", error=_errors(checked, targets, scales)))
    table = pd.concat(tables, ignore_index=True)
    table["member"] = table["error"] <= tolerance
    return Family(
        table=table,
        names=names,
        targets=dict(targets),
        tolerance=float(tolerance),
        reference={n: float(get_parameter(model, n)) for n in names},
        scales=scales,
    )


#: features that count events (integers): `walk_family` checks them but does not follow
#: their (zero or infinite) derivatives
_COUNTS = ("n_spikes", "spikes_per_burst", "n_bursts")


def _coordinates(targets, scales):
    """The coordinates in which the features are linearised: log f for relative errors,
    f / scale with scales (features that may be ≤ 0, such as a gap)."""
    if scales is None:
        return np.log
    unit = np.asarray([scales[k] for k in targets], dtype=float)
    return lambda f: np.asarray(f, dtype=float) / unit


def _initial_points(model, names, starts) -> np.ndarray:
    """(K, P) log parameters: the model's values, or the rows of ``starts``."""
    if starts is None:
        values = np.asarray([[float(get_parameter(model, n)) for n in names]])
    else:
        missing = [n for n in names if n not in starts]
        if missing:
            raise KeyError(f"starts lacks the parameter(s) {missing}")
        values = np.stack([np.atleast_1d(np.asarray(starts[n], dtype=float)) for n in names], 1)
    if not np.all(values > 0):
        raise ValueError(
            "the search runs in log space: every parameter must be > 0, got "
            f"{dict(zip(names, values.min(axis=0), strict=True))} (smallest)"
        )
    return np.log(values)


def _log_bounds(names, bounds) -> tuple[np.ndarray, np.ndarray]:
    """(P,) lower and upper bounds of the log parameters (±inf where none is given)."""
    low, high = np.full(len(names), -np.inf), np.full(len(names), np.inf)
    for name, (a, b) in (bounds or {}).items():
        if name not in names:
            raise KeyError(f"bounds name {name!r}, which is not a free parameter {names}")
        if not 0 < a < b:
            raise ValueError(f"bounds of {name!r} must satisfy 0 < low < high, got {(a, b)}")
        i = names.index(name)
        low[i], high[i] = np.log(a), np.log(b)
    return low, high


def walk_family(
    model,
    targets: Mapping[str, float],
    names,
    *,
    t1: float,
    start: float,
    tolerance: float = 0.02,
    scales: Mapping[str, float] | None = None,
    rhythm=None,
    starts: Mapping[str, np.ndarray] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    walkers: int = 32,
    steps: int = 20,
    step: float = 0.05,
    max_step: float = 0.5,
    persistence: float = 0.8,
    difference: float = 0.02,
    seed: int = 0,
    dtype=None,
    progress: bool = False,
) -> Family:
    r"""Explore the family of ``model`` (a member) by constrained random walks in the
    logarithms x of the parameters ``names``.

    Each of ``walkers`` walkers, at a member x, takes per iteration:

    1. the Jacobian J of the features g (log f, or f / scale with ``scales``; all
       targets but the event counts ``n_spikes``, ``spikes_per_burst``, ``n_bursts``)
       by forward differences of size ``difference`` in x, from the exact features of
       the sweep engine;
    2. a step ξ = ``persistence``·v + N(0, ``step``²), v the walker's last move (0
       after a rejection: a persistent walk spreads in proportion to the steps taken,
       not to their square root), projected onto the null space of J,
       x′ = x + (I − J⁺J)ξ: the features do not change to first order;
    3. one Gauss–Newton correction x″ = x′ − J⁺(g(x′) − g*);

    and moves to x″ (else x′) if it matches every target within ``tolerance``, else
    stays. The projected step and the correction are each clipped to ``max_step`` per
    parameter (a nearly singular J can ask for far more), and x′, x″ to ``bounds``.
    Every proposal examined is a row of the table (``origin`` ``"walk"``).

    **Arguments:** as `find_family` for ``targets``, ``t1``, ``start``, ``tolerance``,
    ``scales``, ``rhythm``, ``dtype``; ``starts``: name → (K,) members to start K
    walkers from (``walkers`` is then K; default: ``walkers`` walkers at the model's
    values); ``bounds``: name → (low, high) for some parameters; ``steps`` iterations
    of all walkers; ``seed`` of the proposals. Each iteration costs walkers·(P + 2)
    runs (three sweeps).

    **Example:**

    >>> import jaxneuron as jn
    >>> family = walk_family(jn.build_HH(10.0), {"isi_mean": 14.64}, ["Na.g", "K.g"],
    ...                      t1=200.0, start=100.0, tolerance=0.05, walkers=2, steps=1)
    >>> len(family.table)
    5
    """
    settings = _sweep_settings(model, targets, tolerance, t1, start, dtype, False, rhythm)
    scales = _check_scales(targets, scales)
    for what, value in (("walkers", walkers), ("steps", steps)):
        if int(value) < 1:
            raise ValueError(f"{what} must be >= 1, got {value}")
    if not 0 <= persistence < 1:
        raise ValueError(f"persistence must lie in [0, 1), got {persistence}")
    if not step > 0 or not difference > 0:
        raise ValueError(
            f"step and difference must be > 0 (in log units), got {step}, {difference}"
        )
    if not max_step > 0:
        raise ValueError(f"max_step must be > 0 (in log units), got {max_step}")
    names = tuple([names] if isinstance(names, str) else names)
    reference = {n: float(get_parameter(model, n)) for n in names}
    low, high = _log_bounds(names, bounds)
    followed = [k for k in targets if k not in _COUNTS]
    if not followed:
        raise ValueError(f"walk_family needs a target that is not an event count {_COUNTS}")
    followed_targets = {k: targets[k] for k in followed}
    coordinates = _coordinates(followed_targets, scales)
    goal = coordinates(np.asarray([float(targets[k]) for k in followed]))
    evaluate = _evaluator(model, names, settings, targets, scales)

    P = len(names)
    rng = np.random.default_rng(seed)
    x = _initial_points(model, names, starts)
    if starts is None:
        x = np.tile(x, (int(walkers), 1))
        first = evaluate(x[:1]).assign(origin="reference")
    else:
        first = evaluate(x).assign(origin="start")
    if not np.all(first["error"].to_numpy() <= tolerance):
        worst = first.iloc[int(np.argmax(first["error"].to_numpy()))]
        raise ValueError(
            f"walk_family starts from a member, but a start's features are "
            f"{ {k: float(worst[k]) for k in targets} }, not within the tolerance "
            f"{tolerance:g} of {dict(targets)}"
        )
    tables = [first]
    velocity = np.zeros_like(x)

    def features(table):
        return coordinates(table[followed].to_numpy(dtype=float))

    here = np.broadcast_to(features(first), (len(x), len(followed))).copy()  # g at each walker
    for _ in tqdm(range(int(steps)), disable=not progress, desc="walk"):
        shifted = (x[:, None, :] + difference * np.eye(P)[None]).reshape(-1, P)
        g = features(evaluate(shifted)).reshape(len(x), P, -1)
        J = np.swapaxes((g - here[:, None, :]) / difference, 1, 2)  # (K, C, P)
        ok = np.all(np.isfinite(J), axis=(1, 2))
        J = np.where(ok[:, None, None], J, 0.0)
        pinv = np.linalg.pinv(J)  # (K, P, C)
        xi = persistence * velocity + rng.normal(0.0, step, size=x.shape)
        move = xi - np.einsum("kpc,kcq,kq->kp", pinv, J, xi)
        proposal = np.clip(x + np.clip(move, -max_step, max_step), low, high)
        proposed = evaluate(proposal)
        residual = features(proposed) - goal
        residual = np.where(np.isfinite(residual), residual, 0.0)
        correction = np.clip(np.einsum("kpc,kc->kp", pinv, residual), -max_step, max_step)
        corrected = np.clip(proposal - correction, low, high)
        checked = evaluate(corrected)
        tables += [proposed.assign(origin="walk"), checked.assign(origin="walk")]
        good_c = ok & (checked["error"].to_numpy() <= tolerance)
        good_p = ok & (proposed["error"].to_numpy() <= tolerance)
        moved = np.where(good_c[:, None], corrected, np.where(good_p[:, None], proposal, x))
        here = np.where(
            good_c[:, None],
            features(checked),
            np.where(good_p[:, None], features(proposed), here),
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
        scales=scales,
    )


def match_features(
    model,
    targets: Mapping[str, float],
    starts: Mapping[str, np.ndarray],
    *,
    t1: float,
    start: float,
    tolerance: float = 0.02,
    scales: Mapping[str, float] | None = None,
    rhythm=None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    iterations: int = 20,
    difference: float = 0.03,
    damping: float = 1.0,
    max_step: float = 0.5,
    dtype=None,
    progress: bool = False,
) -> Family:
    r"""Move every start onto ``targets`` by Levenberg–Marquardt on the exact features of
    the sweep engine, all starts at once.

    In x = log θ (θ: the parameters named in ``starts``) each start minimises
    ‖r(x)‖², r = (f(x) − f*) / scale over the targets (scale |f*|, or ``scales``). Per
    iteration:

    1. the Jacobian J of r by forward differences of size ``difference`` in x (one
       sweep of starts × P runs), backward where the forward run lost a feature (a
       column that has none either way is left 0: that parameter stays put);
    2. three damped Gauss–Newton steps δ = −(JᵀJ + μI)⁻¹Jᵀr for μ = λ/10, λ, 10λ, each
       clipped to ``max_step`` per parameter and to ``bounds`` (one sweep);
    3. the best of them is taken if it lowers ‖r‖² (λ ← its μ / 3), else the start stays
       (λ ← 10 λ).

    Gradients of the exact features are finite differences: the features are
    measured from spike times (burst edges), piecewise smooth in the parameters, which a
    difference of a few percent straddles where a derivative would not. A start stops
    when it matches every target within ``tolerance`` or λ exceeds 10⁶ (no descent
    found). Every run is a row of the table (``origin`` ``"start"``, ``"jacobian"`` or
    ``"step"``; ``start`` the start's index), so the returned `Family` holds every member
    met on the way; each start's final point has ``stopped`` = ``"matched"``, ``"no
    descent"``, ``"no features"`` (its start has none) or ``"iterations"``.

    **Arguments:** as `walk_family` for ``targets``, ``t1``, ``start``, ``tolerance``,
    ``scales``, ``rhythm``, ``dtype``; ``starts``: name → (K,) initial values (> 0);
    ``bounds``: name → (low, high) for some parameters; ``iterations`` at most;
    ``damping``: the initial λ.

    **Example:**

    >>> import jaxneuron as jn
    >>> family = match_features(jn.build_HH(10.0), {"isi_mean": 14.0}, {"K.g": [40.0]},
    ...                         t1=200.0, start=100.0, tolerance=0.01, iterations=3)
    >>> bool(family.members["error"].min() <= 0.01)
    True
    """
    settings = _sweep_settings(model, targets, tolerance, t1, start, dtype, False, rhythm)
    scales = _check_scales(targets, scales)
    if int(iterations) < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    if not difference > 0 or not max_step > 0 or not damping > 0:
        raise ValueError(
            f"difference, max_step (log units) and damping must be > 0, got {difference}, "
            f"{max_step}, {damping}"
        )
    names = tuple(starts)
    x = _initial_points(model, names, starts)
    low, high = _log_bounds(names, bounds)
    x = np.clip(x, low, high)
    evaluate = _evaluator(model, names, settings, targets, scales)
    unit = np.asarray([_scale_of(targets, scales, k) for k in targets])
    goal = np.asarray([float(v) for v in targets.values()])

    def residuals(table):
        r = (table[list(targets)].to_numpy(dtype=float) - goal) / unit
        return r, np.where(np.all(np.isfinite(r), axis=1), np.sum(r**2, axis=1), np.inf)

    K, P = x.shape
    index = np.arange(K)
    current = evaluate(x).assign(origin="start", start=index)
    r, cost = residuals(current)
    lam = np.full(K, float(damping))
    active = current["error"].to_numpy() > tolerance
    stopped = np.where(active, "iterations", "matched").astype(object)
    tables = [current]
    offset, final = len(current), index.copy()  # rows so far; each start's current row
    factors = np.array([0.1, 1.0, 10.0])
    for _ in tqdm(range(int(iterations)), disable=not progress, desc="match"):
        live = np.flatnonzero(active & np.isfinite(cost))
        stopped[active & ~np.isfinite(cost)] = "no features"
        active[~np.isfinite(cost)] = False
        if not len(live):
            break
        shifted = (x[live, None, :] + difference * np.eye(P)[None]).reshape(-1, P)
        jac = evaluate(shifted).assign(origin="jacobian", start=np.repeat(live, P))
        rs, _ = residuals(jac)
        rs = rs.reshape(len(live), P, -1)
        sign = np.ones((len(live), P))
        lost = ~np.all(np.isfinite(rs), axis=2)  # (L, P): the forward run lost a feature
        if lost.any():  # the backward difference, for those columns only
            which = np.argwhere(lost)
            back = x[live[which[:, 0]]] - difference * np.eye(P)[which[:, 1]]
            extra = evaluate(back).assign(origin="jacobian", start=live[which[:, 0]])
            rs[which[:, 0], which[:, 1]] = residuals(extra)[0]
            sign[which[:, 0], which[:, 1]] = -1.0
            jac = pd.concat([jac, extra], ignore_index=True)
        tables.append(jac)
        offset += len(jac)
        J = (rs - r[live, None, :]) * (sign / difference)[..., None]
        J = np.swapaxes(np.where(np.isfinite(J), J, 0.0), 1, 2)  # (L, C, P)
        JtJ = np.einsum("lcp,lcq->lpq", J, J)
        Jtr = np.einsum("lcp,lc->lp", J, r[live])
        mus = lam[live, None] * factors  # (L, 3)
        A = JtJ[:, None] + mus[..., None, None] * np.eye(P)
        delta = -np.linalg.solve(A, np.broadcast_to(Jtr[:, None], (len(live), 3, P))[..., None])
        delta = np.clip(delta[..., 0], -max_step, max_step)
        trial = np.clip(x[live, None, :] + delta, low, high).reshape(-1, P)
        steps = evaluate(trial).assign(origin="step", start=np.repeat(live, 3))
        tables.append(steps)
        offset += len(steps)
        rt, ct = residuals(steps)
        ct = ct.reshape(len(live), 3)
        best = np.argmin(ct, axis=1)
        better = ct[np.arange(len(live)), best] < cost[live]
        for j, k in enumerate(live):
            if better[j]:
                row = j * 3 + best[j]
                final[k] = offset - len(steps) + row
                x[k] = trial[row]
                r[k], cost[k] = rt[row], ct[j, best[j]]
                lam[k] = mus[j, best[j]] / 3
                if steps["error"].iloc[row] <= tolerance:
                    active[k], stopped[k] = False, "matched"
            else:
                lam[k] *= 10
                if lam[k] > 1e6:
                    active[k], stopped[k] = False, "no descent"
    table = pd.concat(tables, ignore_index=True)
    table["member"] = table["error"] <= tolerance
    table["stopped"] = None
    table.loc[final, "stopped"] = stopped
    return Family(
        table=table,
        names=names,
        targets=dict(targets),
        tolerance=float(tolerance),
        reference={n: float(get_parameter(model, n)) for n in names},
        scales=scales,
    )
