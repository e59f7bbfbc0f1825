"""Integration: `simulate` over diffrax's adaptive solvers and the exponential integrator."""

from ._events import FastSigmoid, SpikingSolution, simulate_spiking
from ._fixed_step import (
    AbstractObserver,
    ExponentialEuler,
    SpikeEvent,
    SpikeSlots,
    VoltageFeatures,
    fixed_step_loop,
    initial_carry,
    initial_spiking_carry,
    model_step,
    needs_compensation,
    reset_step,
    spiking_step,
    steps_before,
    steps_in,
    unroll_for,
)
from ._grid import TimeGrid, check_save_memory, time_grid
from ._methods import (
    SOLVERS,
    AbstractMethod,
    SolveSettings,
    as_method,
    default_solver,
    fixed_step_options,
    get_solver,
)
from ._simulate import simulate
from ._solution import SimulationError, Solution
from ._trbdf2 import TRBDF2

__all__ = [
    "simulate",
    "simulate_spiking",
    "SpikingSolution",
    "FastSigmoid",
    "Solution",
    "SimulationError",
    "ExponentialEuler",
    "TRBDF2",
    "SOLVERS",
    "default_solver",
    "get_solver",
    # how a solve runs: the method a solver stands for, and the options it reads
    "AbstractMethod",
    "as_method",
    "SolveSettings",
    "fixed_step_options",
    # the fixed-step driver and its pieces (used by sweeps and spiking networks)
    "fixed_step_loop",
    "model_step",
    "spiking_step",
    "reset_step",
    "initial_carry",
    "initial_spiking_carry",
    "needs_compensation",
    "unroll_for",
    "steps_in",
    "steps_before",
    "AbstractObserver",
    "VoltageFeatures",
    "SpikeSlots",
    "SpikeEvent",
    "TimeGrid",
    "time_grid",
    "check_save_memory",
]
