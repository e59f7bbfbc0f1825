"""Rhythms of circuits: burst phases relative to a reference cell, cycle order, and the
pyloric-rhythm check (triphasic, AB/PD → LP → PY)."""

from __future__ import annotations

import numpy as np

from ._burst_rules import AbstractBurstRule, split_bursts
from ._sampled import bursts, spike_times


def burst_phases(
    ts,
    traces: dict,
    reference: str,
    threshold: float = 0.0,
    start: float = 0.0,
    gaps: dict | None = None,
    rule: AbstractBurstRule | None = None,
) -> dict[str, dict[str, float]]:
    """Per-cell burst onset and offset phases in the reference cell's cycle.

    A cycle runs from one onset of a ``reference`` burst to the next (complete cycles
    after ``start`` ms only; the first burst after ``start`` is skipped, as the window may
    cut it). For each cell and cycle, the bursts whose onset falls in the cycle give
    phase = (time − cycle start) / cycle length, where a burst's offset is its last spike
    (an offset phase may exceed 1 when the burst outlasts its cycle). Returns, per cell,
    the mean ``onset`` and ``offset`` phases and ``burst_length`` (ms, last spike − first)
    over those bursts, the mean number of
    ``bursts_per_cycle``, the number of ``cycles``, the mean ``period`` (ms) and its
    coefficient of variation ``period_cv`` (ddof 0). `StreamingRhythm` computes the same
    values online.

    ``gaps`` optionally fixes the burst gap (ms) per cell (see `bursts`); ``rule`` (an
    `AbstractBurstRule`, e.g. `PrinzAdaptive`) cuts every cell's bursts instead. Prinz's
    whole classification (periodicity, order in every cycle) is `pyloric_rhythm`.

    >>> import numpy as np
    >>> t = np.arange(0.0, 5000.0, 0.5)
    >>> def cell(on, off):   # spikes every 10 ms during [on, off) of each 1-s cycle
    ...     phase = t % 1000.0
    ...     return np.where((phase >= on) & (phase < off) & (phase % 10.0 < 1.0), 20.0, -60.0)
    >>> out = burst_phases(t, {"A": cell(0, 200), "B": cell(400, 600)}, reference="A")
    >>> round(out["B"]["onset"], 3), round(out["B"]["offset"], 3), out["B"]["bursts_per_cycle"]
    (0.4, 0.59, 1.0)
    """
    if reference not in traces:
        raise KeyError(f"reference cell {reference!r} not among {list(traces)}")
    gaps = gaps or {}
    groups = {}
    for name, V in traces.items():
        spikes = spike_times(ts, V, threshold)
        spikes = spikes[spikes >= start]
        if rule is not None:
            groups[name] = split_bursts(spikes, rule)
        else:
            groups[name] = bursts(spikes, gaps.get(name))
    # the first reference burst may be cut by the window start: cycles begin at the second
    ref_onsets = np.array([g[0] for g in groups[reference]])[1:]
    if ref_onsets.size < 2:
        raise ValueError(f"the reference cell {reference!r} has fewer than three bursts")
    cycles = list(zip(ref_onsets[:-1], ref_onsets[1:], strict=True))
    periods = np.diff(ref_onsets)
    out = {}
    for name, cell_groups in groups.items():
        onset_phases, offset_phases, lengths, counts = [], [], [], []
        for c0, c1 in cycles:
            inside = [g for g in cell_groups if c0 <= g[0] < c1]
            counts.append(len(inside))
            for onset, offset, _ in inside:
                onset_phases.append((onset - c0) / (c1 - c0))
                offset_phases.append((offset - c0) / (c1 - c0))
                lengths.append(offset - onset)
        out[name] = {
            "onset": _mean(onset_phases),
            "offset": _mean(offset_phases),
            "burst_length": _mean(lengths),
            "bursts_per_cycle": float(np.mean(counts)),
            "cycles": len(cycles),
            "period": float(np.mean(periods)),
            "period_cv": float(np.std(periods) / np.mean(periods)),
        }
    return out


def _mean(phases) -> float:
    return float(np.mean(phases)) if len(phases) else float("nan")


def cycle_order(phases: dict[str, dict[str, float]]) -> list[str]:
    """Cell names sorted by burst onset phase (cells that never burst are left out)."""
    bursting = [n for n, p in phases.items() if np.isfinite(p["onset"])]
    return sorted(bursting, key=lambda n: phases[n]["onset"])


def is_pyloric(
    phases: dict[str, dict[str, float]],
    ab: str = "AB/PD",
    lp: str = "LP",
    py: str = "PY",
    tolerance: float = 0.1,
) -> bool:
    """A pyloric rhythm: each of ``ab``, ``lp``, ``py`` bursts once per cycle (within
    ``tolerance`` bursts per cycle on average, inclusive), and the onsets follow
    AB/PD → LP → PY."""
    slack = tolerance * (1 + 1e-6)  # inclusive, rounding-proof (as `StreamingRhythm`)
    for name in (ab, lp, py):
        if name not in phases or abs(phases[name]["bursts_per_cycle"] - 1.0) > slack:
            return False
    return cycle_order({n: phases[n] for n in (ab, lp, py)}) == [ab, lp, py]
