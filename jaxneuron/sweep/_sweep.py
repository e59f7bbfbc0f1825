r"""`sweep`: run a model over a parameter space, chunk by chunk, into a dataset."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from .._validation import check_finite, check_nonnegative, check_positive
from ..analysis import ACTIVITY_CLASSES, BURST_GAP_MS, StreamingFeatures, StreamingRhythm
from ..integrate import steps_in, time_grid
from ..neurons import as_dtype
from ..parameters import get_parameter
from ._engine import Engine, class_names, initial_values, unroll_for_work
from ._pallas import pallas_unsupported_reason, run_pallas_on
from ._space import ParameterSpace, check_in_domain
from ._store import SweepStore, model_fingerprint


@dataclasses.dataclass
class SweepResult:
    """What a sweep produced.

    **Attributes:** ``table`` (a pandas DataFrame, one row per model: ``model_id``, the
    space's labels, the swept parameters, every feature, ``class`` and ``status`` —
    ``"ok"`` or ``"failed"`` where the integration produced NaN/inf), ``traces``
    (model_id → array (n_samples, n_states) for the recorded models, sampled every
    ``record_every`` ms from t = 0), ``state_names``, ``path`` (the dataset directory or
    None), ``complete`` (every chunk present), ``seconds`` and ``models_run`` (this call).
    """

    table: object
    traces: dict[int, np.ndarray]
    state_names: tuple[str, ...]
    record_every: float
    path: Path | None
    complete: bool
    seconds: float
    models_run: int

    def class_fractions(self, cell: str | None = None) -> dict[str, float]:
        """Fraction of the models in each class (``failed`` included when present); for a
        circuit, of one ``cell``'s classes (its ``"<cell>.class"`` column)."""
        column = "class" if cell is None else f"{cell}.class"
        if column not in self.table:
            cells = [c[: -len(".class")] for c in self.table.columns if c.endswith(".class")]
            raise KeyError(
                f"this sweep has no column {column!r}"
                + (f"; it is a circuit: name a cell, one of {cells}" if cells else "")
            )
        counts = self.table[column].value_counts()
        total = max(len(self.table), 1)
        names = ACTIVITY_CLASSES + (("failed",) if "failed" in counts else ())
        return {c: float(counts.get(c, 0)) / total for c in names}

    def fraction(self, column: str, confidence: float = 0.95) -> tuple[float, float, float]:
        """The fraction of models where the boolean ``column`` holds (e.g.
        ``"pyloric_like"`` of a sweep with a rhythm), with its Wilson score interval at
        ``confidence``: ``(fraction, low, high)``.

        >>> import pandas as pd
        >>> result = SweepResult(pd.DataFrame({"x": [True] * 20 + [False] * 80}), {}, (),
        ...                      1.0, None, True, 0.0, 0)
        >>> [round(v, 3) for v in result.fraction("x")]
        [0.2, 0.133, 0.289]
        """
        if column not in self.table:
            raise KeyError(f"this sweep has no column {column!r}")
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
        values = self.table[column].to_numpy().astype(bool)
        n, k = len(values), int(values.sum())
        if n == 0:
            return float("nan"), float("nan"), float("nan")
        z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return p, centre - half, centre + half

    @classmethod
    def load(cls, path) -> SweepResult:
        """Open a sweep directory written by `sweep` (finished or not)."""
        store = SweepStore(path)
        store.attach()
        meta = store.meta
        return cls(
            table=store.read_table(),
            traces=store.read_traces(),
            state_names=tuple(meta["state_names"]),
            record_every=meta["record_every"],
            path=Path(path),
            complete=len(store.done()) == meta["n_chunks"],
            seconds=0.0,
            models_run=0,
        )


@functools.singledispatch
def sweep(
    model,
    space: ParameterSpace,
    *,
    t1: float,
    dt: float = 0.025,
    start: float | None = None,
    threshold: float = 0.0,
    burst_gap: float = BURST_GAP_MS,
    regularity: float = 0.1,
    rhythm: StreamingRhythm | None = None,
    dtype=jnp.float32,
    path=None,
    chunk_size: int | None = None,
    record: Sequence[int] = (),
    record_every: float = 1.0,
    devices=None,
    kernel: str = "xla",
    progress: bool = True,
    overwrite: bool = False,
    callback: Callable[[int, object], None] | None = None,
    y0: Mapping[str, float] | None = None,
) -> SweepResult:
    r"""Simulate ``model`` for every parameter set of ``space`` and reduce each run to
    features and an activity class, online (no trace is stored unless recorded).

    **Arguments:**

    - ``model``: a neuron or circuit; parameters not in ``space`` keep its values. A
      `jaxneuron.PopulationNetwork` runs on `sweep_populations`, which ``sweep`` calls
      with the same arguments (see its options there).
    - ``space``: a `Grid`, `Random`, `Table` or `PrinzDatabase` over parameter names
      (see `jaxneuron.parameters`).
    - ``t1`` (ms): simulated time of each model from its ``initial_state()`` at t = 0.
    - ``dt`` (ms): exponential-Euler step (0.025 ms keeps Prinz burst periods within
      ~0.1% of a converged solution).
    - ``start`` (ms): features and classes use t ≥ ``start``; default ``t1 / 2`` (the
      first half is a transient).
    - ``threshold`` (mV), ``burst_gap`` (ms), ``regularity``: spike threshold, the
      inter-spike interval that splits bursts, and the coefficient of variation below
      which intervals count as regular (see `StreamingFeatures.classify`).
    - ``rhythm``: for a circuit, a `StreamingRhythm` over its cells (burst phases in a
      reference cell's cycle, and with ``criteria`` the pyloric flags), measured in the
      same loop and added as columns. Its ``features`` are replaced by the sweep's
      (``threshold``, ``start``, ``burst_gap``). With a ``rule`` (e.g.
      `jaxneuron.analysis.PrinzAdaptive`: Prinz et al. 2004's classification) each cell's
      spike times are buffered in the loop and classified after each chunk; the table
      then also holds ``rhythm_status`` and ``<cell>.spike_times``.
    - ``dtype``: float32 (the default: what GPUs are fast at) or float64. A few percent of
      the Prinz database models have a class that float32 cannot settle: their fate hangs
      on perturbations of float32's rounding size, mostly slow passages through a
      bifurcation (``scripts/validate_engine.py --noise`` measures it; the README gives
      the numbers). Use float64 where those models matter.
    - ``path``: a directory for the dataset (Parquet parts, one per chunk; see the README).
      If it holds this same sweep, finished chunks are kept and only the missing ones run.
    - ``chunk_size``: models per compiled call, the unit of resume. Default: the stored one
      when ``path`` holds this sweep, else 2²⁰ on a GPU/TPU (a few hundred bytes of state per
      model; enough threads to fill the card), 2¹⁴ on CPU.
    - ``record``: indices into ``space`` of models whose full state is kept every
      ``record_every`` ms.
    - ``devices``: devices to shard each chunk over (default: all local devices). With
      several processes (`jax.distributed.initialize`), process p runs chunks
      p, p + P, p + 2P … into the same ``path``.
    - ``kernel``: ``"xla"`` (the jitted JAX loop; every model and circuit) or
      ``"pallas"`` (one Pallas kernel per device with the whole time loop on chip; single
      neurons with scalar parameters; chunks with recorded models use ``"xla"``; on CPU it
      runs in Pallas' interpreter, slowly).
    - ``progress``: a tqdm bar counting models (its rate is models per second).
    - ``overwrite``: discard a different (or this same) sweep found at ``path``.
    - ``callback``: called as ``callback(chunk_index, table_part)`` after each chunk.
    - ``y0``: initial values of chosen states, the same in every model: state name or
      shell-style pattern → value in the state's unit (mV, µM, gates and synaptic
      activations dimensionless), e.g. ``{"*.s": 0.0, "*.V": -50.0}`` for a circuit
      whose synapses start closed. Other states start at the model's
      ``initial_state()`` (gates at steady state for its ``V0``). Recorded in the
      dataset's identity.
    """
    if chunk_size is None and path is not None:
        stored = SweepStore(path).read_meta() if Path(path).is_dir() else None
        chunk_size = None if stored is None else stored.get("chunk_size")
    settings = _Settings.checked(
        model, space, t1=t1, dt=dt, start=start, threshold=threshold, burst_gap=burst_gap,
        regularity=regularity, rhythm=rhythm, dtype=dtype, chunk_size=chunk_size,
        record=record, record_every=record_every, kernel=kernel, y0=y0,
    )  # fmt: skip
    check_table_fits(space, settings.n_models, extra_columns=len(StreamingFeatures.names()))
    engine = settings.engine(model, space.names)
    store = _open_store(path, model, space, settings, overwrite)
    run_chunk = _chunk_runner(engine, settings, devices)
    return _collect(space, settings, store, run_chunk, progress, callback,
                    tuple(model.state_names), settings.record_every)  # fmt: skip


def check_table_fits(space: ParameterSpace, n_models: int, extra_columns: int) -> None:
    """Refuse, in one line and before anything runs, a sweep whose table (one row per
    model: ``model_id``, the space's labels and parameters, ``extra_columns`` results, class
    and status — 8 bytes each at least) could not fit in this machine's memory."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return  # no way to tell on this system
    columns = 1 + len(space.labels(0, 1)) + len(space.names) + extra_columns + 2
    needed = 8 * columns * n_models
    if needed > memory:
        raise MemoryError(
            f"a sweep of {n_models:,} models makes a table of at least {needed / 1e9:,.0f} GB "
            f"({columns} columns of 8 bytes per model), more than this machine's "
            f"{memory / 1e9:.0f} GB of memory; sweep fewer models per call"
        )


def _collect(space, settings, store, run_chunk, progress, callback, state_names, record_every):
    """Run the missing chunks (`_run_chunks`) and gather them into a `SweepResult`: from
    the dataset when there is one, else from the tables in memory."""
    try:
        done = set() if store is None else store.done()
        began = time.perf_counter()
        parts, traces, models_run = _run_chunks(
            space, settings, store, done, run_chunk, progress, callback
        )
        seconds = time.perf_counter() - began
        if store is not None:
            result = SweepResult.load(store.path)
            return dataclasses.replace(result, seconds=seconds, models_run=models_run)
    finally:
        if store is not None:
            store.close()  # the directory is this run's until it ends
    import pandas as pd

    return SweepResult(
        table=pd.concat(parts, ignore_index=True) if parts else None,
        traces=traces,
        state_names=state_names,
        record_every=record_every,
        path=None,
        complete=jax.process_count() == 1,
        seconds=seconds,
        models_run=models_run,
    )


# ---- the steps of a sweep ---------------------------------------------------------------


class _Chunking:
    """The chunks of a sweep of ``n_models`` in chunks of ``chunk_size``."""

    n_models: int
    chunk_size: int

    @property
    def n_chunks(self) -> int:
        return -(-self.n_models // self.chunk_size)

    def chunk(self, c: int) -> tuple[int, int]:
        """Indices a … b−1 of chunk ``c``."""
        return c * self.chunk_size, min((c + 1) * self.chunk_size, self.n_models)


@dataclasses.dataclass(frozen=True)
class _Settings(_Chunking):
    """A sweep's checked arguments (see `sweep`)."""

    t1: float
    dt: float
    start: float
    threshold: float
    burst_gap: float
    regularity: float
    rhythm: StreamingRhythm | None
    dtype: jnp.dtype
    chunk_size: int
    n_models: int
    record: tuple[int, ...]
    record_every: float
    kernel: str
    initial: tuple[tuple[str, float], ...] = ()

    @classmethod
    def checked(cls, model, space, *, t1, dt, start, threshold, burst_gap, regularity, rhythm,
                dtype, chunk_size, record, record_every, kernel, y0=None) -> _Settings:  # fmt: skip
        t1, dt = float(t1), float(dt)
        check_positive("t1 (simulated time)", t1, "ms")
        check_positive("dt (fixed step)", dt, "ms")
        start = t1 / 2 if start is None else float(start)
        check_nonnegative("start (analysis start)", start, "ms")
        if start >= t1:
            raise ValueError(f"start ({start} ms) must be before t1 ({t1} ms)")
        check_finite("threshold (spike threshold)", threshold, "mV")
        check_positive("burst_gap (inter-burst interval)", burst_gap, "ms")
        check_positive("regularity (coefficient of variation)", regularity, "")
        if chunk_size is None:
            chunk_size = 2**14 if jax.default_backend() == "cpu" else 2**20
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be >= 1 model, got {chunk_size}")
        for name in space.names:
            get_parameter(model, name)  # unknown names fail here, before any compilation
        check_in_domain(model, space)  # so do values outside a parameter's domain
        n = len(space)
        record = tuple(sorted({int(i) for i in record}))
        if record and not (0 <= record[0] and record[-1] < n):
            raise ValueError(f"record indices must lie in 0 … {n - 1}, got {record}")
        dtype = jnp.dtype(dtype)
        if dtype == jnp.float64 and not jax.config.jax_enable_x64:
            raise ValueError(
                "dtype float64 needs jax.config.update('jax_enable_x64', True) before any "
                "computation"
            )
        if kernel not in ("xla", "pallas"):
            raise ValueError(f"kernel must be 'xla' or 'pallas', got {kernel!r}")
        if rhythm is not None and not isinstance(rhythm, StreamingRhythm):
            raise TypeError(f"rhythm must be a StreamingRhythm, got {type(rhythm).__name__}")
        if kernel == "pallas":
            reason = pallas_unsupported_reason(model)
            if rhythm is not None:
                reason = reason or "the Pallas kernel does not measure rhythms"
            if reason:
                raise ValueError(reason + "; use kernel='xla'")
        settings = cls(
            t1, dt, start, float(threshold), float(burst_gap), float(regularity), rhythm, dtype,
            min(int(chunk_size), n),  # a short last chunk is padded to this size
            n, record, float(record_every), kernel, initial_values(model, y0),
        )  # fmt: skip
        time_grid(0.0, t1, save_every=None, dt=dt, whole_steps=True)  # steps: whole, countable
        if record:
            steps_in(settings.record_every, dt, "record_every (trace sampling interval)")
        return settings

    def engine(self, model, names) -> Engine:
        features = StreamingFeatures(
            threshold=self.threshold, start=self.start, burst_gap=self.burst_gap
        )
        return Engine(
            as_dtype(model, self.dtype),
            tuple(names),
            self.t1,
            self.dt,
            features=features,
            regularity=self.regularity,
            record_every=self.record_every,
            rhythm=None if self.rhythm is None else self.rhythm_with(features),
            initial=self.initial,
            unroll=unroll_for_work(self.n_models * steps_in(self.t1, self.dt, "t1")),
        )

    def rhythm_with(self, features) -> StreamingRhythm:
        return dataclasses.replace(self.rhythm, features=features)

    def metadata(self, model, space) -> dict:
        """What `sweep.json` records: equal metadata mean the same sweep."""
        return (
            {
                "model": model_fingerprint(model),
                "model_name": model.name,
                "space": space.describe(),
                "names": list(space.names),
                "state_names": list(model.state_names),
                "initial_state": _initial_state(model) | dict(self.initial),
                "t1": self.t1,
                "dt": self.dt,
                "start": self.start,
                "threshold": self.threshold,
                "burst_gap": self.burst_gap,
                "regularity": self.regularity,
                "dtype": self.dtype.name,
                "chunk_size": self.chunk_size,
                "n_models": self.n_models,
                "n_chunks": self.n_chunks,
                "record": list(self.record),
                "record_every": self.record_every,
            }
            | ({} if self.rhythm is None else {"rhythm": _describe_rhythm(self.rhythm)})
            | ({"y0": dict(self.initial)} if self.initial else {})
        )


def _initial_state(model) -> dict[str, float]:
    """The base model's initial state by name (the protocol's start; a swept parameter
    that changes steady-state gates changes it per model)."""
    y0 = model.initial_state()
    values = y0 if isinstance(y0, tuple | list) else list(jnp.asarray(y0))
    return {n: float(v) for n, v in zip(model.state_names, values, strict=True)}


def _describe_rhythm(rhythm: StreamingRhythm) -> dict:
    criteria = rhythm.criteria
    return {
        "order": list(rhythm.order),
        "rule": None if rhythm.rule is None else repr(rhythm.rule),
        "max_spikes": None if rhythm.rule is None else rhythm.max_spikes,
        "tolerance": rhythm.tolerance,
        "criteria": None
        if criteria is None
        else {
            "cells": list(criteria.cells),
            "bounds": [[c.name, c.mean, c.sd] for c in criteria.criteria],
        },
    }


def _open_store(path, model, space, settings: _Settings, overwrite: bool):
    """The dataset directory (None without ``path``), opened for this sweep."""
    if path is None:
        return None
    store = SweepStore(path)
    store.open(settings.metadata(model, space), overwrite=overwrite)
    return store


def _chunk_runner(engine: Engine, settings: _Settings, devices):
    """``run(values, record) → outputs`` on the chosen kernel and devices; every chunk is
    padded to the chunk size, so that one program serves them all."""
    local = list(jax.local_devices() if devices is None else devices)

    def run(values, record):
        if settings.kernel == "pallas" and not record:
            return run_pallas_on(engine, values, local, size=settings.chunk_size)
        return engine(values, record, devices=local, pad_to=settings.chunk_size)

    return run


def _run_chunks(space, settings: _Settings, store, done, run_chunk, progress, callback):
    """Run this process's missing chunks with a progress bar (process p of P under
    `jax.distributed` owns chunks p, p + P, …). With a store, a chunk is computed only under
    its claim, so independent processes sharing the directory split the work; chunks that
    others hold are waited for (and taken over if their process dies). Each chunk's table
    goes to the store, or without one is kept in memory. Returns (the kept tables, the
    traces kept without a store, the number of models run)."""
    process, n_processes = jax.process_index(), jax.process_count()
    # chunks are enumerated lazily: memory does not grow with the number of models
    remaining = (c for c in range(process, settings.n_chunks, n_processes) if c not in done)
    parts, traces, models_run = [], {}, [0]
    bar = tqdm(
        total=settings.n_models, initial=sum(len(range(*settings.chunk(c))) for c in done),
        unit="model", disable=not progress, desc="sweep", smoothing=0.1,
    )  # fmt: skip

    def run(c):
        a, b = settings.chunk(c)
        values = space.values(a, b)
        chunk_record = [i - a for i in settings.record if a <= i < b]
        out = run_chunk(values, chunk_record)
        table = _table(space, a, b, values, out)
        chunk_traces = None
        if chunk_record:
            chunk_traces = {
                "model_id": np.asarray([a + i for i in chunk_record]),
                "traces": np.moveaxis(np.asarray(out["traces"]), 0, 1),
            }
        if store is not None:
            store.write(c, table, chunk_traces)
        if store is None:
            parts.append(table)  # without a store, the rows are kept in memory
        models_run[0] += b - a
        if chunk_traces and store is None:
            ids, arrays = chunk_traces["model_id"], chunk_traces["traces"]
            traces.update({int(i): t for i, t in zip(ids, arrays, strict=True)})
        if callback is not None:
            callback(c, table)

    try:
        while True:
            held = []
            for c in remaining:
                claim = None if store is None else store.claim(c)
                if store is not None and claim is None:
                    held.append(c)  # another process is computing it
                    continue
                try:
                    if store is None or not store.is_done(c):
                        run(c)
                finally:
                    if claim is not None:
                        claim.release()
                bar.update(len(range(*settings.chunk(c))))
            if not held:
                break
            remaining = iter(held)
            time.sleep(_POLL_SECONDS)
    finally:
        bar.close()
    return parts, traces, models_run[0]


#: how often a process waits for chunks that other processes hold
_POLL_SECONDS = 0.5


def _table(space, a, b, values, out):
    import pandas as pd

    columns = {"model_id": np.arange(a, b, dtype=np.int64)}
    columns.update({k: np.asarray(v) for k, v in space.labels(a, b).items()})
    columns.update({k: np.asarray(v, dtype=np.float64) for k, v in values.items()})
    finite = np.asarray(out["finite"])
    for key, value in out.items():
        if key in ("finite", "traces"):
            continue
        if key.endswith("class"):
            columns[key] = class_names(np.asarray(value))
        else:
            columns[key] = np.asarray(value)
    columns["status"] = np.where(finite, "ok", "failed")
    return pd.DataFrame(columns)
