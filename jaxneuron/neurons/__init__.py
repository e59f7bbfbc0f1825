"""Neuron models: the generic conductance-based neuron and builders named as in
MTKNeuralToolkit."""

from .._precision import as_dtype
from ._driven import AbstractDrivenNeuron
from ._neuron import ConductanceNeuron
from ._regulated import RegulatedNeuron
from .hh import HHConfig, TraubMilesConfig, build_HH, build_TraubMiles
from .integrate_and_fire import (
    IZHIKEVICH_2003,
    LIF,
    NAUD_2008,
    AdEx,
    AdExConfig,
    IntegrateAndFire,
    Izhikevich,
    IzhikevichConfig,
    LIFConfig,
    build_AdEx,
    build_Izhikevich,
    build_LIF,
)
from .regulation import (
    AbstractRegulator,
    CalciumSensor,
    IntegralControl,
    IntegralController,
    LiuCoupling,
    LiuRegulation,
    liu_1998_regulation,
)
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
    "RegulatedNeuron",
    "AbstractRegulator",
    "LiuRegulation",
    "CalciumSensor",
    "LiuCoupling",
    "liu_1998_regulation",
    "IntegralControl",
    "IntegralController",
    "AbstractDrivenNeuron",
    "as_dtype",
    "HHConfig",
    "build_HH",
    "TraubMilesConfig",
    "build_TraubMiles",
    "IntegrateAndFire",
    "LIF",
    "AdEx",
    "Izhikevich",
    "LIFConfig",
    "AdExConfig",
    "IzhikevichConfig",
    "build_LIF",
    "build_AdEx",
    "build_Izhikevich",
    "NAUD_2008",
    "IZHIKEVICH_2003",
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
