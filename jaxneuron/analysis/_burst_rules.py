r"""Burst rules: where one cell's spike train is cut into bursts.

A rule gives, for the spike times of one cell in an analysis window, the inter-spike
interval threshold (ms) above which an interval separates two bursts (an inter-burst
interval, IBI); `split_bursts` applies it. Two rules:

- `FixedGap`: one threshold for every cell (the library's historical 100 ms,
  `BURST_GAP_MS`);
- `PrinzAdaptive`: a threshold per cell from its own intervals, as in the analysis of
  the Prinz, Billimoria & Marder (2003) neuron database and the Prinz, Bucher & Marder
  (2004) network database.

Where `PrinzAdaptive`'s rule comes from. The papers describe the classification in
words (Prinz et al. 2003, J Neurophysiol 90:3998, Methods: spikes, bursts, periodicity;
Prinz et al. 2004, Nat Neurosci 7:1345, Methods: the network analysis reuses it). The
step-by-step routine is summarised in the header comment of
``7_stg/model/inference/summstats.py`` in ``mackelab/IdentifyMechanisticModels_2020``
(Gonçalves et al. 2020, eLife 9:e56261), "an overview of Prinz' summary statistics
detection routine". This module re-derives from that summary (no code taken):

1. spikes are voltage maxima that overshoot 0 mV — here upward crossings of 0 mV, one
   per maximum above 0 mV; the times differ from the peaks by the spike's rise (< 1 ms),
   which cancels in intervals;
2. a cell is *tonic* when it fires more than 10 spikes in the window and its longest and
   shortest ISIs differ by less than 5 % of their mean: it has no bursts (threshold +∞);
3. a cell is *modulated tonic* when its longest interval is less than 5× its shortest
   (the summary compares inter-maximum intervals, counting sub-threshold maxima; we
   have spikes only): the threshold is 99 % of the longest ISI, so only the longest
   intervals separate bursts;
4. otherwise the threshold is 50 % of the longest ISI when that is more than twice the
   mean ISI, else the mean ISI;
5. the threshold never exceeds 0.5 s.

>>> import numpy as np
>>> spikes = np.array([0.0, 20, 150, 170, 1000, 1020, 1160, 1180, 2000.0])
>>> float(PrinzAdaptive().threshold(spikes))        # half the longest ISI (830 ms)
415.0
>>> split_bursts(spikes, PrinzAdaptive())
[(0.0, 170.0, 4), (1000.0, 1180.0, 4), (2000.0, 2000.0, 1)]
>>> len(split_bursts(spikes, FixedGap(100.0)))      # 130- and 140-ms intervals split
5
"""

from __future__ import annotations

import abc

import equinox as eqx
import numpy as np

from ._sampled import BURST_GAP_MS


class AbstractBurstRule(eqx.Module):
    """How one cell's spikes are grouped into bursts: `threshold` gives the inter-spike
    interval (ms) above which an interval separates two bursts."""

    @abc.abstractmethod
    def threshold(self, spikes: np.ndarray) -> float:
        """The IBI threshold (ms) for the sorted spike times ``spikes`` (ms) of one cell
        in the analysis window (+∞: the train has no bursts)."""


class FixedGap(AbstractBurstRule):
    """Bursts split at every interval longer than ``gap_ms`` (ms), in every cell.

    >>> FixedGap(200.0).threshold(np.array([0.0, 10.0]))
    200.0
    """

    gap_ms: float = eqx.field(static=True, default=BURST_GAP_MS)

    def __check_init__(self):
        if not self.gap_ms > 0:
            raise ValueError(f"gap_ms (burst gap) must be > 0 ms, got {self.gap_ms}")

    def threshold(self, spikes: np.ndarray) -> float:
        return float(self.gap_ms)


class PrinzAdaptive(AbstractBurstRule):
    """Prinz's per-cell adaptive ISI threshold (see the module: steps 2–5).

    **Fields** (static; defaults are Prinz's): ``max_threshold_ms`` (500: the cap),
    ``tonic_spikes`` (10: a tonic cell fires more than this), ``tonic_spread`` (0.05:
    (longest − shortest ISI) / their mean below this is tonic), ``modulated_ratio`` (5:
    longest ISI below this × the shortest is modulated tonic), ``modulated_fraction``
    (0.99), ``long_ratio`` (2: a longest ISI above this × the mean ISI is an IBI),
    ``long_fraction`` (0.5).

    >>> rule = PrinzAdaptive()
    >>> rule.threshold(np.arange(0.0, 1000.0, 25.0))           # tonic: no bursts
    inf
    >>> float(rule.threshold(np.array([0.0, 10, 20, 50, 60, 70])))  # modulated: 0.99 x 30 ms
    29.7
    >>> float(rule.threshold(np.array([0.0, 10, 20, 3000, 3010])))  # capped at 0.5 s
    500.0
    """

    max_threshold_ms: float = eqx.field(static=True, default=500.0)
    tonic_spikes: int = eqx.field(static=True, default=10)
    tonic_spread: float = eqx.field(static=True, default=0.05)
    modulated_ratio: float = eqx.field(static=True, default=5.0)
    modulated_fraction: float = eqx.field(static=True, default=0.99)
    long_ratio: float = eqx.field(static=True, default=2.0)
    long_fraction: float = eqx.field(static=True, default=0.5)

    def threshold(self, spikes: np.ndarray) -> float:
        isi = np.diff(np.asarray(spikes, dtype=float))
        if isi.size == 0:
            return float("inf")
        longest, shortest, mean = float(isi.max()), float(isi.min()), float(isi.mean())
        spread = (longest - shortest) / (0.5 * (longest + shortest))
        if len(spikes) > self.tonic_spikes and spread < self.tonic_spread:
            return float("inf")
        if longest < self.modulated_ratio * shortest:
            gap = self.modulated_fraction * longest
        elif longest > self.long_ratio * mean:
            gap = self.long_fraction * longest
        else:
            gap = mean
        return min(gap, self.max_threshold_ms)


def split_bursts(spikes, rule: AbstractBurstRule) -> list[tuple[float, float, int]]:
    """Group sorted spike times (ms) into bursts at the intervals longer than the rule's
    threshold: ``(onset, offset, spike count)`` per burst, offset the last spike."""
    spikes = np.asarray(spikes, dtype=float)
    if spikes.size == 0:
        return []
    return bursts_at(spikes, rule.threshold(spikes))


def bursts_at(spikes: np.ndarray, gap: float) -> list[tuple[float, float, int]]:
    """`split_bursts` at the threshold ``gap`` (ms): sorted float spike times."""
    if spikes.size == 0:
        return []
    starts = np.concatenate([[0], np.nonzero(np.diff(spikes) > gap)[0] + 1])
    ends = np.concatenate([starts[1:] - 1, [spikes.size - 1]])
    return [
        (float(spikes[a]), float(spikes[b]), int(b - a + 1))
        for a, b in zip(starts, ends, strict=True)
    ]
