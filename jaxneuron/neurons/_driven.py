"""A conductance-based neuron driven by an external current linear in V (a clamp, a
coupling to a recording): the shared part of `jaxneuron.clamp.Clamped` and
`jaxneuron.fit.Nudged`."""

from __future__ import annotations

import abc

import equinox as eqx

from .._protocols import AbstractSplitModel
from ._neuron import ConductanceNeuron


class AbstractDrivenNeuron(AbstractSplitModel):
    """``neuron`` with the extra current I = G·V − J (µA/cm², outward positive) of
    `inputs`, passed to every one of its integrators (see `ConductanceNeuron.vector_field`):
    the exponential-Euler step treats G implicitly and J explicitly."""

    neuron: eqx.AbstractVar[ConductanceNeuron]

    @abc.abstractmethod
    def inputs(self, t, V):
        """``(G, J)``: G in mS/cm², J in µA/cm², at time t (ms) and potential V (mV)."""

    @property
    def name(self) -> str:
        return self.neuron.name

    @property
    def state_names(self):
        return self.neuron.state_names

    def vector_field(self, t, y, args=None):
        return self.neuron.vector_field(t, y, args, inputs=self.inputs(t, y[0]))

    def membrane_field(self, t, y, args=None):
        return self.neuron.membrane_field(t, y, args, inputs=self.inputs(t, y[0]))

    def gate_field(self, t, y, args=None):
        return self.neuron.gate_field(t, y, args)

    def fixed_step(self, t, y, dt, compensation=None):
        return self.neuron.fixed_step(t, y, dt, compensation, inputs=self.inputs(t, y[0]))
