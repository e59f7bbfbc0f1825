"""The baselines the benchmarks are measured against, and the interleaved timer: the
hand-written loops of ``scripts/bench_engine.py`` (`prinz_hand`, `hh_hand`: the state as a
tuple of (N,) arrays, one fused `lax.fori_loop`, the spike count the only output) and
``scripts/_timing.best_of``, imported from the same checkout, jitted here once."""

from __future__ import annotations

import sys
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from _timing import best_of  # noqa: E402
from bench_engine import DT, hh_hand  # noqa: E402
from bench_engine import prinz_hand as _prinz_hand  # noqa: E402

hh_hand = jax.jit(hh_hand, static_argnums=1)
_prinz_jitted = jax.jit(_prinz_hand, static_argnums=2)


def prinz_hand(g, n_steps):
    """`scripts/bench_engine.prinz_hand` from V = −50 mV (the engine's initial state)."""
    return _prinz_jitted(g, -50.0, n_steps)


__all__ = ["DT", "best_of", "hh_hand", "prinz_hand"]
