r"""A circuit's rhythm classified the way Prinz, Bucher & Marder (2004) classified it,
from each cell's spike times.

`PrinzRhythm` is one function of the cells' spike times in an analysis window. The sweep
engine buffers those spike times online and calls it at the end of each run
(`StreamingRhythm` with a ``rule``); `pyloric_rhythm` calls it on sampled traces. Both
therefore give the same values on the same spikes.

The routine (sources: Prinz et al. 2003, J Neurophysiol 90:3998 and Prinz et al. 2004,
Nat Neurosci 7:1345, Methods; the step-by-step summary of their analysis in the header of
``7_stg/model/inference/summstats.py``, ``mackelab/IdentifyMechanisticModels_2020``; no
code taken; our additions marked *ours*):

1. **bursts** per cell with a `AbstractBurstRule` (default `PrinzAdaptive`);
2. **periodic cells** (summary: "if the difference between two consecutive IBIs is less
   than 5 % of their average, this is consistent with periodic bursting", for one, two and
   three bursts per period; "more than 5 spikes" needed): with burst onsets o₁ … oₘ, the
   cell is periodic with k bursts per cycle when its last two k-burst periods
   oₘ − oₘ₋ₖ and oₘ₋ₖ − oₘ₋₂ₖ differ by less than ``period_consistency`` (5 %) of their
   mean; the smallest such k ≤ 3 gives the cell's period (the last of the two). We use
   the end of the window only, as the summary reads ("go backwards through the IBIs");
3. **one system period** (summary: "maxperioddeviation < 0.5 % avgperiod"): every cell
   periodic, each with cycles-per-period round(P_max / P_cell), and every cell's period
   times it within ``system_consistency`` (0.5 %) of their average — the follower
   periods checked against AB/PD's;
4. **triphasic** (summary: "if cycles per period are all 1 and IBIs per cycle are all
   1"): every k and every cycles-per-period is 1;
5. **cycles**: from one onset of a reference (AB/PD) burst to the next, the first
   reference burst in the window skipped (the window may cut it). Enough time (summary:
   "at least 2 × period"): ``min_cycles`` (2) complete cycles;
6. *ours*, **every cycle**: each cell has exactly one burst whose onset lies in each
   cycle, of at least ``min_spikes`` (2) spikes (a one-spike "burst" is a spike; Prinz
   2003 classes bursters by bursts of several spikes);
7. **pyloric order** (summary: "rhythm is pyloric if bursts are in correct order"; the
   three conditions are those ``find_pyloric.py`` of the same repository calls "the three
   conditions from Prinz' paper"), *ours*: tested in **every** cycle rather than on mean
   phases — the reference burst ends before the second cell's starts, and along
   ``order`` each onset and each offset is no earlier than the previous cell's.

The values (means over the cycles, as `burst_phases`): ``period`` (ms), ``period_cv``,
``cycles``, per cell ``onset_phase``, ``offset_phase``, ``burst_length`` (ms),
``bursts_per_cycle``; ``in_order`` (steps 1–7 hold: pyloric-like) and
``rhythm_status`` ("ok" or the first step that failed).

>>> import numpy as np
>>> def train(on, off, period=1000.0, isi=20.0, end=10000.0):
...     return np.concatenate([np.arange(c + on, c + off, isi) for c in np.arange(0, end, period)])
>>> spikes = {"AB/PD": train(0, 300), "LP": train(400, 600), "PY": train(650, 900)}
>>> out = PrinzRhythm()(spikes, start=0.0, end=10000.0)
>>> out["rhythm_status"], out["cycles"], round(out["LP.onset_phase"], 3)
('ok', 8, 0.4)
>>> spikes["PY"] = train(350, 500)                 # PY starts before LP
>>> PrinzRhythm()(spikes, start=0.0, end=10000.0)["rhythm_status"]
'out of order in 8 of 8 cycles'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import equinox as eqx
import numpy as np

from ._burst_rules import AbstractBurstRule, PrinzAdaptive, bursts_at
from ._pyloric import PyloricCriteria
from ._sampled import spike_times


class PrinzRhythm(eqx.Module):
    """Prinz's rhythm classification of the cells ``order`` (reference first) from
    their spike times (see the module for the steps and their sources).

    **Fields** (static): ``order``, ``rule`` (`PrinzAdaptive`), ``period_consistency``
    (0.05), ``system_consistency`` (0.005), ``max_bursts_per_cycle`` (3),
    ``min_cell_spikes`` (6: "more than 5 spikes"), ``min_cycles`` (2), ``min_spikes``
    (2 per burst).
    """

    order: tuple[str, ...] = eqx.field(static=True, default=("AB/PD", "LP", "PY"))
    rule: AbstractBurstRule = eqx.field(static=True, default=PrinzAdaptive())
    period_consistency: float = eqx.field(static=True, default=0.05)
    system_consistency: float = eqx.field(static=True, default=0.005)
    max_bursts_per_cycle: int = eqx.field(static=True, default=3)
    min_cell_spikes: int = eqx.field(static=True, default=6)
    min_cycles: int = eqx.field(static=True, default=2)
    min_spikes: int = eqx.field(static=True, default=2)

    def __check_init__(self):
        if len(self.order) < 2 or len(set(self.order)) != len(self.order):
            raise ValueError(f"order must name two or more distinct cells, got {self.order}")

    def keys(self) -> tuple[str, ...]:
        """The keys of the result, in order."""
        per_cell = ("onset_phase", "offset_phase", "burst_length", "bursts_per_cycle")
        cells = tuple(f"{c}.{k}" for c in self.order for k in per_cell)
        return ("period", "period_cv", "cycles", *cells, "in_order", "rhythm_status")

    def __call__(self, spikes: Mapping[str, np.ndarray], start: float, end: float) -> dict:
        """The rhythm of the spike trains ``spikes`` (cell → times in ms) over the window
        [``start``, ``end``] ms."""
        return self.classifier()(spikes, start, end)

    def classifier(self) -> Callable[[Mapping[str, np.ndarray], float, float], dict]:
        """`__call__` as a plain function with this instance's settings bound once: for
        many networks (a sweep's batch), since a module's methods are rebuilt at every
        access."""
        settings = _Settings(
            order=self.order,
            threshold=self.rule.threshold,
            period_consistency=self.period_consistency,
            system_consistency=self.system_consistency,
            max_bursts_per_cycle=self.max_bursts_per_cycle,
            min_cell_spikes=self.min_cell_spikes,
            min_cycles=self.min_cycles,
            min_spikes=self.min_spikes,
        )

        def classify(spikes: Mapping[str, np.ndarray], start: float, end: float) -> dict:
            trains = {}
            for cell in settings.order:
                s = np.sort(np.asarray(spikes[cell], dtype=float))
                trains[cell] = s[(s >= start) & (s <= end)]
            groups = {
                c: bursts_at(trains[c], settings.threshold(trains[c]) if trains[c].size else 0.0)
                for c in settings.order
            }
            out, cycles = _cycle_values(settings.order, groups)
            out["rhythm_status"] = _status(settings, trains, groups, cycles)
            out["in_order"] = out["rhythm_status"] == "ok"
            return out

        return classify


@dataclasses.dataclass(frozen=True)
class _Settings:
    """`PrinzRhythm`'s fields as plain attributes, and its rule's threshold function."""

    order: tuple[str, ...]
    threshold: Callable[[np.ndarray], float]
    period_consistency: float
    system_consistency: float
    max_bursts_per_cycle: int
    min_cell_spikes: int
    min_cycles: int
    min_spikes: int


def _status(settings: _Settings, trains, groups, cycles) -> str:
    """The first of the module's steps 2–7 that fails, or "ok"."""
    order = settings.order
    periods = {}
    for cell in order:
        if trains[cell].size < settings.min_cell_spikes:
            return f"{cell}: fewer than {settings.min_cell_spikes} spikes"
        onsets = np.array([g[0] for g in groups[cell]])[1:]  # the first may be cut
        found = _periodic(onsets, settings.period_consistency, settings.max_bursts_per_cycle)
        if found is None:
            return f"{cell}: not periodic"
        periods[cell] = found
    for cell, (_, k) in periods.items():
        if k != 1:
            return f"{cell}: {k} bursts per period"
    longest = max(p for p, _ in periods.values())
    scaled = {c: round(longest / p) * p for c, (p, _) in periods.items()}
    for cell, (p, _) in periods.items():
        if round(longest / p) != 1:
            return f"{cell}: period {p:.4g} ms against {longest:.4g} ms"
    mean = np.mean(list(scaled.values()))
    if max(abs(v - mean) for v in scaled.values()) >= settings.system_consistency * mean:
        return "cell periods differ by 0.5 % or more"
    n = len(cycles)
    if n < settings.min_cycles:
        return f"{n} complete cycles, fewer than {settings.min_cycles}"
    per_cycle = {c: _bursts_in_cycles(groups[c], cycles) for c in order}
    for cell in order:
        if any(len(inside) != 1 for inside in per_cycle[cell]):
            return f"{cell}: not one burst in every cycle"
    for cell in order:
        if any(inside[0][2] < settings.min_spikes for inside in per_cycle[cell]):
            return f"{cell}: a burst of fewer than {settings.min_spikes} spikes"
    bad = sum(not _in_order([per_cycle[c][i][0] for c in order]) for i in range(n))
    if bad:
        return f"out of order in {bad} of {n} cycles"
    return "ok"


def _periodic(onsets, consistency, max_k):
    """(period, bursts per period) from the last burst onsets, or None (step 2)."""
    for k in range(1, max_k + 1):
        if onsets.size < 2 * k + 1:
            return None
        last = onsets[-1] - onsets[-1 - k]
        before = onsets[-1 - k] - onsets[-1 - 2 * k]
        if abs(last - before) < consistency * 0.5 * (last + before):
            return float(last), k
    return None


def _in_order(bursts) -> bool:
    """Step 7 in one cycle: ``bursts`` = one (onset, offset, n) per cell, in order."""
    if bursts[0][1] > bursts[1][0]:
        return False
    return all(a[0] <= b[0] and a[1] <= b[1] for a, b in zip(bursts[1:], bursts[2:], strict=False))


def _bursts_in_cycles(groups, cycles):
    return [[g for g in groups if c0 <= g[0] < c1] for c0, c1 in cycles]


def _cycle_values(order, groups) -> tuple[dict, list]:
    """Mean phases, lengths and counts over the reference's complete cycles (step 5)."""
    nan = float("nan")
    starts = np.array([g[0] for g in groups[order[0]]])[1:]
    cycles = list(zip(starts[:-1], starts[1:], strict=True))
    lengths = np.diff(starts)
    out = {
        "period": float(np.mean(lengths)) if cycles else nan,
        "period_cv": float(np.std(lengths) / np.mean(lengths)) if cycles else nan,
        "cycles": len(cycles),
    }
    for cell in order:
        onsets, offsets, durations, count = [], [], [], 0
        for (c0, c1), inside in zip(cycles, _bursts_in_cycles(groups[cell], cycles), strict=True):
            count += len(inside)
            for onset, offset, _ in inside:
                onsets.append((onset - c0) / (c1 - c0))
                offsets.append((offset - c0) / (c1 - c0))
                durations.append(offset - onset)
        out[f"{cell}.onset_phase"] = float(np.mean(onsets)) if onsets else nan
        out[f"{cell}.offset_phase"] = float(np.mean(offsets)) if offsets else nan
        out[f"{cell}.burst_length"] = float(np.mean(durations)) if durations else nan
        out[f"{cell}.bursts_per_cycle"] = count / len(cycles) if cycles else nan
    return out, cycles


def pyloric_rhythm(
    ts,
    traces: Mapping[str, np.ndarray],
    *,
    rhythm: PrinzRhythm | None = None,
    start: float = 0.0,
    end: float | None = None,
    threshold: float = 0.0,
    criteria: PyloricCriteria | None = None,
) -> dict:
    """Prinz's classification of a circuit's sampled voltage traces (``traces``: cell →
    V in mV at times ``ts`` in ms): `PrinzRhythm` (default: Prinz's rule over
    ``("AB/PD", "LP", "PY")``) on the spikes (upward crossings of ``threshold`` mV) in
    [``start``, ``end``] ms, and with ``criteria`` (default `PyloricCriteria` when the
    cells are AB/PD, LP, PY) the 15 criteria, ``pyloric_like`` and ``pyloric``. The same
    values as a sweep with ``StreamingRhythm(rule=...)`` on the same samples.

    >>> import numpy as np
    >>> t = np.arange(0.0, 10000.0, 0.5)
    >>> def cell(on, off):   # spikes every 20 ms during [on, off) of each 1.5-s cycle
    ...     phase = t % 1500.0
    ...     return np.where((phase >= on) & (phase < off) & (phase % 20.0 < 1.0), 20.0, -60.0)
    >>> out = pyloric_rhythm(t, {"AB/PD": cell(0, 560), "LP": cell(780, 1180),
    ...                          "PY": cell(1080, 1500)}, start=1000.0)
    >>> out["rhythm_status"], bool(out["pyloric_like"]), int(out["criteria_met"])
    ('ok', True, 15)
    """
    rhythm = PrinzRhythm() if rhythm is None else rhythm
    ts = np.asarray(ts, dtype=float)
    end = float(ts[-1]) if end is None else float(end)
    spikes = {c: spike_times(ts, np.asarray(traces[c]), threshold) for c in rhythm.order}
    out = rhythm(spikes, float(start), end)
    if criteria is None and rhythm.order == ("AB/PD", "LP", "PY"):
        criteria = PyloricCriteria()
    if criteria is not None:
        judged = criteria({k: np.asarray(v) for k, v in out.items() if k != "rhythm_status"})
        out.update({k: np.asarray(v).item() for k, v in judged.items()})
    return out
