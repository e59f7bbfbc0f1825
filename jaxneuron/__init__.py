"""jaxneuron: differentiable simulation of conductance-based neurons on jax + diffrax.

Units: ms, mV, µF/cm², mS/cm², µA/cm², µM (see `jaxneuron.units`).
"""

from . import analysis, calcium, channels, plot, stimuli, units
from .calcium import CalciumPool
from .channels import IonChannel, Leak
from .integrate import (
    SOLVERS,
    TRBDF2,
    ExponentialEuler,
    SimulationError,
    Solution,
    default_solver,
    get_solver,
    simulate,
)
from .neurons import (
    CHANNEL_ORDER,
    PRINZ_2003_SIZE,
    PRINZ_2003_STEPS,
    PRINZ_2004,
    ConductanceNeuron,
    HHConfig,
    LiuConfig,
    PrinzConfig,
    as_dtype,
    build_HH,
    build_Liu,
    build_Prinz,
    preset_name,
    prinz_2003_conductances,
    prinz_2003_levels,
    prinz_2003_model_number,
)
from .stimuli import (
    AbstractStimulus,
    Constant,
    Interpolated,
    PulseTrain,
    Sine,
    Step,
    TimeVaryingFunction,
)
from .units import Geometry

__version__ = "0.1.0"

__all__ = [
    "analysis",
    "plot",
    "channels",
    "stimuli",
    "units",
    "IonChannel",
    "Leak",
    "ConductanceNeuron",
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
    "CalciumPool",
    "calcium",
    "as_dtype",
    "simulate",
    "Solution",
    "SimulationError",
    "ExponentialEuler",
    "TRBDF2",
    "SOLVERS",
    "default_solver",
    "get_solver",
    "AbstractStimulus",
    "Constant",
    "Step",
    "PulseTrain",
    "Sine",
    "TimeVaryingFunction",
    "Interpolated",
    "Geometry",
]
