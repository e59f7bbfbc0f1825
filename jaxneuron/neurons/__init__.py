"""Neuron models: the generic conductance-based neuron and the seed-style builders."""

from ._neuron import ConductanceNeuron, as_dtype
from .hh import HHConfig, build_HH
from .stg import (
    CHANNEL_ORDER,
    PRINZ_2003_SIZE,
    PRINZ_2003_STEPS,
    PRINZ_2004,
    LiuConfig,
    PrinzConfig,
    build_Liu,
    build_Prinz,
    preset_name,
    prinz_2003_conductances,
    prinz_2003_levels,
    prinz_2003_model_number,
)

__all__ = [
    "ConductanceNeuron",
    "as_dtype",
    "HHConfig",
    "build_HH",
    "LiuConfig",
    "PrinzConfig",
    "build_Liu",
    "build_Prinz",
    "CHANNEL_ORDER",
    "PRINZ_2004",
    "PRINZ_2003_SIZE",
    "PRINZ_2003_STEPS",
    "preset_name",
    "prinz_2003_levels",
    "prinz_2003_conductances",
    "prinz_2003_model_number",
]
