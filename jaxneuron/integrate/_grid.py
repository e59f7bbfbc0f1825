"""The time grid of a simulation: start, end, save points and fixed steps, checked once.

`simulate`, `simulate_spiking` and `jaxneuron.spiking.simulate_network` prepare their
times here, so that every entry point accepts and rejects the same things with the same
messages.
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp

from .._validation import check_finite, check_positive
from ._fixed_step import steps_in

#: The largest number of steps or saves a loop counts (int32 indices).
MAX_COUNT = 2**31 - 1

#: Saved outputs larger than this (bytes) are refused before anything is allocated.
SAVE_BUDGET_BYTES = 4 * 2**30


def check_save_memory(n_bytes: int, how_to_reduce: str) -> None:
    """Refuse saved outputs of more than `SAVE_BUDGET_BYTES`, saying how large they would
    be and ``how_to_reduce`` them."""
    if n_bytes > SAVE_BUDGET_BYTES:
        raise ValueError(
            f"the saved output would take {n_bytes / 2**30:.1f} GiB (more than "
            f"{SAVE_BUDGET_BYTES / 2**30:.0f} GiB); {how_to_reduce}"
        )


@dataclasses.dataclass(frozen=True)
class TimeGrid:
    """Times of a simulation (ms): from ``t0`` to ``t1``; ``n_saves`` save points every
    ``save_every`` ms from ``t0`` (``save_every`` None: only t0 and t1); with a fixed step
    ``dt``, ``steps_per_save`` steps between saves and ``n_steps`` in all."""

    t0: float
    t1: float
    save_every: float | None
    n_saves: int
    dt: float | None = None
    steps_per_save: int | None = None
    n_steps: int | None = None

    def save_times(self, dtype):
        """The save times as an array of ``dtype`` (the last clipped to ``t1``)."""
        if self.save_every is None:
            return jnp.asarray([self.t0, self.t1], dtype)
        ts = jnp.asarray(self.t0, dtype) + jnp.asarray(self.save_every, dtype) * jnp.arange(
            self.n_saves, dtype=dtype
        )
        return jnp.minimum(ts, jnp.asarray(self.t1, dtype))


def time_grid(
    t0, t1, *, save_every: float | None, dt: float | None = None, whole_steps: bool = False
) -> TimeGrid:
    """Check and build the `TimeGrid` from ``t0`` to ``t1`` (ms).

    - ``save_every``: save interval (ms), or None to save only t0 and t1;
    - ``dt``: the fixed step (ms), if any: ``save_every`` must then be a whole number of
      steps, and t1 − t0 a whole number of save intervals (so that the last step ends at
      t1) and at least one step; ``save_every`` may not exceed t1 − t0;
    - ``whole_steps``: t1 − t0 must itself be a whole number of steps (the spiking paths,
      whose loops end exactly at t1).

    >>> time_grid(0.0, 10.0, save_every=1.0, dt=0.025).n_steps
    400
    """
    t0, t1 = float(t0), float(t1)
    check_finite("t0 (start time)", t0, "ms")
    check_finite("t1 (end time)", t1, "ms")
    if t1 <= t0:
        raise ValueError(f"t1 (end time, ms) must be greater than t0 = {t0} ms, got t1 = {t1}")
    if save_every is not None:
        save_every = float(save_every)
        check_positive("save_every (save interval)", save_every, "ms")
        n_saves = int(math.floor((t1 - t0) / save_every + 1e-9)) + 1
        _check_count(n_saves, "save points", f"save_every = {save_every} ms")
    else:
        n_saves = 2
    if dt is None:
        _check_save_interval(t0, t1, save_every)
        return TimeGrid(t0, t1, save_every, n_saves)
    dt = float(dt)
    check_positive("dt (time step)", dt, "ms")
    _check_count((t1 - t0) / dt, "steps", f"dt = {dt} ms")
    if t1 - t0 < dt * (1 - 1e-9):
        raise ValueError(
            f"t1 − t0 ({t1 - t0} ms) is shorter than one step dt = {dt} ms: nothing would be "
            "simulated"
        )
    _check_save_interval(t0, t1, save_every)
    if whole_steps:
        n_steps = steps_in(t1 - t0, dt, "t1 − t0 (simulated time)")
    if save_every is None:
        k = n_steps if whole_steps else steps_in(t1 - t0, dt, "t1 − t0 (simulated time)")
        return TimeGrid(t0, t1, None, 2, dt, k, k)
    k = steps_in(save_every, dt, "save_every (save interval)")
    if not whole_steps:
        n_steps = (n_saves - 1) * k
        if abs(t0 + n_steps * dt - t1) > 1e-6 * max(1.0, abs(t1)):
            raise ValueError(
                f"t1 − t0 ({t1 - t0} ms) is not a whole number of save intervals "
                f"(save_every = {save_every} ms, {k} steps of dt = {dt} ms): the last step "
                f"would end at t = {t0 + n_steps * dt:g} ms, not t1 = {t1} ms; choose t1, "
                "save_every and dt so that they divide"
            )
    return TimeGrid(t0, t1, save_every, n_saves, dt, k, n_steps)


def _check_save_interval(t0: float, t1: float, save_every: float | None) -> None:
    if save_every is not None and save_every > (t1 - t0) * (1 + 1e-9):
        raise ValueError(
            f"save_every (save interval, {save_every} ms) is longer than the simulation "
            f"(t1 − t0 = {t1 - t0} ms): only t0 would be saved; use save_every <= "
            f"{t1 - t0} ms, or None to save t0 and t1"
        )


def _check_count(count: float, what: str, of: str) -> None:
    if count > MAX_COUNT:
        raise ValueError(
            f"the simulation would take {count:.3g} {what} ({of}), more than a loop counts "
            f"({MAX_COUNT}); simulate a shorter time or in pieces"
        )


def jump_times(model, t1):
    """The sorted times (ms) of the discontinuities of ``model``'s stimuli, for diffrax's
    step-size controller (``jump_ts``; those beyond the run moved past ``t1``), or None."""
    jumps = [j for stimulus in model.stimuli() for j in stimulus.discontinuities()]
    if not jumps:
        return None
    times = jnp.concatenate([jnp.ravel(jnp.asarray(j)) for j in jumps])
    times = jnp.where(jnp.isfinite(times), times, t1 + 1.0)
    return jnp.sort(times)
