r"""`sweep_populations`: one `PopulationNetwork` per parameter set, into a dataset."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from .._precision import as_dtype
from .._validation import check_finite, check_nonnegative, check_positive
from ..integrate import steps_in
from ..networks import PopulationNetwork, check_y0, simulate_populations
from ._space import ParameterSpace, check_in_domain
from ._store import SweepStore, model_fingerprint
from ._sweep import SweepResult, _Chunking, _collect, check_table_fits, sweep


@dataclasses.dataclass(frozen=True)
class _NetworkSettings(_Chunking):
    """A network sweep's checked arguments (see `sweep_populations`)."""

    t1: float
    dt: float
    start: float
    threshold: float
    refractory: float
    dtype: jnp.dtype
    chunk_size: int
    n_models: int
    record: tuple[int, ...] = ()

    def metadata(self, net, space, initial) -> dict:
        return {
            "kind": "populations",
            "model": model_fingerprint(net),
            "initial": model_fingerprint(initial),
            "model_name": "populations " + ", ".join(net.names),
            "space": space.describe(),
            "names": list(space.names),
            "state_names": [],
            "t1": self.t1,
            "dt": self.dt,
            "start": self.start,
            "threshold": self.threshold,
            "refractory": self.refractory,
            "dtype": self.dtype.name,
            "chunk_size": self.chunk_size,
            "n_models": self.n_models,
            "n_chunks": self.n_chunks,
            "record": [],
            "record_every": 0.0,
        }


@sweep.register(PopulationNetwork)
def sweep_populations(
    net: PopulationNetwork,
    space: ParameterSpace,
    *,
    t1: float,
    dt: float = 0.1,
    start: float | None = None,
    threshold: float = -20.0,
    refractory: float = 0.0,
    y0=None,
    g0=None,
    dtype=jnp.float32,
    path=None,
    chunk_size: int = 64,
    progress: bool = True,
    overwrite: bool = False,
    callback=None,
) -> SweepResult:
    r"""Simulate one network per parameter set of ``space`` (names as in
    `PopulationNetwork.set_parameters`: ``"E->I.scale"``, ``"E.Na.g"``,
    ``"E->E.receptor.tau"`` …) with `simulate_populations`, ``chunk_size`` networks
    vmapped per compiled call, and reduce each to one row: per population ``<pop>.rate``
    (Hz), ``<pop>.isi_cv`` (mean CV of the inter-spike intervals of neurons with ≥ 3
    spikes; NaN if none) and ``<pop>.active`` (fraction of neurons that spiked), after
    ``start`` (ms; default ``t1/2``), plus ``status`` (``"failed"`` where a state became
    NaN/inf: the statistics of that row are then NaN).

    Every network starts from ``y0``/``g0`` (see `simulate_populations`). ``path``,
    ``overwrite``, ``progress`` and ``callback`` are those of `sweep`: with ``path`` the
    rows go to a Parquet dataset chunk by chunk and an interrupted sweep resumes; the
    dataset records the network's fingerprint and its initial state, so a resume with
    another network or initial state is refused.

    >>> import jaxneuron as jn
    >>> net, y0, g0 = jn.cobahh(100, p=0.1, seed=0)
    >>> space = jn.sweep.Grid({"E->E.scale": [0.5, 1.0], "I->E.scale": [0.5, 1.0]})
    >>> result = sweep_populations(net, space, t1=40.0, y0=y0, g0=g0, progress=False)
    >>> [c for c in result.table.columns if c.startswith("I.")]
    ['I.active', 'I.isi_cv', 'I.rate']
    """
    if not isinstance(net, PopulationNetwork):
        raise TypeError(f"net must be a PopulationNetwork, got {type(net).__name__}")
    t1, dt = float(t1), float(dt)
    check_positive("t1 (simulated time)", t1, "ms")
    check_positive("dt (fixed step)", dt, "ms")
    steps_in(t1, dt, "t1 (simulated time)")
    start = t1 / 2 if start is None else float(start)
    check_nonnegative("start (analysis start)", start, "ms")
    if start >= t1:
        raise ValueError(f"start ({start} ms) must be before t1 ({t1} ms)")
    check_finite("threshold (spike threshold)", threshold, "mV")
    check_nonnegative("refractory (refractory period)", refractory, "ms")
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be >= 1 network, got {chunk_size}")
    dtype = jnp.dtype(dtype)
    if dtype == jnp.float64 and not jax.config.jax_enable_x64:
        raise ValueError(
            "dtype float64 needs jax.config.update('jax_enable_x64', True) before any computation"
        )
    for name in space.names:
        net.get_parameter(name)  # unknown names fail here, before any compilation
    check_in_domain(net, space)  # so do values outside a parameter's domain
    check_y0(net, y0)
    n = len(space)
    settings = _NetworkSettings(
        t1, dt, start, float(threshold), float(refractory), dtype, min(int(chunk_size), n), n
    )
    check_table_fits(space, n, extra_columns=3 * len(net.names))  # rate, isi_cv, active
    net = as_dtype(net, dtype)
    store = None
    if path is not None:
        store = SweepStore(path)
        store.open(settings.metadata(net, space, (y0, g0)), overwrite=overwrite)
    run_chunk = _runner(net, tuple(space.names), settings, y0, g0)
    return _collect(space, settings, store, run_chunk, progress, callback, (), 0.0)


def _runner(net, names, settings: _NetworkSettings, y0, g0):
    """``run(values, record) → outputs``: the chunk padded to ``chunk_size`` networks,
    vmapped in one compiled call."""

    # under vmap a branch on the spike count runs every branch: deliver through every
    # row (the dense path; the same sums) and skip the sparse ones
    every_row = max(p.n for p in net.populations)

    def one(values):
        sol = simulate_populations(
            net.set_parameters(values), settings.t1, dt=settings.dt, y0=y0, g0=g0,
            threshold=settings.threshold, refractory=settings.refractory,
            start=settings.start, max_spikes_per_step=every_row,
        )  # fmt: skip
        out = {}
        nan = jnp.asarray(jnp.nan, settings.dtype)
        for name in net.names:
            stats = {
                "rate": sol.rate(name),
                "isi_cv": sol.isi_cv(name),
                "active": jnp.mean(sol.counts[name] > 0),
            }
            for key, value in stats.items():
                out[f"{name}.{key}"] = jnp.where(sol.finite, value.astype(settings.dtype), nan)
        out["finite"] = sol.finite
        return out

    batched = jax.jit(jax.vmap(one))

    def run(values, record):
        k = len(next(iter(values.values())))
        padded = {
            name: jnp.asarray(
                np.concatenate([v, np.repeat(v[-1:], settings.chunk_size - k)]), settings.dtype
            )
            for name, v in values.items()
        }
        out = batched(padded)
        return {key: np.asarray(value)[:k] for key, value in out.items()}

    return run
