r"""Parameter spaces: which models a sweep runs, addressable by index.

A space has ``names`` (parameters, see `jaxneuron.parameters`), a length, and
``values(a, b)``: the parameter sets with indices a … b−1 as NumPy arrays. Indices are
stable, so a sweep can be cut into chunks, split across hosts and resumed.

>>> space = Grid({"CaS.g": [2.0, 4.0, 6.0], "Kd.g": [50.0, 100.0]})
>>> len(space), space.values(0, 3)
(6, {'CaS.g': array([2., 2., 4.]), 'Kd.g': array([ 50., 100.,  50.])})
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping

import numpy as np

from ..circuits import (
    PYLORIC_2004_CELLS,
    PYLORIC_2004_LEVELS_NS,
    PYLORIC_2004_SIZE,
    pyloric_2004_levels,
)
from ..neurons import CHANNEL_ORDER, PRINZ_2003_SIZE, PRINZ_2004, prinz_2003_conductances


class ParameterSpace(abc.ABC):
    names: tuple[str, ...]

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def values(self, a: int, b: int) -> dict[str, np.ndarray]:
        """Parameter sets a … b−1: name → float64 array of length b − a."""

    def labels(self, a: int, b: int) -> dict[str, np.ndarray]:
        """Extra columns identifying each model (e.g. the Prinz database number)."""
        return {}

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Name → (smallest, largest) value the space gives the parameter (or wider
        bounds that contain them). This default reads the space chunk by chunk."""
        low = {n: np.inf for n in self.names}
        high = {n: -np.inf for n in self.names}
        for a in range(0, len(self), 2**16):
            for name, values in self.values(a, min(a + 2**16, len(self))).items():
                low[name] = min(low[name], float(np.min(values)))
                high[name] = max(high[name], float(np.max(values)))
        return {n: (low[n], high[n]) for n in self.names}

    @abc.abstractmethod
    def describe(self) -> dict:
        """A JSON-serialisable description: equal descriptions mean equal spaces."""


def _checked(name, values) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"values of {name!r} must be a non-empty 1-D list, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"values of {name!r} must be finite")
    return arr


class Grid(ParameterSpace):
    """Every combination of the given values (the last parameter varies fastest)."""

    def __init__(self, axes: Mapping[str, object]):
        if not axes:
            raise ValueError("Grid needs at least one parameter")
        self.names = tuple(axes)
        self.axes = tuple(_checked(n, v) for n, v in axes.items())
        self.shape = tuple(a.size for a in self.axes)

    def __len__(self):
        return math.prod(self.shape)

    def bounds(self):
        return {
            n: (float(a.min()), float(a.max())) for n, a in zip(self.names, self.axes, strict=True)
        }

    def values(self, a, b):
        index = np.unravel_index(np.arange(a, b), self.shape)
        return {n: ax[i] for n, ax, i in zip(self.names, self.axes, index, strict=True)}

    def describe(self):
        return {
            "kind": "grid",
            "axes": {n: a.tolist() for n, a in zip(self.names, self.axes, strict=True)},
        }


class Table(ParameterSpace):
    """An explicit list of parameter sets: name → values, all of one length."""

    def __init__(self, columns: Mapping[str, object]):
        if not columns:
            raise ValueError("Table needs at least one parameter")
        self.names = tuple(columns)
        self.columns = {n: _checked(n, v) for n, v in columns.items()}
        lengths = {n: c.size for n, c in self.columns.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"Table columns must have one length, got {lengths}")

    def __len__(self):
        return next(iter(self.columns.values())).size

    def bounds(self):
        return {n: (float(c.min()), float(c.max())) for n, c in self.columns.items()}

    def values(self, a, b):
        return {n: c[a:b] for n, c in self.columns.items()}

    def describe(self):
        return {"kind": "table", "columns": {n: c.tolist() for n, c in self.columns.items()}}


class Random(ParameterSpace):
    """``n`` independent random parameter sets: each parameter uniform on ``(low, high)``,
    or log-uniform with ``(low, high, "log")``. Reproducible from ``seed``."""

    def __init__(self, ranges: Mapping[str, tuple], n: int, seed: int = 0):
        if int(n) < 1:
            raise ValueError(f"Random needs n >= 1 parameter sets, got {n}")
        self.names = tuple(ranges)
        self.ranges = {}
        for name, spec in ranges.items():
            low, high, *scale = spec
            scale = scale[0] if scale else "linear"
            if scale not in ("linear", "log"):
                raise ValueError(f"scale of {name!r} must be 'linear' or 'log', got {scale!r}")
            if not (np.isfinite(low) and np.isfinite(high) and low < high):
                raise ValueError(f"range of {name!r} must have low < high, got ({low}, {high})")
            if scale == "log" and low <= 0:
                raise ValueError(f"a log range of {name!r} needs low > 0, got {low}")
            self.ranges[name] = (float(low), float(high), scale)
        self.n, self.seed = int(n), int(seed)

    def __len__(self):
        return self.n

    def bounds(self):
        return {n: (low, high) for n, (low, high, _) in self.ranges.items()}

    def values(self, a, b):
        # rows a … b−1 of the uniform table that default_rng(seed).random((n, k)) draws,
        # generated on demand (one 64-bit draw per number, so row a starts a·k draws in)
        k = len(self.names)
        bits = np.random.PCG64(self.seed)
        bits.advance(a * k)
        u = np.random.Generator(bits).random((b - a, k))
        out = {}
        for j, (name, (low, high, scale)) in enumerate(self.ranges.items()):
            if scale == "log":
                out[name] = np.exp(np.log(low) + u[:, j] * np.log(high / low))
            else:
                out[name] = low + u[:, j] * (high - low)
        return out

    def describe(self):
        return {"kind": "random", "ranges": self.ranges, "n": self.n, "seed": self.seed}


class PrinzDatabase(ParameterSpace):
    """The Prinz et al. (2003) database: 8 maximal conductances on 6 levels each
    (1,679,616 models), or a random sample of ``sample`` distinct models (sorted by
    model number). Columns ``"<channel>.g"`` in mS/cm²; label ``model_number``."""

    names = tuple(f"{c}.g" for c in CHANNEL_ORDER)

    def __init__(self, sample: int | None = None, seed: int = 0):
        self.sample, self.seed = sample, int(seed)
        if sample is None:
            self.numbers = None
        else:
            if not 1 <= int(sample) <= PRINZ_2003_SIZE:
                raise ValueError(f"sample must be in 1 … {PRINZ_2003_SIZE}, got {sample}")
            rng = np.random.default_rng(self.seed)
            chosen = rng.choice(PRINZ_2003_SIZE, size=int(sample), replace=False)
            self.numbers = np.sort(chosen) + 1

    def __len__(self):
        return PRINZ_2003_SIZE if self.numbers is None else self.numbers.size

    def _numbers(self, a, b):
        return np.arange(a + 1, b + 1) if self.numbers is None else self.numbers[a:b]

    def values(self, a, b):
        g = prinz_2003_conductances(self._numbers(a, b))
        return {n: g[:, i] for i, n in enumerate(self.names)}

    def labels(self, a, b):
        return {"model_number": self._numbers(a, b)}

    def bounds(self):
        # model 1 has every conductance on level 0, the last model every one on level 5
        g = prinz_2003_conductances(np.asarray([1, PRINZ_2003_SIZE]))
        return {n: (float(g[0, i]), float(g[1, i])) for i, n in enumerate(self.names)}

    def describe(self):
        return {"kind": "prinz_2003", "sample": self.sample, "seed": self.seed}


class PyloricDatabase(ParameterSpace):
    """The Prinz, Bucher & Marder (2004) network database: every pyloric circuit of an
    AB/PD 1–5, an LP 1–5 and a PY 1–6 cell with the seven synapses on their database
    levels (`jaxneuron.network.PYLORIC_2004_LEVELS_NS`): 20,250,000 networks, numbered as
    `jaxneuron.circuits.pyloric_2004_levels`; or a random sample of ``sample`` distinct
    networks (sorted by number), or the numbers ``a … b − 1`` of a slice (``numbers=``).

    A point sets both the cells and the strengths: columns ``"<cell>.<channel>.g"``
    (mS/cm², the 24 maximal conductances of the three cells) and ``"<synapse>.g_nS"``, so
    one compiled program sweeps every cell triple (sweep a `jaxneuron.pyloric_circuit`).
    Labels: ``network_number`` and the variant indices ``AB/PD``, ``LP``, ``PY`` (1-based).

    >>> space = PyloricDatabase(sample=4, seed=1)
    >>> len(space), len(space.names), sorted(space.labels(0, 4))
    (4, 31, ['AB/PD', 'LP', 'PY', 'network_number'])
    """

    names = (
        *(f"{cell}.{c}.g" for cell in PYLORIC_2004_CELLS for c in CHANNEL_ORDER),
        *(f"{syn}.g_nS" for syn in PYLORIC_2004_LEVELS_NS),
    )

    def __init__(self, sample: int | None = None, seed: int = 0, numbers=None):
        if sample is not None and numbers is not None:
            raise TypeError("give either sample= or numbers=, not both")
        self.sample, self.seed = sample, int(seed)
        if numbers is not None:
            numbers = np.unique(np.asarray(numbers, dtype=np.int64))
            pyloric_2004_levels(numbers)  # range check
            self.numbers = numbers
        elif sample is not None:
            if not 1 <= int(sample) <= PYLORIC_2004_SIZE:
                raise ValueError(f"sample must be in 1 … {PYLORIC_2004_SIZE}, got {sample}")
            rng = np.random.default_rng(self.seed)
            chosen = rng.choice(PYLORIC_2004_SIZE, size=int(sample), replace=False)
            self.numbers = np.sort(chosen) + 1
        else:
            self.numbers = None

    def __len__(self):
        return PYLORIC_2004_SIZE if self.numbers is None else self.numbers.size

    def _numbers(self, a, b):
        return np.arange(a + 1, b + 1) if self.numbers is None else self.numbers[a:b]

    def values(self, a, b):
        digits = pyloric_2004_levels(self._numbers(a, b))
        out = {}
        for k, (cell, variants) in enumerate(PYLORIC_2004_CELLS.items()):
            g = np.asarray([PRINZ_2004[v] for v in variants], dtype=float)[digits[:, k]]
            out.update({f"{cell}.{c}.g": g[:, i] for i, c in enumerate(CHANNEL_ORDER)})
        for k, (syn, levels) in enumerate(PYLORIC_2004_LEVELS_NS.items()):
            out[f"{syn}.g_nS"] = np.asarray(levels, dtype=float)[digits[:, 3 + k]]
        return out

    def bounds(self):
        out = {}
        for cell, variants in PYLORIC_2004_CELLS.items():
            g = np.asarray([PRINZ_2004[v] for v in variants], dtype=float)
            out.update({f"{cell}.{c}.g": (float(g[:, i].min()), float(g[:, i].max()))
                        for i, c in enumerate(CHANNEL_ORDER)})  # fmt: skip
        for syn, levels in PYLORIC_2004_LEVELS_NS.items():
            out[f"{syn}.g_nS"] = (float(min(levels)), float(max(levels)))
        return out

    def labels(self, a, b):
        numbers = self._numbers(a, b)
        digits = pyloric_2004_levels(numbers)
        return {
            "network_number": numbers,
            **{cell: digits[:, k] + 1 for k, cell in enumerate(PYLORIC_2004_CELLS)},
        }

    def describe(self):
        numbers = None if self.numbers is None else self.numbers.tolist()
        return {"kind": "pyloric_2004", "numbers": numbers}


def check_in_domain(model, space: ParameterSpace) -> None:
    """Refuse, before anything compiles, a space that gives a parameter a value outside
    its domain: the model with each parameter at each end of its `ParameterSpace.bounds`
    goes through the model's own checks (`jaxneuron.set_parameters` on concrete values:
    a negative conductance or weight, a non-positive time constant, …). Every domain is
    an interval, so its ends decide for every value between them."""
    from ..parameters import set_parameters

    for name, ends in space.bounds().items():
        for value in sorted(set(ends)):
            try:
                set_parameters(model, {name: value})
            except ValueError as err:
                raise ValueError(
                    f"the space gives {name} = {value:g}, outside its domain: {err}"
                ) from None
