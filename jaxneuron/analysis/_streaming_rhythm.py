r"""A circuit's rhythm measured online: burst phases in a reference cell's cycle.

`StreamingRhythm` turns the burst edges that `StreamingFeatures` finds in each cell's
voltage (spikes grouped into bursts at a fixed ``burst_gap``) into the quantities of
`jaxneuron.analysis.burst_phases`, with a fixed-size state per circuit:

- a **cycle** runs from one onset of a ``reference`` burst to the next; the first
  reference burst after the analysis start is skipped (the window may cut it), and the
  cycle still open at the end is not counted;
- each burst whose onset t_on falls in the cycle [c, c + P) has onset phase
  (t_on − c)/P and offset phase (t_off − c)/P, with t_off its last spike (an offset
  phase may exceed 1); a cell's phases are the arithmetic means over those bursts;
- ``bursts_per_cycle`` is the number of such bursts over the number of cycles;
- ``period`` is the mean cycle length and ``period_cv`` its coefficient of variation
  (population form, ddof 0).

The offset of a burst is known only when the burst ends, which may be after its cycle
closed: the state keeps the last closed cycle's start and length for that. A burst that
outlasts a whole further cycle leaves the cell's offset phase NaN. With these definitions
the values equal `burst_phases` with the same fixed gaps on the same samples (tested).

**With a burst rule** (``rule``, e.g. `PrinzAdaptive`: Prinz, Bucher & Marder 2004's
classification, see `PrinzRhythm`) the state is instead, per cell, a buffer of its first
``max_spikes`` spike times after the analysis start (and their count). Prinz's threshold
depends on the longest interval of the whole window, so bursts can only be cut once the
run has ended: `finish` (on the host, after the compiled loop) runs `PrinzRhythm` on the
buffered spikes — the very function that `pyloric_rhythm` runs on recorded traces, so
online equals offline by construction (tested). The bound: ``max_spikes`` (512) spikes
per cell in the analysis window, 51 Hz on average over 10 s, far above a pyloric cell's
rate; past it the network's rhythm values are NaN, ``in_order`` is False and
``rhythm_status`` says "spike buffer overflow" (counted, never a silent verdict).

>>> import jax.numpy as jnp
>>> from jaxneuron.analysis import StreamingFeatures, StreamingRhythm
>>> t = jnp.arange(0.0, 5000.0, 0.5)
>>> def cell(on, off):   # spikes every 10 ms during [on, off) of each 1-s cycle
...     phase = t % 1000.0
...     return jnp.where((phase >= on) & (phase < off) & (phase % 10.0 < 1.0), 20.0, -60.0)
>>> rhythm = StreamingRhythm(("A", "B"), features=StreamingFeatures(burst_gap=100.0))
>>> out = rhythm.run(t, [cell(0, 200), cell(400, 600)])
>>> round(float(out["B.onset_phase"]), 3), round(float(out["B.offset_phase"]), 3)
(0.4, 0.59)
>>> float(out["period"]), bool(out["in_order"])
(1000.0, True)
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ._burst_rules import AbstractBurstRule
from ._prinz_rhythm import PrinzRhythm
from ._pyloric import PyloricCriteria
from ._streaming import FeatureState, StreamingFeatures

Scalar = Float[Array, ""]


class CellRhythmState(eqx.Module):
    """The cells' part of `RhythmState`: every field has a leading axis over the cells
    of ``order`` (one row per cell), then the batch shape."""

    cycle: Int[Array, ""]  # cycle of the latest burst's onset (−1: before the first)
    running: Array  # that burst has not ended yet
    onset: Scalar  # its onset (ms)
    open_count: Int[Array, ""]  # bursts with onset in the open cycle
    open_onset: Scalar  # Σ their onset latencies (ms)
    open_offset: Scalar  # Σ offset latencies of those already ended (ms)
    open_ended: Int[Array, ""]
    open_length: Scalar  # Σ their lengths, last spike − first (ms)
    count: Int[Array, ""]  # bursts with onset in closed cycles
    onset_sum: Scalar  # Σ their onset phases
    offset_sum: Scalar  # Σ offset phases of those ended
    ended: Int[Array, ""]
    length_sum: Scalar  # Σ lengths of those ended (ms)


class RhythmState(eqx.Module):
    """The running state of `StreamingRhythm` (scalars per circuit, and one row per cell
    in ``cells``; batch with vmap, or start from a batched ``t``)."""

    start: Scalar  # start of the open cycle (NaN: none yet)
    previous: Scalar  # start of the last closed cycle
    n_cycles: Int[Array, ""]  # closed cycles
    first_period: Scalar
    period_sum: Scalar  # Σ (P − first P)
    period_sumsq: Scalar  # Σ (P − first P)²
    cells: CellRhythmState


class SpikeBuffer(eqx.Module):
    """The cells' buffered spike times (the state of `StreamingRhythm` with a rule), one
    row per cell of ``order``: ``times`` ((cells,) + batch shape + (max_spikes,), +inf
    where empty), ``count`` (spikes after the analysis start, possibly more than the
    buffer holds), ``t_last`` (the time of the latest sample: the window's end)."""

    times: Array
    count: Int[Array, ""]
    t_last: Scalar


class _Event(eqx.Module):
    new: Array  # a burst starts in this update
    onset: Array
    ends: Array  # the cell's running burst has ended
    offset: Array  # … at this last spike


def stack_cells(states: FeatureState | tuple[FeatureState, ...]) -> FeatureState:
    """The cells' feature states as one `FeatureState` whose fields have a leading axis
    over the cells: a tuple (one state per cell) is stacked, its time fields broadcast to
    the potentials' shape; a state already stacked is returned as it is."""
    if isinstance(states, FeatureState):
        return states
    shape = jnp.shape(states[0].V_prev)

    def stack(*fields):
        return jnp.stack([jnp.broadcast_to(x, shape) for x in fields])

    return jax.tree_util.tree_map(stack, *states)


def _event(features: StreamingFeatures, running, before: FeatureState, after: FeatureState):
    """The cells' burst edges in one update (one row per cell). At most one burst starts
    per update (the sweep engine checks that ``burst_gap`` exceeds an update's span). A
    running burst has ended once ``burst_gap`` passed without a spike, or when the next
    burst starts."""
    new = after.burst_index > before.burst_index
    quiet = after.t_prev - after.last_spike > features.burst_gap
    ends = running & (new | quiet)
    offset = jnp.where(new, before.last_spike, after.last_spike)
    return _Event(new, after.burst_onset, ends, offset)


class StreamingRhythm(eqx.Module):
    """Burst phases of the cells ``order`` in the cycle of ``order[0]``, online.

    **Fields** (static): ``order`` (cell names, the reference first, in the expected
    order of their burst onsets), ``features`` (the `StreamingFeatures` that find each
    cell's spikes and bursts: threshold, analysis start, burst gap), ``tolerance`` (how
    far the mean number of bursts per cycle may be from 1 for `in_order`), ``criteria``
    (a `PyloricCriteria` whose columns are added to the summary, or None), ``rule``
    (None: the streaming fixed-gap analysis above, with ``features.burst_gap``; an
    `AbstractBurstRule`: `PrinzRhythm` with that rule on buffered spike times, see the
    module), ``max_spikes`` (the buffer's size per cell, with a rule).

    `summary` gives ``period`` (ms), ``period_cv``, ``cycles`` and per cell
    ``<cell>.onset_phase``, ``<cell>.offset_phase``, ``<cell>.bursts_per_cycle``, plus
    ``in_order``: every cell bursts once per cycle (within ``tolerance``) and the mean
    onset phases increase along ``order`` — for ``("AB/PD", "LP", "PY")`` the
    pyloric-like rhythm of `jaxneuron.analysis.is_pyloric`. With a rule, ``in_order``
    is `PrinzRhythm`'s verdict (every cycle in order) and the summary adds
    ``rhythm_status`` and each cell's ``<cell>.spike_times`` (an array per network).
    """

    order: tuple[str, ...] = eqx.field(static=True, default=("AB/PD", "LP", "PY"))
    features: StreamingFeatures = eqx.field(static=True, default=StreamingFeatures())
    tolerance: float = eqx.field(static=True, default=0.1)
    criteria: PyloricCriteria | None = eqx.field(static=True, default=None)
    rule: AbstractBurstRule | None = eqx.field(static=True, default=None)
    max_spikes: int = eqx.field(static=True, default=512)

    def __check_init__(self):
        if not self.max_spikes >= 1:
            raise ValueError(f"max_spikes (spike buffer) must be >= 1, got {self.max_spikes}")
        if len(self.order) < 2 or len(set(self.order)) != len(self.order):
            raise ValueError(f"order must name two or more distinct cells, got {self.order}")
        if not self.tolerance >= 0:
            raise ValueError(f"tolerance (bursts per cycle) must be >= 0, got {self.tolerance}")

    @property
    def buffered(self) -> bool:
        """Whether the rhythm is classified from buffered spike times (a ``rule``)."""
        return self.rule is not None

    @property
    def prinz(self) -> PrinzRhythm:
        """The `PrinzRhythm` that `finish` runs (with a rule)."""
        return PrinzRhythm(order=self.order, rule=self.rule)

    def init(self, t) -> RhythmState | SpikeBuffer:
        """The state before any burst; ``t`` fixes the time dtype and the batch shape."""
        t = jnp.asarray(t)
        rows = (len(self.order), *t.shape)
        if self.buffered:
            return SpikeBuffer(
                times=jnp.full((*rows, self.max_spikes), jnp.inf, t.dtype),
                count=jnp.zeros(rows, jnp.int32),
                t_last=jnp.broadcast_to(t, rows),
            )

        def full(value, kind=None, shape=t.shape):
            return jnp.full(shape, value, t.dtype if kind is None else kind)

        def cells(value, kind=None):
            return full(value, kind, rows)

        cell = CellRhythmState(
            cycle=cells(-1, jnp.int32),
            running=cells(False, bool),
            onset=cells(jnp.nan),
            open_count=cells(0, jnp.int32),
            open_onset=cells(0.0),
            open_offset=cells(0.0),
            open_ended=cells(0, jnp.int32),
            open_length=cells(0.0),
            count=cells(0, jnp.int32),
            onset_sum=cells(0.0),
            offset_sum=cells(0.0),
            ended=cells(0, jnp.int32),
            length_sum=cells(0.0),
        )
        return RhythmState(
            start=full(jnp.nan),
            previous=full(jnp.nan),
            n_cycles=full(0, jnp.int32),
            first_period=full(jnp.nan),
            period_sum=full(0.0),
            period_sumsq=full(0.0),
            cells=cell,
        )

    def update(
        self,
        state: RhythmState | SpikeBuffer,
        before: FeatureState | tuple[FeatureState, ...],
        after: FeatureState | tuple[FeatureState, ...],
    ) -> RhythmState | SpikeBuffer:
        """The state after the cells' feature states went from ``before`` to ``after``
        (`StreamingFeatures.update_many` on each cell of ``order``: one state per cell, or
        one stacked state, see `stack_cells`), during which each cell started at most one
        burst. Bursts that start before a new reference onset in the same update belong to
        the closing cycle, the others to the new one. With a rule: each cell's new spike
        goes to its buffer. Every cell is updated at once (a row each)."""
        before, after = stack_cells(before), stack_cells(after)
        if self.buffered:
            return _buffered(self.max_spikes, state, before, after)
        event = _event(self.features, state.cells.running, before, after)
        onset = event.onset[0]  # the reference's
        opens = event.new[0] & (after.burst_index[0] >= 1)
        # a burst that ends here ended more than burst_gap before now and before any new
        # onset, so before any reference onset in this update: it goes to its cycle first
        state = self._end(state, event, event.ends)
        later = opens & (event.onset >= onset)
        state = self._start(state, event, event.new & ~later)
        state = self._new_cycle(state, opens, onset)
        return self._start(state, event, event.new & later)

    @staticmethod
    def _end(state: RhythmState, event: _Event, mask) -> RhythmState:
        """The cells' current bursts ended at ``event.offset`` where ``mask``: each
        offset goes to the cycle of its onset (the open one or the last closed one)."""
        cell = state.cells
        in_open = mask & (cell.cycle >= 0) & (cell.cycle == state.n_cycles)
        in_last = mask & (cell.cycle >= 0) & (cell.cycle == state.n_cycles - 1)
        last_phase = (event.offset - state.previous) / (state.start - state.previous)
        length = event.offset - cell.onset
        cell = dataclasses.replace(
            cell,
            running=cell.running & ~mask,
            open_offset=cell.open_offset + jnp.where(in_open, event.offset - state.start, 0.0),
            open_ended=cell.open_ended + in_open,
            open_length=cell.open_length + jnp.where(in_open, length, 0.0),
            offset_sum=cell.offset_sum + jnp.where(in_last, last_phase, 0.0),
            ended=cell.ended + in_last,
            length_sum=cell.length_sum + jnp.where(in_last, length, 0.0),
        )
        return dataclasses.replace(state, cells=cell)

    @staticmethod
    def _start(state: RhythmState, event: _Event, mask) -> RhythmState:
        """Bursts of the cells start at ``event.onset`` where ``mask``, in the open cycle
        if any."""
        cell = state.cells
        counted = mask & jnp.isfinite(state.start)
        latency = event.onset - state.start
        cell = dataclasses.replace(
            cell,
            cycle=jnp.where(mask, jnp.where(counted, state.n_cycles, -1), cell.cycle),
            running=cell.running | mask,
            onset=jnp.where(mask, event.onset, cell.onset),
            open_count=cell.open_count + counted,
            open_onset=cell.open_onset + jnp.where(counted, latency, 0.0),
        )
        return dataclasses.replace(state, cells=cell)

    @staticmethod
    def _new_cycle(state: RhythmState, opens, onset) -> RhythmState:
        closes = opens & jnp.isfinite(state.start)
        period = onset - state.start
        first = jnp.where(closes & (state.n_cycles == 0), period, state.first_period)
        shifted = jnp.where(closes, period - first, 0.0)

        def close(cell: CellRhythmState) -> CellRhythmState:
            def moved(closed, open_):
                return jnp.where(closes, closed + open_, closed)

            return dataclasses.replace(
                cell,
                open_count=jnp.where(opens, 0, cell.open_count),
                open_onset=jnp.where(opens, 0.0, cell.open_onset),
                open_offset=jnp.where(opens, 0.0, cell.open_offset),
                open_ended=jnp.where(opens, 0, cell.open_ended),
                open_length=jnp.where(opens, 0.0, cell.open_length),
                count=moved(cell.count, cell.open_count),
                onset_sum=moved(cell.onset_sum, cell.open_onset / period),
                offset_sum=moved(cell.offset_sum, cell.open_offset / period),
                ended=moved(cell.ended, cell.open_ended),
                length_sum=moved(cell.length_sum, cell.open_length),
            )

        return dataclasses.replace(
            state,
            start=jnp.where(opens, onset, state.start),
            previous=jnp.where(closes, state.start, state.previous),
            n_cycles=state.n_cycles + closes,
            first_period=first,
            period_sum=state.period_sum + shifted,
            period_sumsq=state.period_sumsq + shifted * shifted,
            cells=close(state.cells),
        )

    def summary(
        self,
        state: RhythmState | SpikeBuffer,
        features: FeatureState | tuple[FeatureState, ...],
    ) -> dict[str, Array]:
        """The rhythm's values (see the class) from the final state and the cells' final
        feature states (one per cell, or stacked; a burst still running at the end ends at
        its last spike). With a rule: the buffers, ``<cell>.spike_buffer``,
        ``<cell>.spike_count`` and ``rhythm_end``, for `finish`."""
        if self.buffered:
            out = {}
            for i, name in enumerate(self.order):
                out[f"{name}.spike_buffer"] = state.times[i]
                out[f"{name}.spike_count"] = state.count[i]
            out["rhythm_end"] = state.t_last[0]
            return out
        last_spike = stack_cells(features).last_spike
        n = state.n_cycles
        safe_n = jnp.maximum(n, 1)
        has_cycles = n > 0
        mean_shift = state.period_sum / safe_n
        period = state.first_period + mean_shift
        variance = jnp.maximum(state.period_sumsq / safe_n - mean_shift**2, 0.0)
        out = {
            "period": jnp.where(has_cycles, period, jnp.nan),
            "period_cv": jnp.where(has_cycles, jnp.sqrt(variance) / period, jnp.nan),
            "cycles": n,
        }
        in_order = has_cycles
        previous_onset = None
        last_period = state.start - state.previous
        for i, name in enumerate(self.order):
            cell = jax.tree_util.tree_map(lambda x: x[i], state.cells)  # noqa: B023
            running = cell.running & (cell.cycle == n - 1)
            tail = (last_spike[i] - state.previous) / last_period
            offset_sum = cell.offset_sum + jnp.where(running, tail, 0.0)
            length_sum = cell.length_sum + jnp.where(running, last_spike[i] - cell.onset, 0.0)
            ended = cell.ended + running
            safe_count = jnp.maximum(cell.count, 1)
            counted = cell.count > 0
            onset = jnp.where(counted, cell.onset_sum / safe_count, jnp.nan)
            complete = counted & (ended == cell.count)
            out[f"{name}.onset_phase"] = onset
            out[f"{name}.offset_phase"] = jnp.where(complete, offset_sum / safe_count, jnp.nan)
            out[f"{name}.burst_length"] = jnp.where(complete, length_sum / safe_count, jnp.nan)
            per_cycle = cell.count.astype(period.dtype) / safe_n
            out[f"{name}.bursts_per_cycle"] = jnp.where(has_cycles, per_cycle, jnp.nan)
            slack = self.tolerance * safe_n * (1 + 1e-6)  # inclusive, rounding-proof
            in_order = in_order & (jnp.abs(cell.count - n) <= slack)
            if previous_onset is not None:
                in_order = in_order & (onset > previous_onset)
            previous_onset = onset
        out["in_order"] = in_order
        if self.criteria is not None:
            out.update(self.criteria(out))
        return out

    def finish(self, outputs: dict) -> dict:
        """The final values from `summary`'s (batched) outputs: with a rule, `PrinzRhythm`
        on each network's buffered spikes (NumPy, on the host; a negative count marks a
        failed integration), the criteria, and ``<cell>.spike_times``; without, the
        outputs unchanged."""
        if not self.buffered:
            return outputs
        outputs = dict(outputs)
        buffers = {c: np.asarray(outputs.pop(f"{c}.spike_buffer")) for c in self.order}
        counts = {c: np.asarray(outputs.pop(f"{c}.spike_count")) for c in self.order}
        end = np.asarray(outputs.pop("rhythm_end"), dtype=float)
        shape = end.shape
        prinz, start = self.prinz, float(self.features.start)
        keys, classify = prinz.keys(), prinz.classifier()
        columns = {k: np.empty(shape, object) for k in (*keys, *self._spike_keys())}
        for i in np.ndindex(shape):
            spikes = {}
            for c in self.order:
                times = buffers[c][i][: max(int(counts[c][i]), 0)].astype(float)
                spikes[c] = times[np.isfinite(times)]
                columns[f"{c}.spike_times"][i] = spikes[c]
            if any(counts[c][i] < 0 for c in self.order) or not np.isfinite(end[i]):
                values = _blank(keys, "integration failed")
            elif any(counts[c][i] > self.max_spikes for c in self.order):
                over = [c for c in self.order if counts[c][i] > self.max_spikes]
                values = _blank(keys, f"spike buffer overflow ({', '.join(over)}: more "
                                f"than {self.max_spikes} spikes)")  # fmt: skip
            else:
                values = classify(spikes, start, float(end[i]))
            for k in keys:
                columns[k][i] = values[k]
        for k in keys:
            if k == "cycles":
                columns[k] = columns[k].astype(np.int32)
            elif k == "in_order":
                columns[k] = columns[k].astype(bool)
            elif k != "rhythm_status":
                columns[k] = columns[k].astype(float)
        if self.criteria is not None:
            judged = self.criteria(columns)
            columns.update({k: np.asarray(v) for k, v in judged.items()})
        if not shape:  # one network: scalars
            columns = {k: v[()] for k, v in columns.items()}
        outputs.update(columns)
        return outputs

    def _spike_keys(self) -> tuple[str, ...]:
        return tuple(f"{c}.spike_times" for c in self.order)

    def names(self) -> tuple[str, ...]:
        """The keys of `finish` (of `summary` without a rule), in order."""
        if self.buffered:
            keys = list(self.prinz.keys()) + list(self._spike_keys())
            if self.criteria is not None:
                keys += ["pyloric." + c.name for c in self.criteria.criteria]
                keys += ["criteria_met", "pyloric_like", "pyloric"]
            return tuple(keys)
        keys = []

        def summary(t):
            cells = self.features.init(t, jnp.broadcast_to(t, (len(self.order),)))
            out = self.summary(self.init(t), cells)
            keys.extend(out)
            return out

        jax.eval_shape(summary, jnp.zeros(()))  # traced abstractly: nothing runs
        return tuple(keys)

    def run(self, ts, voltages) -> dict[str, Array]:
        """`summary` of sampled traces (1-D ``ts``; ``voltages`` one 1-D trace per cell of
        ``order``), fed sample by sample: the jit-able form of `burst_phases`. With a
        rule, `finish` of it (not jit-able: call it outside `jax.jit`)."""
        if self.buffered:
            return self.finish(_scan_compiled(self, ts, voltages))
        return self._scan(ts, voltages)

    def _scan(self, ts, voltages) -> dict[str, Array]:
        ts = jnp.asarray(ts)
        Vs = jnp.stack([jnp.asarray(V) for V in voltages], axis=-1)
        if Vs.shape[-1] != len(self.order):
            raise ValueError(
                f"expected {len(self.order)} traces ({self.order}), got {Vs.shape[-1]}"
            )
        features = self.features

        def step(carry, tv):
            rhythm, cells = carry
            t, V = tv
            after = features.update(cells, t, V)  # every cell at once, a row each
            return (self.update(rhythm, cells, after), after), None

        cells = features.init(ts[0], Vs[0])
        (rhythm, cells), _ = jax.lax.scan(step, (self.init(ts[0]), cells), (ts[1:], Vs[1:]))
        return self.summary(rhythm, cells)


def _buffered(size: int, buffer: SpikeBuffer, before: FeatureState, after: FeatureState):
    """The buffers after one update (the cells' stacked states): each cell's newest spike
    (if any) in its next slot."""
    spiked = after.n_spikes > before.n_spikes
    slot = jnp.clip(before.n_spikes, 0, size - 1)
    times = buffer.times.reshape(-1, size)
    rows = jnp.arange(times.shape[0])
    flat_slot = slot.reshape(-1)
    keep = times[rows, flat_slot]
    write = (spiked & (before.n_spikes < size)).reshape(-1)
    new = jnp.where(write, after.last_spike.reshape(-1).astype(times.dtype), keep)
    times = times.at[rows, flat_slot].set(new).reshape(buffer.times.shape)
    t_last = jnp.broadcast_to(after.t_prev, buffer.t_last.shape).astype(times.dtype)
    return SpikeBuffer(times=times, count=after.n_spikes, t_last=t_last)


def _blank(keys, status: str) -> dict:
    out = dict.fromkeys(keys, float("nan"))
    out.update(cycles=0, in_order=False, rhythm_status=status)
    return out


@eqx.filter_jit
def _scan_compiled(rhythm: StreamingRhythm, ts, voltages):
    return rhythm._scan(ts, voltages)
