"""Neuron models: the generic conductance-based neuron and the seed-style builders."""

from ._neuron import ConductanceNeuron, as_dtype
from .hh import HHConfig, build_HH

__all__ = ["ConductanceNeuron", "as_dtype", "HHConfig", "build_HH"]
