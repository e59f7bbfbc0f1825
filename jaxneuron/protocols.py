r"""Stimulation protocols: sets of current-clamp sweeps run as one batch.

A `Protocol` is what an experimenter designs — steps of several amplitudes, hyperpolarising
ones to open H, ramps, a fluctuating current (`ornstein_uhlenbeck`) — each sweep a stimulus
(µA/cm², t in ms) applied to the same cell from rest for ``t1`` ms. `Protocol.simulate` runs
the sweeps whose stimuli share a structure as one `jax.vmap`-ed batch (a step family is one
batch); `jaxneuron.fit.ProtocolLoss` fits a model to all sweeps at once.

>>> import jaxneuron as jn
>>> protocol = jn.Protocol.steps([-2.0, 0.0, 5.0], onset=20.0, offset=80.0, t1=100.0)
>>> result = protocol.simulate(jn.build_HH(), solver=jn.ExponentialEuler(dt=0.025))
>>> result.V.shape          # (sweeps, samples), V every 0.1 ms
(3, 1001)
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._precision import as_dtype, model_dtype
from ._protocols import AbstractModel
from .integrate import simulate
from .neurons import ConductanceNeuron, IntegrateAndFire
from .stimuli import AbstractStimulus, Step, as_stimulus


@dataclasses.dataclass(frozen=True)
class ProtocolResult:
    """What `Protocol.simulate` returns: sample times ``ts`` (n,) in ms, potentials ``V``
    (sweeps, n) in mV, ``success`` (sweeps,) and the sweep ``names``."""

    ts: jax.Array
    V: jax.Array
    success: jax.Array
    names: tuple[str, ...]


def checked_sweeps(owner: str, functions: Sequence, t1, names) -> tuple:
    """``(functions, t1, names)`` of a protocol, checked: at least one sweep (each a
    stimulus-shaped function of t), t1 > 0 ms, one distinct name per sweep (default
    ``"sweep 0"``, …)."""
    functions = tuple(as_stimulus(f) for f in functions)
    if not functions:
        raise ValueError(f"{owner}: give at least one sweep")
    if not float(t1) > 0:
        raise ValueError(f"{owner}: t1 (sweep length) must be > 0 ms, got {t1}")
    names = tuple(f"sweep {i}" for i in range(len(functions))) if names is None else tuple(names)
    if len(names) != len(functions) or len(set(names)) != len(names):
        raise ValueError(
            f"{owner}: {len(functions)} sweeps need as many distinct names, got {names}"
        )
    return functions, float(t1), names


def stacked_groups(items) -> list[tuple[list[int], object]]:
    """``items`` (pytrees) grouped by structure and leaf shapes: for each group, the item
    indices and the items stacked along a new leading axis (one `jax.vmap` per group)."""
    groups: dict = {}
    for i, item in enumerate(items):
        leaves, treedef = jax.tree.flatten(item)
        groups.setdefault((treedef, tuple(jnp.shape(x) for x in leaves)), []).append(i)
    return [
        (indices, jax.tree.map(lambda *xs: jnp.stack(xs), *[items[i] for i in indices]))
        for indices in groups.values()
    ]


class AbstractProtocol(eqx.Module):
    """A set of sweeps applied to one cell, observed as one array per sweep: current clamp
    (`Protocol`, potentials in mV) or voltage clamp (`jaxneuron.clamp.VoltageClamp`,
    clamp currents in µA/cm²)."""

    t1: eqx.AbstractVar[float]
    names: eqx.AbstractVar[tuple[str, ...]]

    @abc.abstractmethod
    def __len__(self) -> int:
        """The number of sweeps."""

    @abc.abstractmethod
    def observe(self, model, *, solver=None, save_every=None, **kwargs):
        """``(ts, observed)``: sample times (n,) in ms and the observed quantity
        (sweeps, n) of every sweep on ``model``, simulated with the settings given."""


class Protocol(AbstractProtocol):
    """Current-clamp sweeps, each a stimulus applied from rest for ``t1`` ms.

    **Arguments:**

    - ``stimuli``: one `AbstractStimulus` (or number, µA/cm²) per sweep;
    - ``t1``: sweep length in ms;
    - ``names``: optional sweep names (default ``"sweep 0"``, …).

    `Protocol.steps` builds a family of steps; protocols add: ``steps + Protocol([noise],
    t1=...)`` (same ``t1``).
    """

    stimuli: tuple[AbstractStimulus, ...]
    t1: float = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True)

    def __init__(self, stimuli: Sequence, *, t1: float, names: Sequence[str] | None = None):
        self.stimuli, self.t1, self.names = checked_sweeps("Protocol", stimuli, t1, names)

    @classmethod
    def steps(
        cls, amplitudes: Sequence[float], *, onset: float, offset: float, t1: float
    ) -> Protocol:
        """One sweep per amplitude (µA/cm²): a `Step` from ``onset`` to ``offset`` (ms)."""
        amplitudes = [float(a) for a in amplitudes]
        return cls(
            [Step(a, onset, offset) for a in amplitudes],
            t1=t1,
            names=[f"step {a:g}" for a in amplitudes],
        )

    def __add__(self, other: Protocol) -> Protocol:
        if not isinstance(other, Protocol):
            return NotImplemented
        if other.t1 != self.t1:
            raise ValueError(f"Protocol: cannot join sweeps of {self.t1} ms and {other.t1} ms")
        return Protocol(self.stimuli + other.stimuli, t1=self.t1, names=self.names + other.names)

    def __len__(self):
        return len(self.stimuli)

    def batches(self) -> list[tuple[list[int], AbstractStimulus]]:
        """Sweeps grouped by stimulus structure: (sweep indices, stimuli stacked along a
        leading axis) for each group."""
        return stacked_groups(self.stimuli)

    def observe(self, model, *, solver=None, save_every=None, wrap=None, **kwargs):
        """(ts, V): the sample times (ms) and the potentials (sweeps, n) in mV."""
        result = self.simulate(model, solver=solver, save_every=save_every, wrap=wrap, **kwargs)
        return result.ts, result.V

    def simulate(
        self, model, *, solver=None, save_every=None, wrap=None, **kwargs
    ) -> ProtocolResult:
        """Every sweep on ``model`` (a single neuron; its own stimulus is replaced), by
        `jaxneuron.simulate` with ``solver``, ``save_every`` and ``kwargs`` (``adjoint``,
        ``rtol``, …), one vmapped batch per stimulus structure. ``wrap(cell, sweep)``, if
        given, maps each sweep's cell to the model simulated (``sweep`` its index, a traced
        integer: e.g. coupling the cell to that sweep's recording). Traceable: works under
        `jax.jit`, `jax.grad` and `jax.vmap`."""
        if not isinstance(model, ConductanceNeuron | IntegrateAndFire):
            kind = type(model).__name__ if isinstance(model, AbstractModel) else repr(model)
            raise TypeError(
                f"Protocol.simulate needs a single neuron (its stimulus is replaced per "
                f"sweep); got {kind}"
            )
        dtype = model_dtype(model)
        kwargs = dict(kwargs, throw=False)

        def one(stimulus, sweep):
            cell = eqx.tree_at(lambda m: m.stimulus, model, as_dtype(stimulus, dtype))
            if wrap is not None:
                cell = wrap(cell, sweep)
            sol = simulate(cell, self.t1, solver=solver, save_every=save_every, **kwargs)
            return sol.ts, sol.V, sol.success

        V = [None] * len(self)
        ok = [None] * len(self)
        ts = None
        for indices, stacked in stacked_groups(self.stimuli):
            ts_b, V_b, ok_b = jax.vmap(one)(stacked, jnp.asarray(indices))
            ts = ts_b[0]
            for j, i in enumerate(indices):
                V[i], ok[i] = V_b[j], ok_b[j]
        return ProtocolResult(ts=ts, V=jnp.stack(V), success=jnp.stack(ok), names=self.names)


def noisy(V, sd: float, seed: int = 0) -> np.ndarray:
    """``V`` plus independent Gaussian noise of standard deviation ``sd`` (mV), from NumPy's
    PCG64 with ``seed``: synthetic recordings for tests and examples."""
    rng = np.random.Generator(np.random.PCG64(seed))
    V = np.asarray(V)
    return V + sd * rng.standard_normal(V.shape)
