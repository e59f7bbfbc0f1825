"""Analysis: exact features of sampled traces, their streaming forms, differentiable
surrogates, and circuit rhythms.

- many features at once, from one spike detection, with a reason for every NaN:
  `features` (one trace → `Features`: values, per-burst and per-ISI arrays) and
  `feature_table` (traces → a pandas table); `FEATURES` states each convention and its
  eFEL counterpart;
- exact (NumPy, eager): `spike_times`, `spike_peaks`, `prominent_spike_times`, `firing_rate`,
  `isi_statistics`, `bursts`, `burst_metrics`, `slow_wave_amplitude`, `classify`, `fi_curve`;
- jit/vmap-friendly: `spike_times_padded`, `StreamingFeatures` (a fixed-size state updated
  each step, equal to the exact features on the same samples; `StreamingFeatures.run`
  is also the jit-able form of the exact features over a stored trace);
- differentiable: `soft_spike_count`, `soft_firing_rate`, `smooth_frequency`,
  `smooth_period`, `smooth_burst_period`, `soft_duty_cycle`, `voltage_histogram`, and for
  phases `smooth_phase_lag`, `soft_burst_edges`, `soft_edge_phase`, `soft_onset_period`;
- circuits: `burst_phases`, `cycle_order`, `is_pyloric`, and online `StreamingRhythm`
  (the same phases from a fixed-size state, as the sweep engine measures them);
  burst rules `FixedGap` and `PrinzAdaptive` (`split_bursts`), and Prinz, Bucher &
  Marder (2004)'s classification `PrinzRhythm` (offline on traces: `pyloric_rhythm`;
  online: `StreamingRhythm(rule=PrinzAdaptive())`);
  `PyloricCriteria` and `PYLORIC_2004_CRITERIA`: pyloric-like and the 15 criteria of the
  biological rhythm (Prinz, Bucher & Marder 2004).
"""

from ._burst_rules import AbstractBurstRule, FixedGap, PrinzAdaptive, split_bursts
from ._features import FEATURES, Features, feature_table, features
from ._fi import fi_curve
from ._prinz_rhythm import PrinzRhythm, pyloric_rhythm
from ._pyloric import PYLORIC_2004_CRITERIA, Criterion, PyloricCriteria
from ._rhythm import burst_phases, cycle_order, is_pyloric
from ._sampled import (
    ACTIVITY_CLASSES,
    BURST_GAP_MS,
    burst_metrics,
    bursts,
    classify,
    firing_rate,
    isi_statistics,
    prominent_spike_times,
    slow_wave_amplitude,
    spike_peaks,
    spike_times,
)
from ._streaming import FeatureState, StreamingFeatures, spike_times_padded
from ._streaming_rhythm import CellRhythmState, RhythmState, SpikeBuffer, StreamingRhythm
from ._surrogates import (
    moving_average,
    smooth_burst_period,
    smooth_frequency,
    smooth_period,
    smooth_phase_lag,
    soft_burst_edges,
    soft_duty_cycle,
    soft_edge_phase,
    soft_firing_rate,
    soft_onset_period,
    soft_spike_count,
    voltage_histogram,
)

__all__ = [
    "features",
    "feature_table",
    "Features",
    "FEATURES",
    "ACTIVITY_CLASSES",
    "BURST_GAP_MS",
    "spike_times",
    "spike_peaks",
    "prominent_spike_times",
    "firing_rate",
    "isi_statistics",
    "bursts",
    "burst_metrics",
    "slow_wave_amplitude",
    "classify",
    "fi_curve",
    "spike_times_padded",
    "StreamingFeatures",
    "FeatureState",
    "soft_spike_count",
    "soft_firing_rate",
    "smooth_frequency",
    "smooth_period",
    "soft_duty_cycle",
    "voltage_histogram",
    "moving_average",
    "smooth_burst_period",
    "smooth_phase_lag",
    "soft_burst_edges",
    "soft_edge_phase",
    "soft_onset_period",
    "burst_phases",
    "cycle_order",
    "is_pyloric",
    "StreamingRhythm",
    "RhythmState",
    "CellRhythmState",
    "SpikeBuffer",
    "AbstractBurstRule",
    "FixedGap",
    "PrinzAdaptive",
    "split_bursts",
    "PrinzRhythm",
    "pyloric_rhythm",
    "PyloricCriteria",
    "PYLORIC_2004_CRITERIA",
    "Criterion",
]
