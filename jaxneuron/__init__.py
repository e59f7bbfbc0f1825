"""jaxneuron: differentiable simulation of conductance-based neurons on jax + diffrax.

Units: ms, mV, µF/cm², mS/cm², µA/cm², µM (see `jaxneuron.units`).
"""

from . import analysis, channels, plot, stimuli, units
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
from .neurons import ConductanceNeuron, HHConfig, as_dtype, build_HH
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
