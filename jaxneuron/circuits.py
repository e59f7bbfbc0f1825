r"""Circuits built as in MTKNeuralToolkit: typed connections (`Glutamatergic`,
`Cholinergic`, `Chemical`, `Electrical`) and named neurons make a `jaxneuron.Network`
(`build_network`); the pyloric circuit of Prinz, Bucher & Marder (2004)
(`pyloric_circuit`) and the numbering of its 20,250,000-network database
(`pyloric_2004_levels`, `pyloric_2004_network`, `pyloric_2004_number`).
"""

from __future__ import annotations

import dataclasses
import warnings

import jax.numpy as jnp
import numpy as np

from ._validation import check_finite, check_nonnegative, check_positive
from .network import Network
from .neurons import PrinzConfig, build_Prinz, preset_name
from .synapses import CHOLINERGIC, GLUTAMATERGIC, GapJunctions, GradedSynapses
from .units import PRINZ_AREA_CM2, Geometry


@dataclasses.dataclass(frozen=True)
class Chemical:
    """A graded chemical synapse ``pre → post`` of strength ``g`` (nS) with reversal ``E``
    (mV), threshold ``V_th`` (mV), slope ``Delta`` (mV) and release rate ``k_minus``
    (1/ms); ``name`` defaults to ``"pre->post"``."""

    pre: str
    post: str
    g: float
    E: float
    V_th: float = -35.0
    Delta: float = 5.0
    k_minus: float = 1.0 / 40.0
    name: str | None = None


def Glutamatergic(pre: str, post: str, g: float, name: str | None = None) -> Chemical:
    """Prinz et al. 2004 glutamatergic synapse: E = −70 mV, k₋ = 1/40 ms⁻¹."""
    return Chemical(pre, post, g, name=name, **GLUTAMATERGIC)


def Cholinergic(pre: str, post: str, g: float, name: str | None = None) -> Chemical:
    """Prinz et al. 2004 cholinergic synapse: E = −80 mV, k₋ = 1/100 ms⁻¹."""
    return Chemical(pre, post, g, name=name, **CHOLINERGIC)


@dataclasses.dataclass(frozen=True)
class Electrical:
    """A gap junction between ``a`` and ``b`` of conductance ``g`` (nS)."""

    a: str
    b: str
    g: float
    name: str | None = None


def build_network(
    connections, neurons, *, name: str = "network", geometry: Geometry | None = None
) -> Network:
    """Build a circuit from typed connections (`Glutamatergic`, `Cholinergic`, `Chemical`,
    `Electrical`) and neurons (a dict name → neuron, or neurons with distinct names).

    ``geometry`` converts strengths in nS to densities; default: the Prinz cell area
    (0.628·10⁻³ cm²), where 1 nS = 1.592·10⁻³ mS/cm².

    >>> import jaxneuron as jn
    >>> cells = {n: jn.build_Prinz(name=n, config=jn.PrinzConfig.preset(p))
    ...          for n, p in [("A", "AB/PD 2"), ("B", "AB/PD 2")]}
    >>> net = build_network([Glutamatergic("A", "B", 30.0), Glutamatergic("B", "A", 30.0)], cells)
    >>> net.state_names[-2:]
    ('A->B.s', 'B->A.s')
    """
    if isinstance(neurons, dict):
        names, cells = tuple(neurons), tuple(neurons.values())
    else:
        cells = tuple(neurons)
        names = tuple(n.name for n in cells)
    index = {n: i for i, n in enumerate(names)}

    def lookup(cell, connection):
        if cell not in index:
            raise KeyError(
                f"connection {connection} refers to unknown neuron {cell!r}; neurons: {list(names)}"
            )
        return index[cell]

    chemical = [c for c in connections if isinstance(c, Chemical)]
    electrical = [c for c in connections if isinstance(c, Electrical)]
    unknown = [c for c in connections if not isinstance(c, Chemical | Electrical)]
    if unknown:
        raise TypeError(f"connections must be Chemical or Electrical, got {unknown[0]!r}")
    for c in connections:
        check_nonnegative(f"strength of {c}", c.g, "nS")
        check_finite(f"strength of {c}", c.g, "nS")
        if isinstance(c, Electrical) and c.a == c.b:
            raise ValueError(f"{c}: a gap junction needs two different neurons")
        if isinstance(c, Chemical) and c.pre == c.post:
            warnings.warn(
                f"{c.name or c.pre + '->' + c.post}: a synapse from {c.pre!r} onto itself "
                "(an autapse)",
                stacklevel=2,
            )
    groups = []
    if chemical:
        groups.append(
            GradedSynapses(
                g=jnp.asarray([c.g for c in chemical], dtype=float),
                E=jnp.asarray([c.E for c in chemical], dtype=float),
                V_th=jnp.asarray([c.V_th for c in chemical], dtype=float),
                Delta=jnp.asarray([c.Delta for c in chemical], dtype=float),
                k_minus=jnp.asarray([c.k_minus for c in chemical], dtype=float),
                pre=tuple(lookup(c.pre, c) for c in chemical),
                post=tuple(lookup(c.post, c) for c in chemical),
                names=tuple(c.name or f"{c.pre}->{c.post}" for c in chemical),
            )
        )
    if electrical:
        groups.append(
            GapJunctions(
                g=jnp.asarray([c.g for c in electrical], dtype=float),
                a=tuple(lookup(c.a, c) for c in electrical),
                b=tuple(lookup(c.b, c) for c in electrical),
                names=tuple(c.name or f"{c.a}<->{c.b}" for c in electrical),
            )
        )
    synapse_names = [n for g in groups for n in g.names]
    if len(set(synapse_names)) != len(synapse_names):
        raise ValueError(
            f"synapse names must be unique; give `name=` to tell apart: {synapse_names}"
        )
    geometry = Geometry(area_cm2=PRINZ_AREA_CM2) if geometry is None else geometry
    check_positive("geometry.area_cm2", geometry.area_cm2, "cm²")
    return Network(
        neurons=cells, synapses=tuple(groups), geometry=geometry, neuron_names=names, name=name
    )


# ---- the pyloric circuit ------------------------------------------------------------------

#: The commonly used example circuit of Prinz et al. (2004) (strengths in nS).
PYLORIC_EXAMPLE_NS = {
    "AB->LP": 30.0,
    "PD->LP": 30.0,
    "AB->PY": 10.0,
    "PD->PY": 3.0,
    "LP->AB/PD": 30.0,
    "LP->PY": 1.0,
    "PY->LP": 30.0,
}


# ---- the Prinz et al. 2004 network database ---------------------------------------------

#: the 2004 cell variants of each position of the pyloric circuit
PYLORIC_2004_CELLS = {
    "AB/PD": ("AB/PD 1", "AB/PD 2", "AB/PD 3", "AB/PD 4", "AB/PD 5"),
    "LP": ("LP 1", "LP 2", "LP 3", "LP 4", "LP 5"),
    "PY": ("PY 1", "PY 2", "PY 3", "PY 4", "PY 5", "PY 6"),
}
#: the strengths (nS) of each synapse in the database: 0, 3, 10, 30, 100 for the four
#: synapses not onto PY and 0, 1, 3, 10, 30, 100 for the three onto PY (Prinz, Bucher &
#: Marder 2004, Methods)
PYLORIC_2004_LEVELS_NS = {
    "AB->LP": (0.0, 3.0, 10.0, 30.0, 100.0),
    "PD->LP": (0.0, 3.0, 10.0, 30.0, 100.0),
    "LP->AB/PD": (0.0, 3.0, 10.0, 30.0, 100.0),
    "PY->LP": (0.0, 3.0, 10.0, 30.0, 100.0),
    "AB->PY": (0.0, 1.0, 3.0, 10.0, 30.0, 100.0),
    "PD->PY": (0.0, 1.0, 3.0, 10.0, 30.0, 100.0),
    "LP->PY": (0.0, 1.0, 3.0, 10.0, 30.0, 100.0),
}
#: the digits of a network number, most significant first, and their bases
_PYLORIC_DIGITS = (*PYLORIC_2004_CELLS, *PYLORIC_2004_LEVELS_NS)
_PYLORIC_BASES = np.array(
    [len(v) for v in (*PYLORIC_2004_CELLS.values(), *PYLORIC_2004_LEVELS_NS.values())],
    dtype=np.int64,
)
#: 5 · 5 · 6 cell triples × 5⁴ · 6³ synapse settings = 20,250,000 networks
PYLORIC_2004_SIZE = int(np.prod(_PYLORIC_BASES))


def pyloric_2004_levels(network_number) -> np.ndarray:
    """The digits of network(s) ``network_number`` (1 … 20,250,000): indices of the AB/PD,
    LP and PY variants, then the level of each synapse in the order of
    `PYLORIC_2004_LEVELS_NS` (AB→LP, PD→LP, LP→AB/PD, PY→LP, AB→PY, PD→PY, LP→PY) — a
    mixed-radix number, AB/PD the most significant digit. (This numbering is
    jaxneuron's: the paper's own is not published.)

    >>> pyloric_2004_levels(1).tolist(), pyloric_2004_levels(20_250_000).tolist()
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [4, 4, 5, 4, 4, 4, 4, 5, 5, 5])
    """
    n = np.asarray(network_number, dtype=np.int64)
    if np.any((n < 1) | (n > PYLORIC_2004_SIZE)):
        raise ValueError(f"network numbers run from 1 to {PYLORIC_2004_SIZE}, got {network_number}")
    weights = np.cumprod(np.append(_PYLORIC_BASES[1:], 1)[::-1])[::-1]
    return ((n[..., None] - 1) // weights) % _PYLORIC_BASES


def pyloric_2004_network(network_number: int) -> tuple[dict[str, str], dict[str, float]]:
    """``(cells, strengths)`` of one database network: position → 2004 variant name, and
    synapse → strength in nS; `pyloric_circuit` builds it.

    >>> cells, strengths = pyloric_2004_network(1)
    >>> cells, strengths["AB->LP"]
    ({'AB/PD': 'AB/PD 1', 'LP': 'LP 1', 'PY': 'PY 1'}, 0.0)
    """
    digits = pyloric_2004_levels(int(network_number)).tolist()
    positions = PYLORIC_2004_CELLS.items()
    cells = {pos: names[d] for (pos, names), d in zip(positions, digits[:3], strict=True)}
    strengths = {
        syn: levels[d]
        for (syn, levels), d in zip(PYLORIC_2004_LEVELS_NS.items(), digits[3:], strict=True)
    }
    return cells, strengths


def pyloric_2004_number(cells: dict[str, str], strengths: dict[str, float]) -> int:
    """The database number of a network: ``cells`` position → variant (``"AB/PD 2"``, …),
    ``strengths`` synapse → nS on the database's levels; the inverse of
    `pyloric_2004_network`.

    >>> pyloric_2004_number(*pyloric_2004_network(123_456))
    123456
    """
    digits = []
    for position, names in PYLORIC_2004_CELLS.items():
        name = preset_name(cells[position])
        if name not in names:
            raise ValueError(f"{position}: {name!r} is not one of {names}")
        digits.append(names.index(name))
    for synapse, levels in PYLORIC_2004_LEVELS_NS.items():
        value = float(strengths[synapse])
        if value not in levels:
            raise ValueError(f"{synapse}: {value} nS is not a database level {levels}")
        digits.append(levels.index(value))
    weights = np.cumprod(np.append(_PYLORIC_BASES[1:], 1)[::-1])[::-1]
    return int(np.dot(digits, weights)) + 1


def pyloric_circuit(
    ab_pd: str = "AB/PD 2",
    lp: str = "LP 4",
    py: str = "PY 1",
    *,
    strengths: dict | None = None,
    V0: float = -50.0,
    Ca0: float = 0.05,
    name: str = "pyloric",
) -> Network:
    """The pyloric circuit of Prinz, Bucher & Marder (2004): an AB/PD cell (AB and PD
    lumped; it releases glutamate as AB and acetylcholine as PD), LP and PY, with the
    seven synapses AB→LP, PD→LP, AB→PY, PD→PY (cholinergic from PD, glutamatergic
    otherwise), LP→AB/PD, LP→PY, PY→LP.

    ``ab_pd``, ``lp``, ``py``: 2004 cell variants; ``strengths``: nS by synapse name
    (defaults: `PYLORIC_EXAMPLE_NS`; the paper uses 0, 1, 3, 10, 30, 100 nS). Every cell
    starts at ``V0`` (mV), ``Ca0`` (µM), gates at steady state.

    >>> net = pyloric_circuit()
    >>> [n for n in net.state_names if n.endswith(".s")]
    ['AB->LP.s', 'PD->LP.s', 'AB->PY.s', 'PD->PY.s', 'LP->AB/PD.s', 'LP->PY.s', 'PY->LP.s']
    """
    values = dict(PYLORIC_EXAMPLE_NS)
    for key, value in (strengths or {}).items():
        if key not in values:
            raise KeyError(f"unknown pyloric synapse {key!r}; synapses: {list(values)}")
        values[key] = value
    cells = {
        cell: build_Prinz(name=cell, config=PrinzConfig.preset(preset_name(p), V0=V0, Ca0=Ca0))
        for cell, p in (("AB/PD", ab_pd), ("LP", lp), ("PY", py))
    }
    connections = [
        Glutamatergic("AB/PD", "LP", values["AB->LP"], name="AB->LP"),
        Cholinergic("AB/PD", "LP", values["PD->LP"], name="PD->LP"),
        Glutamatergic("AB/PD", "PY", values["AB->PY"], name="AB->PY"),
        Cholinergic("AB/PD", "PY", values["PD->PY"], name="PD->PY"),
        Glutamatergic("LP", "AB/PD", values["LP->AB/PD"], name="LP->AB/PD"),
        Glutamatergic("LP", "PY", values["LP->PY"], name="LP->PY"),
        Glutamatergic("PY", "LP", values["PY->LP"], name="PY->LP"),
    ]
    return build_network(connections, cells, name=name)
