r"""Many features of a trace from one spike detection: `features` and `feature_table`.

Every feature is computed over the window [``start``, ``end``] ms from one list of spike
times (upward crossings of ``threshold``, interpolated linearly between samples), with
the conventions stated in `FEATURES`; the names are the sweep's columns where they
coincide (`jaxneuron.sweep.FEATURE_NAMES`), with the same values on the same samples
except that a regular spike train has no bursts here. Every NaN comes with a reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._burst_rules import AbstractBurstRule, split_bursts
from ._sampled import BURST_GAP_MS, bursts, slow_wave_amplitude, spike_times

#: Feature name → definition, units and the eFEL (5.x) feature it corresponds to.
FEATURES: dict[str, str] = {
    "n_spikes": "number of spikes in the window. eFEL: Spikecount_stimint (which counts "
    "peaks above its Threshold, −20 mV by default)",
    "first_spike": "time of the first spike, ms from t = 0 (as sweeps). eFEL: "
    "time_to_first_spike + stim_start (eFEL times the peak)",
    "isi_mean": "mean inter-spike interval, ms, every interval in the window including the "
    "first. eFEL: mean of all_ISI_values (ISI_values drops the first by default)",
    "isi_cv": "standard deviation / mean of the intervals, ddof 0, first interval kept. "
    "eFEL: ISI_CV uses ddof 1 and drops the first interval by default",
    "isi_min": "shortest interval, ms",
    "isi_max": "longest interval, ms",
    "rate": "1000 / isi_mean, Hz (the steady rate)",
    "mean_frequency": "1000 · n_spikes / (last spike − start), Hz. eFEL: mean_frequency "
    "(with stim_start = start)",
    "V_min": "minimum potential in the window, mV. eFEL: minimum_voltage",
    "V_max": "maximum potential in the window, mV. eFEL: maximum_voltage",
    "V_mean": "mean of the samples in the window, mV (not time-weighted). eFEL: voltage_base "
    "is a mean before the stimulus instead",
    "n_bursts": "complete bursts: groups of spikes split at intervals longer than the "
    "burst gap, without the first group in the window and the last (either may be cut). "
    "A regular spike train (ISI CV < regularity) has none. eFEL: burst_number counts the "
    "bursts of its own detector (intervals longer than its burst factor × median)",
    "burst_period": "mean interval between the onsets (first spikes) of complete bursts, "
    "ms; needs three complete bursts, one of them of two spikes or more",
    "burst_duration": "mean first-to-last spike time of complete bursts, ms",
    "duty_cycle": "burst_duration / burst_period",
    "spikes_per_burst": "mean spike count of complete bursts",
    "interburst_interval": "burst_period − burst_duration, ms. eFEL: interburst_duration "
    "measures from peak to peak",
    "intraburst_frequency": "mean over complete bursts of (spikes − 1) · 1000 / duration, "
    "Hz. eFEL: strict_burst_mean_freq is the mean over its own bursts",
    "slow_wave_amplitude": "peak-to-trough amplitude, mV, of V clipped at the threshold and "
    "averaged over 20 ms (see `slow_wave_amplitude`)",
}

_BURST = (
    "burst_period",
    "burst_duration",
    "duty_cycle",
    "spikes_per_burst",
    "interburst_interval",
    "intraburst_frequency",
)
_ISI = ("isi_mean", "isi_cv", "isi_min", "isi_max", "rate")


@dataclasses.dataclass(frozen=True)
class Features:
    """What `features` returns.

    - ``values``: name → value (floats; ``n_spikes`` and ``n_bursts`` ints);
    - ``reasons``: name → why that value is NaN (only for the NaN values);
    - ``spike_times`` (ms) and ``isi`` (ms) in the window;
    - ``bursts``: one row per group of spikes — ``onset``, ``offset`` (ms, first and last
      spike), ``duration`` (ms), ``n_spikes``, ``frequency`` (Hz, (n − 1)·1000/duration;
      NaN for one spike), ``complete`` (used by the burst features);
    - ``start``, ``end``: the window (ms).
    """

    values: dict
    reasons: dict
    spike_times: np.ndarray
    isi: np.ndarray
    bursts: pd.DataFrame
    start: float
    end: float

    def __getitem__(self, name: str):
        return self.values[name]

    def table(self) -> pd.DataFrame:
        """The values as a one-row table."""
        return pd.DataFrame([self.values])

    def __str__(self):
        lines = [f"features over [{self.start:g}, {self.end:g}] ms:"]
        for name, value in self.values.items():
            why = f"  ({self.reasons[name]})" if name in self.reasons else ""
            lines.append(f"  {name:>22} = {value:.6g}{why}")
        return "\n".join(lines)


def _checked_names(names) -> tuple[str, ...]:
    if names is None:
        return tuple(FEATURES)
    names = (names,) if isinstance(names, str) else tuple(names)
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise KeyError(f"unknown feature(s) {unknown}; known: {list(FEATURES)}")
    return names


def features(
    ts,
    V,
    names: Sequence[str] | str | None = None,
    *,
    threshold: float = 0.0,
    start: float | None = None,
    end: float | None = None,
    burst_gap: float | AbstractBurstRule | None = BURST_GAP_MS,
    regularity: float = 0.1,
) -> Features:
    r"""Features of one trace (``names``, default all of `FEATURES`) over the window
    [``start``, ``end``] ms (default: the whole trace), from one spike detection.

    **Arguments:**

    - ``ts`` (ms), ``V`` (mV): the samples, 1-D of equal length, times increasing.
    - ``threshold`` (mV): a spike is an upward crossing, timed by linear interpolation.
    - ``burst_gap`` (ms): an interval longer than this starts a new burst (default
      `BURST_GAP_MS`, as sweeps); None: adaptive, the geometric mean of the shortest
      and longest interval (see `bursts`); an `AbstractBurstRule` (e.g.
      `PrinzAdaptive`, Prinz's per-cell threshold): the rule's threshold for this train.
    - ``regularity``: a spike train whose ISI CV is below it is regular, with no bursts.

    **Example:**

    >>> import numpy as np
    >>> t = np.arange(0.0, 5000.0, 0.1)
    >>> phase = t % 1000.0                   # 1-s cycle: 5 spikes 20 ms apart at its start
    >>> V = np.where((phase < 100) & (phase % 20 < 1), 30.0, -60.0)
    >>> f = features(t, V, ["burst_period", "spikes_per_burst", "intraburst_frequency"])
    >>> f["burst_period"], f["spikes_per_burst"], f["intraburst_frequency"]
    (1000.0, 5.0, 50.0)
    >>> tonic = features(t, 40.0 * np.sin(2 * np.pi * t / 50.0), "n_bursts")
    >>> tonic["n_bursts"], tonic.reasons.get("n_bursts")
    (0, None)
    """
    names = _checked_names(names)
    ts = np.asarray(ts, dtype=float)
    V = np.asarray(V, dtype=float)
    if ts.ndim != 1 or ts.shape != V.shape or ts.size < 2:
        raise ValueError(
            f"features: ts and V must be 1-D of equal length ≥ 2, got {ts.shape} and {V.shape}"
        )
    if np.any(np.diff(ts) <= 0):
        raise ValueError("features: ts (ms) must increase strictly")
    t0 = float(ts[0]) if start is None else float(start)
    t1 = float(ts[-1]) if end is None else float(end)
    if not t0 < t1:
        raise ValueError(f"features: start = {t0} ms must be earlier than end = {t1} ms")
    if isinstance(burst_gap, AbstractBurstRule):
        rule, burst_gap = burst_gap, None
    else:
        rule = None
    if burst_gap is not None and not burst_gap > 0:
        raise ValueError(f"burst_gap must be > 0 ms or None, got {burst_gap}")
    window = (ts >= t0) & (ts <= t1)
    if window.sum() < 2:
        raise ValueError(f"features: fewer than two samples in [{t0}, {t1}] ms")
    spikes = spike_times(ts, V, threshold)
    spikes = spikes[(spikes >= t0) & (spikes <= t1)]
    isi = np.diff(spikes)
    values: dict = {}
    reasons: dict = {}
    nan = float("nan")
    no_spikes = f"no spike (upward crossing of {threshold:g} mV) in [{t0:g}, {t1:g}] ms"
    few = f"{spikes.size} spike(s) in the window: intervals need two"

    values["n_spikes"] = int(spikes.size)
    values["first_spike"] = float(spikes[0]) if spikes.size else nan
    if not spikes.size:
        reasons["first_spike"] = no_spikes
    if isi.size:
        mean = float(np.mean(isi))
        values.update(
            isi_mean=mean,
            isi_cv=float(np.std(isi) / mean),
            isi_min=float(np.min(isi)),
            isi_max=float(np.max(isi)),
            rate=1000.0 / mean,
        )
    else:
        values.update(dict.fromkeys(_ISI, nan))
        reasons.update(dict.fromkeys(_ISI, few))
    if spikes.size and spikes[-1] > t0:
        values["mean_frequency"] = 1000.0 * spikes.size / float(spikes[-1] - t0)
    else:
        values["mean_frequency"] = nan
        reasons["mean_frequency"] = no_spikes if not spikes.size else "the only spike is at start"
    Vw = V[window]
    values.update(V_min=float(Vw.min()), V_max=float(Vw.max()), V_mean=float(Vw.mean()))

    regular = isi.size > 0 and np.std(isi) < regularity * np.mean(isi)
    if rule is not None:  # the rule decides (a tonic train: one group, no complete burst)
        groups = split_bursts(spikes, rule)
    else:
        groups = [] if regular else bursts(spikes, gap=burst_gap, regularity=regularity)
    complete = groups[1:-1]
    table = pd.DataFrame(
        {
            "onset": [g[0] for g in groups],
            "offset": [g[1] for g in groups],
            "duration": [g[1] - g[0] for g in groups],
            "n_spikes": [g[2] for g in groups],
            "complete": [0 < i < len(groups) - 1 for i in range(len(groups))],
        },
        dtype=float,
    ).astype({"n_spikes": int, "complete": bool})
    with np.errstate(divide="ignore", invalid="ignore"):
        table["frequency"] = np.where(
            table["n_spikes"] > 1, (table["n_spikes"] - 1) * 1000.0 / table["duration"], nan
        )
    values["n_bursts"] = len(complete)
    if len(complete) >= 3 and max(g[2] for g in complete) >= 2:
        done = table[table["complete"]]
        period = float(np.mean(np.diff(done["onset"])))
        duration = float(done["duration"].mean())
        values.update(
            burst_period=period,
            burst_duration=duration,
            duty_cycle=duration / period,
            spikes_per_burst=float(done["n_spikes"].mean()),
            interburst_interval=period - duration,
            intraburst_frequency=float(done["frequency"].mean()),
        )
        if not np.isfinite(values["intraburst_frequency"]):
            reasons["intraburst_frequency"] = "a complete burst has a single spike"
    else:
        values.update(dict.fromkeys(_BURST, nan))
        if regular:
            why = (
                f"regular spiking (ISI CV {np.std(isi) / np.mean(isi):.3g} < regularity "
                f"{regularity:g}): no bursts"
            )
        elif len(complete) < 3:
            why = f"{len(complete)} complete burst(s) in the window; burst features need 3"
        else:
            why = "no complete burst has two spikes"
        reasons.update(dict.fromkeys(_BURST, why))
    values["slow_wave_amplitude"] = slow_wave_amplitude(ts[window], Vw, threshold)
    if not np.isfinite(values["slow_wave_amplitude"]):
        reasons["slow_wave_amplitude"] = "fewer than two samples"
    values = {n: values[n] for n in names}
    reasons = {n: r for n, r in reasons.items() if n in values}
    return Features(
        values=values,
        reasons=reasons,
        spike_times=spikes,
        isi=isi,
        bursts=table,
        start=t0,
        end=t1,
    )


def feature_table(ts, V, names: Sequence[str] | str | None = None, **kwargs) -> pd.DataFrame:
    """`features` of several traces sampled at the same times ``ts``: ``V`` of shape
    (traces, samples); one row per trace, one column per feature, and a column
    ``reasons`` (name → why NaN, per row). ``kwargs`` go to `features`.

    >>> import numpy as np
    >>> t = np.arange(0.0, 1000.0, 0.1)
    >>> V = np.stack([40.0 * np.sin(2 * np.pi * t / p) for p in (50.0, 20.0)])
    >>> feature_table(t, V, ["n_spikes", "rate"])[["n_spikes", "rate"]].round(6).values.tolist()
    [[19.0, 20.0], [49.0, 50.0]]
    """
    V = np.asarray(V, dtype=float)
    if V.ndim != 2:
        raise ValueError(f"feature_table: V must have shape (traces, samples), got {V.shape}")
    rows = []
    for v in V:
        f = features(ts, v, names, **kwargs)
        rows.append({**f.values, "reasons": f.reasons})
    return pd.DataFrame(rows)
