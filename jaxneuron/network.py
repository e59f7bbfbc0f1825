r"""Circuits of conductance-based neurons coupled by synapses.

A `Network` holds heterogeneous neurons and vectorised synapse groups as one pytree:
strengths are leaves (vmap over circuits, differentiate with respect to them), the
structure — which neuron, which connection — is static. It assembles one flat state

    y = [neuron 1 state, neuron 2 state, …, synapse gating variables]

with names ``"LP.V"``, ``"LP.Ca"``, ``"AB->LP.s"``, so `simulate` integrates it with any
solver exactly as a single neuron. Each neuron receives the synaptic and gap-junction
current in the linear form I = G·V − J, which the exponential integrator treats
implicitly in V.

Neurons are held one by one, so compile time grows with the number of neurons
(``scripts/bench_circuit.py`` measures it). Circuits of tens of cells are the target; for
large populations use `jaxneuron.spiking` (vectorised neurons) or vmap many small
circuits.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from ._numerics import advance
from ._protocols import AbstractNamedParts, AbstractSplitModel, NamedPart
from .neurons import ConductanceNeuron
from .synapses import (
    AbstractSynapseGroup,
    gather_rows,
)
from .units import Geometry


class Network(AbstractSplitModel, AbstractNamedParts):
    """Neurons coupled by synapse groups (see `build_network`, `pyloric_circuit`).

    **Fields:** ``neurons`` (a tuple of `ConductanceNeuron`), ``synapses`` (a tuple of
    `GradedSynapses` / `GapJunctions`), ``geometry`` (the membrane area that converts
    nS to mS/cm²), ``neuron_names`` (static), ``name`` (static).
    """

    neurons: tuple[ConductanceNeuron, ...]
    synapses: tuple
    geometry: Geometry
    neuron_names: tuple[str, ...] = eqx.field(static=True)
    name: str = eqx.field(static=True, default="network")
    stiff: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        if len(self.neuron_names) != len(self.neurons):
            raise ValueError("Network: one name per neuron")
        if len(set(self.neuron_names)) != len(self.neuron_names):
            raise ValueError(f"Network: neuron names must be unique: {self.neuron_names}")
        n = len(self.neurons)
        for group in self.synapses:
            if not isinstance(group, AbstractSynapseGroup):
                raise TypeError(
                    f"Network: synapses must be synapse groups (GradedSynapses, GapJunctions), "
                    f"got {type(group).__name__}"
                )
            if any(i < 0 or i >= n for i in group.neuron_indices()):
                raise ValueError(f"Network: a synapse refers to a neuron index outside 0…{n - 1}")

    # ---- structure -----------------------------------------------------------------

    def neuron(self, name: str) -> ConductanceNeuron:
        """The neuron called ``name``; usable inside `eqx.tree_at`."""
        try:
            return self.neurons[self.neuron_names.index(name)]
        except ValueError:
            raise KeyError(
                f"{self.name} has no neuron {name!r}; neurons: {self.neuron_names}"
            ) from None

    def named_part(self, name: str) -> NamedPart | None:
        """A neuron by its name, or a synapse by its name (one entry of its group)."""
        if name in self.neuron_names:
            return NamedPart(("neurons", self.neuron_names.index(name)))
        for k, group in enumerate(self.synapses):
            if name in group.names:
                return NamedPart(("synapses", k), group.names.index(name), len(group.names))
        return None

    @property
    def state_names(self) -> tuple[str, ...]:
        names = []
        for cell, neuron in zip(self.neuron_names, self.neurons, strict=True):
            names.extend(f"{cell}.{state}" for state in neuron.state_names)
        for group in self.synapses:
            names.extend(group.state_names())
        return tuple(names)

    def compensated_states(self, dt: float) -> tuple[bool, ...]:
        """Each neuron's (`ConductanceNeuron.compensated_states`), then every synapse."""
        flags = [f for neuron in self.neurons for f in neuron.compensated_states(dt)]
        return tuple(flags) + (True,) * sum(g.num_states for g in self.synapses)

    def parameters(self) -> dict:
        out = {}
        for cell, neuron in zip(self.neuron_names, self.neurons, strict=True):
            out.update({f"{cell}.{k}": v for k, v in neuron.parameters().items()})
        for group in self.synapses:
            for name, g in zip(
                group.names, jnp.broadcast_to(group.g, (len(group.names),)), strict=True
            ):
                out[f"{name}.g_nS"] = g
        return out

    def stimuli(self) -> tuple:
        return tuple(neuron.stimulus for neuron in self.neurons)

    def _sizes(self):
        return [n.num_states for n in self.neurons], [g.num_states for g in self.synapses]

    def _unpack(self, y):
        neuron_sizes, synapse_sizes = self._sizes()
        parts, i = [], 0
        for size in neuron_sizes + synapse_sizes:
            parts.append(y[i : i + size])
            i += size
        return parts[: len(neuron_sizes)], parts[len(neuron_sizes) :]

    def _voltages(self, states) -> tuple:
        return tuple(state[0] for state in states)

    def _to_density(self, g_nS):
        return self.geometry.conductance_density(g_nS)

    def synapse_inputs(self, V, synapse_states):
        """(G, J), one row per neuron, from the potentials ``V`` (one row per neuron) and
        the groups' states (one row per synapse)."""
        n = len(self.neurons)
        G = J = jnp.zeros((n,) + jnp.shape(V[0]), jnp.result_type(V[0]))
        for group, s in zip(self.synapses, synapse_states, strict=True):
            dG, dJ = group.inputs(V, s, self._to_density, n)
            G, J = G + dG, J + dJ
        return G, J

    # ---- dynamics -------------------------------------------------------------------

    def initial_state(self):
        """Each neuron at its own initial state; each synapse at s∞(V0 of its presynaptic cell)."""
        states = [n.initial_state() for n in self.neurons]
        V = self._voltages(states)
        synapse_states = [jnp.stack(g.initial_state(V)) for g in self.synapses if g.num_states]
        return jnp.concatenate(states + synapse_states)

    def synaptic_inputs(self, y):
        """(G, J) per neuron for the state ``y``: the synaptic current into neuron i is
        G[i]·V[i] − J[i] (µA/cm², outward positive)."""
        states, synapse_states = self._unpack(y)
        return self.synapse_inputs(self._voltages(states), synapse_states)

    def _fields(self, t, y, which):
        states, synapse_states = self._unpack(y)
        V = self._voltages(states)
        G, J = self.synapse_inputs(V, synapse_states)
        parts = []
        for i, (neuron, state) in enumerate(zip(self.neurons, states, strict=True)):
            field = {
                "all": neuron.vector_field,
                "membrane": neuron.membrane_field,
                "gates": neuron.gate_field,
            }[which]
            if which == "gates":
                parts.append(field(t, state))
            else:
                parts.append(field(t, state, inputs=(G[i], J[i])))
        for group, s in zip(self.synapses, synapse_states, strict=True):
            if group.num_states:
                ds = group.derivative(V, s)
                parts.append(jnp.zeros_like(ds) if which == "membrane" else ds)
        return jnp.concatenate(parts).astype(y.dtype)

    def vector_field(self, t, y, args=None):
        return self._fields(t, y, "all")

    def membrane_field(self, t, y, args=None):
        """Explicit part for KenCarp: membrane potentials and calcium."""
        return self._fields(t, y, "membrane")

    def gate_field(self, t, y, args=None):
        """Implicit part for KenCarp: gates and synaptic gating (stiff as τs → 0)."""
        return self._fields(t, y, "gates")

    def synapse_step(self, V, synapse_states, compensation, dt):
        """The synapses' part of `fixed_step`: every group advances with the potentials
        ``V`` (one row per neuron). ``synapse_states`` and ``compensation`` (None, or like
        the states) hold one array per group, one row per synapse. Returns ``(states,
        compensation, (G, J))``: the new states and compensation, and the input each
        neuron then receives (one row per neuron, see `synaptic_inputs`)."""
        states, c_states = self.advance_synapses(V, synapse_states, compensation, dt)
        return states, c_states, self.synapse_inputs(V, states)

    def advance_synapses(self, V, synapse_states, compensation, dt):
        """Every group's states (one array per group, one row per synapse) and their
        compensation (None, or like the states) after a step of ``dt`` ms with the
        potentials ``V`` (one row per neuron) frozen."""
        states, c_states = [], []
        for group, s, c in zip(self.synapses, synapse_states, compensation, strict=True):
            s, c = advance(s, group.increment(V, s, dt), c) if group.num_states else (s, c)
            states.append(s)
            c_states.append(c)
        return states, c_states

    def fixed_step(self, t, y, dt, compensation=None):
        """One split exponential-Euler step on the state tuple (see
        `ConductanceNeuron.fixed_step`): the synapses advance with V(n), like gates, then
        each neuron takes its step with the synaptic input of the new s and the
        gap-junction partners' V(n). Returns ``(y_next, compensation_next)``."""
        states, synapse_states = self._unpack(tuple(y))
        c_states, c_synapses = self._unpack(
            (None,) * len(y) if compensation is None else tuple(compensation)
        )
        as_rows = lambda rows: gather_rows(rows, tuple(range(len(rows))))  # noqa: E731
        new_synapses, new_c_synapses, (G, J) = self.synapse_step(
            self._voltages(states),
            [as_rows(s) for s in synapse_states],
            [None if compensation is None else as_rows(c) for c in c_synapses],
            dt,
        )
        y_next, c_next = [], []
        for i, (neuron, state, c) in enumerate(zip(self.neurons, states, c_states, strict=True)):
            y_i, c_i = neuron.fixed_step(
                t, state, dt, None if compensation is None else c, inputs=(G[i], J[i])
            )
            y_next.extend(y_i)
            c_next.extend(c_i or ())
        for group, s, c in zip(self.synapses, new_synapses, new_c_synapses, strict=True):
            y_next.extend(s[k] for k in range(group.num_states))
            if compensation is not None:
                c_next.extend(c[k] for k in range(group.num_states))
        return tuple(y_next), None if compensation is None else tuple(c_next)
