"""Stomatogastric neurons: Liu et al. 1998 and Prinz et al. 2003, with MTKNeuralToolkit's
configuration records.

MTKNeuralToolkit's field names are kept: ``K`` is the transient A-current and ``DRK`` the delayed
rectifier Kd (aliases ``A_g``/``Kd_g`` and ``A_E``/``Kd_E`` are accepted). In the model the
channels carry the papers' names: Na, CaT, CaS, A, KCa, Kd, H, Leak.

**About "159.2".** MTKNeuralToolkit (the Julia toolkit this package replaces) multiplied
densities in mS/cm² by 159.2. Its origin is not known: it has been read as (10 nF/mm²) /
(0.0628 mm²), a conversion for a simulator that keeps conductances in µS/mm², but xolotl,
the obvious such simulator (µS/mm², 10 nF/mm²), uses no such factor, and 1000/2π = 159.15
rounds to 159.2 as well. Whatever its source, with C = 1 µF/cm² it makes every conductance
159.2× too large relative to the capacitance: the membrane time constant C/g shrinks
159-fold, the fast currents dominate, and the cell no longer bursts as in the papers. Here
units are explicit (densities in mS/cm², C in µF/cm², whole-cell quantities through
`Geometry`), so no such factor is needed; ``g_scale`` is an ordinary leaf that multiplies
every conductance, so it reproduces the factor, or a fit recovers it, when a data set was
made with it.

**RT/2F.** E_Ca uses ``nernst_factor`` = RT/2F = 12.2 mV by default, its value at 10.0 °C
(`jaxneuron.calcium.nernst_factor_mv`); xolotl uses 0.0431·(T + 273.15) mV, 12.247 mV at
11 °C, which changes the isolated LP 4's firing by 5 % (310 against 294 spikes in 15 s).
Set ``nernst_factor`` (a leaf, so it can be swept or fitted) to match another simulator or
temperature.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from .._validation import check_finite, check_nonnegative, check_positive
from ..calcium import NERNST_FACTOR_MV, CalciumPool, liu_influx_factor, prinz_influx_factor
from ..channels import (
    Leak,
    LiuA,
    LiuCaS,
    LiuCaT,
    LiuH,
    LiuKCa,
    LiuKd,
    LiuNa,
    PrinzA,
    PrinzCaS,
    PrinzCaT,
    PrinzH,
    PrinzKCa,
    PrinzKd,
    PrinzNa,
)
from ..stimuli import as_stimulus
from ..units import PRINZ_AREA_CM2, Geometry
from ._config import config
from ._neuron import ConductanceNeuron

#: Channel order of conductance vectors (Prinz et al. 2003, 2004).
CHANNEL_ORDER = ("Na", "CaT", "CaS", "A", "KCa", "Kd", "H", "Leak")
_SEED_FIELDS = ("Na", "CaT", "CaS", "K", "KCa", "DRK", "H", "Leak")
_ALIASES = {"A_g": "K_g", "Kd_g": "DRK_g", "A_E": "K_E", "Kd_E": "DRK_E"}


def _validate(cfg, name):
    for field in _SEED_FIELDS:
        check_nonnegative(f"{name}.{field}_g", getattr(cfg, f"{field}_g"), "mS/cm²")
        E = getattr(cfg, f"{field}_E")
        if E is not None:
            check_finite(f"{name}.{field}_E", E, "mV")
    check_finite(f"{name}.V0", cfg.V0, "mV")
    check_positive(f"{name}.Ca0", cfg.Ca0, "µM")
    check_positive(f"{name}.C", cfg.C, "µF/cm²")
    check_nonnegative(f"{name}.g_scale", cfg.g_scale, "")
    check_positive(f"{name}.Ca_tau", cfg.Ca_tau, "ms")
    check_nonnegative(f"{name}.Ca_f", cfg.Ca_f, "µM per unit current")
    check_positive(f"{name}.Ca_out", cfg.Ca_out, "µM")


@dataclasses.dataclass(frozen=True, kw_only=True)
class _STGConfig:
    """The fields shared by `PrinzConfig` and `LiuConfig` (MTKNeuralToolkit's names)."""

    Na_g: float = 100.0
    CaT_g: float = 2.5
    CaS_g: float = 6.0
    K_g: float = 50.0
    KCa_g: float = 5.0
    DRK_g: float = 100.0
    H_g: float = 0.01
    Leak_g: float = 0.0
    Na_E: float = 50.0
    CaT_E: float | None = None
    CaS_E: float | None = None
    K_E: float = -80.0
    KCa_E: float = -80.0
    DRK_E: float = -80.0
    H_E: float = -20.0
    Leak_E: float = -50.0
    V0: float = -50.0
    Ca0: float = 0.05
    C: float = 1.0
    g_scale: float = 1.0
    Ca_tau: float = 200.0
    Ca_f: float = 14.96
    Ca_out: float = 3000.0
    nernst_factor: float = NERNST_FACTOR_MV

    def __post_init__(self):
        _validate(self, type(self).__name__)

    def conductances(self) -> np.ndarray:
        """Maximal conductances (mS/cm²) in `CHANNEL_ORDER`."""
        return np.array([getattr(self, f"{f}_g") for f in _SEED_FIELDS], dtype=float)

    def replace(self, **changes):
        """A copy with some fields changed (aliases accepted)."""
        changes = {_ALIASES.get(k, k): v for k, v in changes.items()}
        return type(self)(**{**dataclasses.asdict(self), **changes})

    @classmethod
    def from_conductances(cls, g, **fields):
        """A config with the 8 maximal conductances ``g`` (mS/cm², `CHANNEL_ORDER`)."""
        g = np.asarray(g, dtype=float)
        if g.shape != (8,):
            raise ValueError(
                f"expected 8 conductances (mS/cm²) in the order {CHANNEL_ORDER}, got shape "
                f"{g.shape}"
            )
        values = dict(zip([f"{f}_g" for f in _SEED_FIELDS], g.tolist(), strict=True))
        return cls(**values, **fields)

    @classmethod
    def preset(cls, name: str, **fields):
        """A Prinz, Bucher & Marder (2004) cell: ``"AB/PD 1"`` … ``"AB/PD 5"``, ``"LP 1"`` …
        ``"LP 5"``, ``"PY 1"`` … ``"PY 6"``; ``fields`` override the rest (V0, Ca0, …)."""
        return cls.from_conductances(PRINZ_2004[preset_name(name)], **fields)


@config(aliases=_ALIASES)
class PrinzConfig(_STGConfig):
    """Parameters of a Prinz et al. (2003) model neuron; defaults are AB/PD 2 of Prinz 2004.

    Conductances ``*_g`` in mS/cm² (``K`` = A-current, ``DRK`` = delayed rectifier Kd);
    reversals ``*_E`` in mV (None for CaS/CaT: Nernst from [Ca]); ``V0`` (mV) and ``Ca0``
    (µM) the initial state, gates at steady state for both; ``C`` in µF/cm²; ``g_scale`` a
    factor on every conductance; calcium: ``Ca_tau`` (ms), ``Ca_f`` (µM/nA, whole cell),
    ``Ca_out`` (µM), ``nernst_factor`` RT/2F (mV); ``area_cm2`` the membrane area.

    >>> PrinzConfig(Na_g=80.0, K_g=40.0, CaS_g=10.0, Leak_g=0.05, C=2.0, V0=-70.0).A_g
    40.0
    >>> PrinzConfig.preset("LP 4").conductances().tolist()
    [100.0, 0.0, 4.0, 20.0, 0.0, 25.0, 0.05, 0.03]
    """

    Ca_tau: float = 200.0
    Ca_f: float = 14.96
    area_cm2: float = PRINZ_AREA_CM2

    def __post_init__(self):
        super().__post_init__()
        check_positive("PrinzConfig.area_cm2", self.area_cm2, "cm²")


@config(aliases=_ALIASES)
class LiuConfig(_STGConfig):
    """Parameters of a Liu et al. (1998) model neuron (same fields as `PrinzConfig`; the
    defaults are MTKNeuralToolkit's, equal to AB/PD 2). Calcium: ``Ca_tau`` 20 ms and ``Ca_f``
    0.94 µM per nA/nF (current over capacitance)."""

    Ca_tau: float = 20.0
    Ca_f: float = 0.94


def _build(channel_classes, pool, cfg, stimulus, name):
    channels = tuple(
        cls(g=getattr(cfg, f"{field}_g"), E=getattr(cfg, f"{field}_E"))
        for cls, field in zip(channel_classes, _SEED_FIELDS, strict=True)
    )
    return ConductanceNeuron(
        channels=channels,
        channel_names=CHANNEL_ORDER,
        C=cfg.C,
        V0=cfg.V0,
        Ca0=cfg.Ca0,
        calcium=pool,
        g_scale=cfg.g_scale,
        stimulus=as_stimulus(stimulus),
        name=name,
        stiff=True,
    )


def build_Prinz(stimulus=None, *, name: str = "neuron", config: PrinzConfig | None = None):
    """Build a Prinz et al. (2003) neuron: Na, CaT, CaS, A, KCa, Kd, H, leak and a calcium
    pool (τ 200 ms, 14.96 µM/nA over the area 0.628·10⁻³ cm²).

    ``stimulus`` in µA/cm² (a stimulus, a number or a function of t in ms). The state
    starts at ``config.V0``, ``config.Ca0`` with every gate at steady state.

    >>> from jaxneuron import PrinzConfig, build_Prinz
    >>> neuron = build_Prinz(name="AB", config=PrinzConfig.preset("AB/PD 2"))
    >>> neuron.state_names[:4]
    ('V', 'Ca', 'Na.m', 'Na.h')
    """
    cfg = PrinzConfig() if config is None else config
    if not isinstance(cfg, PrinzConfig):
        raise TypeError(f"config must be a PrinzConfig, got {type(cfg).__name__}")
    pool = CalciumPool(
        tau=cfg.Ca_tau,
        influx_factor=prinz_influx_factor(cfg.Ca_f, Geometry(area_cm2=cfg.area_cm2)),
        Ca_out=cfg.Ca_out,
        nernst_factor=cfg.nernst_factor,
    )
    classes = (PrinzNa, PrinzCaT, PrinzCaS, PrinzA, PrinzKCa, PrinzKd, PrinzH, Leak)
    return _build(classes, pool, cfg, stimulus, name)


def build_Liu(stimulus=None, *, name: str = "neuron", config: LiuConfig | None = None):
    """Build a Liu et al. (1998) neuron: the same currents with Liu's time constants and H
    current, and a calcium pool (τ 20 ms, 0.94 µM per nA/nF).

    In this model's bursts (Liu et al. 1998, Fig. 3) only the first spike overshoots 0 mV;
    the others peak on the plateau, between about −25 and 0 mV. Count them by their shape
    (`jaxneuron.analysis.prominent_spike_times`, passed to ``classify(..., spikes=...)``
    and ``burst_metrics``): the 0-mV crossings of the default spike detection, and of a
    sweep's streaming features, miss them and call such a burster tonic or irregular.

    >>> from jaxneuron import build_Liu
    >>> build_Liu(name="liu").channel_names
    ('Na', 'CaT', 'CaS', 'A', 'KCa', 'Kd', 'H', 'Leak')
    """
    cfg = LiuConfig() if config is None else config
    if not isinstance(cfg, LiuConfig):
        raise TypeError(f"config must be a LiuConfig, got {type(cfg).__name__}")
    pool = CalciumPool(
        tau=cfg.Ca_tau,
        influx_factor=liu_influx_factor(cfg.Ca_f, cfg.C),
        Ca_out=cfg.Ca_out,
        nernst_factor=cfg.nernst_factor,
    )
    classes = (LiuNa, LiuCaT, LiuCaS, LiuA, LiuKCa, LiuKd, LiuH, Leak)
    return _build(classes, pool, cfg, stimulus, name)


# ---- Prinz, Bucher & Marder 2004 cells ---------------------------------------------------

#: Maximal conductances (mS/cm², `CHANNEL_ORDER`) of the 2004 model neurons.
PRINZ_2004: dict[str, tuple[float, ...]] = {
    "AB/PD 1": (400, 2.5, 6, 50, 10, 100, 0.01, 0),
    "AB/PD 2": (100, 2.5, 6, 50, 5, 100, 0.01, 0),
    "AB/PD 3": (200, 2.5, 4, 50, 5, 50, 0.01, 0),
    "AB/PD 4": (200, 5.0, 4, 40, 5, 125, 0.01, 0),
    # sources disagree on CaT (2.5 in two re-implementations, 5.0 in a third); 2.5 here
    "AB/PD 5": (300, 2.5, 2, 10, 5, 125, 0.01, 0),
    "LP 1": (100, 0, 8, 40, 5, 75, 0.05, 0.02),
    "LP 2": (100, 0, 6, 30, 5, 50, 0.05, 0.02),
    "LP 3": (100, 0, 10, 50, 5, 100, 0, 0.03),
    "LP 4": (100, 0, 4, 20, 0, 25, 0.05, 0.03),
    "LP 5": (100, 0, 6, 30, 0, 50, 0.03, 0.02),
    "PY 1": (100, 2.5, 2, 50, 0, 125, 0.05, 0.01),
    "PY 2": (200, 7.5, 0, 50, 0, 75, 0.05, 0),
    "PY 3": (200, 10, 0, 50, 0, 100, 0.03, 0),
    "PY 4": (400, 2.5, 2, 50, 0, 75, 0.05, 0),
    "PY 5": (500, 2.5, 2, 40, 0, 125, 0.01, 0.03),
    "PY 6": (500, 2.5, 2, 40, 0, 125, 0, 0.02),
}


def preset_name(name: str) -> str:
    """Normalise a 2004 cell name: ``"abpd2"``, ``"AB/PD 2"``, ``"LP4"`` → canonical."""
    key = re.sub(r"[\s/_-]", "", str(name)).upper()
    for canonical in PRINZ_2004:
        if re.sub(r"[\s/]", "", canonical) == key:
            return canonical
    raise ValueError(f"unknown Prinz 2004 preset {name!r}; choose from {list(PRINZ_2004)}")


# ---- the Prinz et al. 2003 database ------------------------------------------------------

#: Conductance step per level (mS/cm², `CHANNEL_ORDER`); levels 0…5 in each channel.
PRINZ_2003_STEPS = np.array([100.0, 2.5, 2.0, 10.0, 5.0, 25.0, 0.01, 0.01])
#: The number of models in the Prinz et al. (2003) database: 6 levels of 8 conductances.
PRINZ_2003_SIZE = 6**8


def prinz_2003_levels(model_number):
    """Levels (0…5) of the 8 conductances of database model ``model_number`` (1…1,679,616):
    the base-6 digits of n − 1, Na the most significant, leak the least.

    >>> prinz_2003_levels(1).tolist(), prinz_2003_levels(1_679_616).tolist()
    ([0, 0, 0, 0, 0, 0, 0, 0], [5, 5, 5, 5, 5, 5, 5, 5])
    """
    n = np.asarray(model_number, dtype=np.int64)
    if np.any((n < 1) | (n > PRINZ_2003_SIZE)):
        raise ValueError(f"model numbers run from 1 to {PRINZ_2003_SIZE}, got {model_number}")
    powers = 6 ** np.arange(7, -1, -1, dtype=np.int64)
    return ((n[..., None] - 1) // powers) % 6


def prinz_2003_conductances(model_number) -> np.ndarray:
    """Maximal conductances (mS/cm², `CHANNEL_ORDER`) of database model(s) ``model_number``."""
    return prinz_2003_levels(model_number) * PRINZ_2003_STEPS


def prinz_2003_model_number(levels=None, *, conductances=None):
    """The database model number of given levels (0…5), or of conductances on the grid.

    >>> int(prinz_2003_model_number(conductances=[100, 2.5, 6, 50, 5, 100, 0.01, 0]))
    356767
    """
    if (levels is None) == (conductances is None):
        raise TypeError("give either levels or conductances")
    if conductances is not None:
        ratio = np.asarray(conductances, dtype=float) / PRINZ_2003_STEPS
        levels = np.rint(ratio)
        if np.any(np.abs(ratio - levels) > 1e-6):
            raise ValueError(
                f"conductances {conductances} are not on the Prinz 2003 grid (steps "
                f"{PRINZ_2003_STEPS.tolist()} mS/cm²)"
            )
    levels = np.asarray(levels, dtype=np.int64)
    if levels.shape[-1:] != (8,) or np.any((levels < 0) | (levels > 5)):
        raise ValueError(f"levels must be 8 integers in 0…5, got {levels.tolist()}")
    powers = 6 ** np.arange(7, -1, -1, dtype=np.int64)
    return (levels * powers).sum(axis=-1) + 1
