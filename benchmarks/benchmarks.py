"""Benchmarks of jaxneuron, each workload beside its baseline.

Every model runs in float32 with the fixed step `DT` (0.025 ms). ``setup`` builds the
inputs and calls every function once, so that tracing and compilation are not timed.

- ``time_*``: the wall time of one call (asv's timer).
- ``track_*`` (unit ``"ratio"``): a throughput divided by its baseline's, both timed in the
  same call, interleaved, best of `REPEATS` — a number that the machine's speed largely
  cancels from, so that it can be compared across commits and machines. Above 1: faster
  than the baseline.
"""

from __future__ import annotations

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import jaxneuron as jn
import jaxneuron.fit as jf
from jaxneuron.analysis import StreamingFeatures
from jaxneuron.sweep import Engine, PyloricDatabase

from ._baseline import DT, best_of, hh_hand, prinz_hand

#: interleaved timed calls per ratio
REPEATS = 3


def _engine(model, names, t1):
    """`Engine` over ``model`` in float32 for ``t1`` ms, features from t1 / 2."""
    model = jn.as_dtype(model, jnp.float32)
    return Engine(model, tuple(names), t1, DT, features=StreamingFeatures(start=t1 / 2))


def _prinz_values(n, seed=0):
    """The eight maximal conductances (name → (n,) float32) of ``n`` random Prinz 2003
    database models."""
    numbers = np.random.default_rng(seed).integers(1, jn.PRINZ_2003_SIZE + 1, size=n)
    g = jn.prinz_2003_conductances(numbers).astype(np.float32)
    return {f"{c}.g": jnp.asarray(g[:, i]) for i, c in enumerate(jn.CHANNEL_ORDER)}


class _Timed:
    """asv's settings shared by the benchmarks: one call per sample, a few samples."""

    number = 1
    repeat = (2, 5, 10.0)
    warmup_time = 0.0
    timeout = 300


class _AgainstBaseline(_Timed):
    """A workload timed alone (``time_run``) and against its baseline (``track_ratio``):
    subclasses set ``self.fns`` (``"run"`` and ``"baseline"`` → callable) in ``setup``
    through `_warm`."""

    def _warm(self, run, baseline):
        self.fns = {"run": run, "baseline": baseline}
        for fn in self.fns.values():  # compile both before anything is timed
            jax.block_until_ready(fn())

    def time_run(self):
        jax.block_until_ready(self.fns["run"]())

    def track_ratio(self):
        """Throughput of the workload over its baseline's (the same work)."""
        seconds = best_of(self.fns, REPEATS)
        return seconds["baseline"] / seconds["run"]

    track_ratio.unit = "ratio"


class EnginePrinz(_AgainstBaseline):
    """`Engine` on random Prinz 2003 neurons against `prinz_hand`, the same neurons."""

    n = 256
    t1 = 200.0

    def setup(self):
        values = _prinz_values(self.n)
        engine = _engine(jn.build_Prinz(), values, self.t1)
        g = jnp.stack([values[f"{c}.g"] for c in jn.CHANNEL_ORDER])
        n_steps = engine.n_steps
        self._warm(lambda: engine(values)["class"], lambda: prinz_hand(g, n_steps))


class EngineHH(_AgainstBaseline):
    """`Engine` on Hodgkin–Huxley neurons, I = 0 … 20 µA/cm², against `hh_hand`."""

    n = 1024
    t1 = 200.0

    def setup(self):
        current = jnp.linspace(0.0, 20.0, self.n, dtype=jnp.float32)
        values = {"stimulus.amplitude": current}
        engine = _engine(jn.build_HH(0.0), values, self.t1)
        n_steps = engine.n_steps
        self._warm(lambda: engine(values)["class"], lambda: hh_hand(current, n_steps))


class VmappedSimulateHH(_AgainstBaseline):
    """``jax.vmap`` of `simulate` with `ExponentialEuler` on the `EngineHH` population,
    the trace saved every 1 ms, against `hh_hand`."""

    n = 1024
    t1 = 200.0

    def setup(self):
        current = jnp.linspace(0.0, 20.0, self.n, dtype=jnp.float32)
        model = jn.as_dtype(jn.build_HH(0.0), jnp.float32)
        t1 = self.t1
        n_steps = int(round(t1 / DT))

        @jax.jit
        def vmapped(current):
            def one(amplitude):
                neuron = jn.set_parameters(model, {"stimulus.amplitude": amplitude})
                return jn.simulate(neuron, t1, solver=jn.ExponentialEuler(DT), save_every=1.0).V

            return jax.vmap(one)(current)

        self._warm(lambda: vmapped(current), lambda: hh_hand(current, n_steps))


class PyloricCircuits(_AgainstBaseline):
    """`Engine` on `pyloric_circuit` with `PyloricDatabase` values (three cells and seven
    graded synapses each) against `Engine` on three times as many single Prinz 2003
    neurons (`scripts/bench_pyloric.py` at a small size)."""

    networks = 32
    t1 = 200.0

    def setup(self):
        space = PyloricDatabase(sample=self.networks, seed=0)
        net_values = {
            k: jnp.asarray(v, jnp.float32) for k, v in space.values(0, len(space)).items()
        }
        circuit = _engine(jn.pyloric_circuit(), space.names, self.t1)
        cell_values = _prinz_values(3 * self.networks)
        cells = _engine(jn.build_Prinz(), cell_values, self.t1)
        self._warm(lambda: circuit(net_values)["LP.class"], lambda: cells(cell_values)["class"])


class Cobahh(_Timed):
    """`cobahh` (Brette et al. 2007, benchmark 3) at a small size, simulated with
    `simulate_populations` (V > −20 mV with 3 ms refractoriness counts a spike, as in
    ``scripts/bench_cobahh.py``)."""

    n = 400
    t1 = 100.0

    def setup(self):
        net, y0, g0 = jn.cobahh(self.n, seed=0, dtype=jnp.float32)
        t1 = self.t1

        @eqx.filter_jit
        def run(net, y0, g0):
            sol = jn.simulate_populations(net, t1, dt=DT, y0=y0, g0=g0, start=1.0, refractory=3.0)
            return sol.counts

        self.run = lambda: run(net, y0, g0)
        jax.block_until_ready(self.run())

    def time_simulate_populations(self):
        jax.block_until_ready(self.run())


class FitHH(_Timed):
    """`jaxneuron.fit.fit` of an HH neuron's Na.g and K.g to its own noisy trace
    (the getting-started example, shorter): a few L-BFGS steps, no recovery."""

    t1 = 50.0
    steps = 5

    def setup(self):
        truth = jn.as_dtype(jn.build_HH(10.0), jnp.float32)
        V = jn.simulate(truth, self.t1, solver=jn.ExponentialEuler(DT), save_every=DT).V
        recorded = np.asarray(V) + np.random.default_rng(0).normal(0.0, 2.0, V.shape)
        self.loss = jf.TraceLoss(recorded.astype(np.float32), dt=DT, t1=self.t1)
        self.start = jn.set_parameters(truth, {"Na.g": 100.0, "K.g": 45.0})
        self.time_fit()

    def time_fit(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jf.FitWarning)  # stopped early, by design
            jf.fit(
                self.start,
                self.loss,
                ["Na.g", "K.g"],
                steps=self.steps,
                block=self.steps,
                recover=False,
            )
