"""Integration: `simulate` over diffrax's adaptive solvers and the exponential integrator."""

from ._events import FastSigmoid, SpikingSolution, simulate_spiking
from ._exponential import ExponentialEuler
from ._simulate import SOLVERS, default_solver, get_solver, simulate
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
]
