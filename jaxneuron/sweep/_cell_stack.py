r"""Circuits batch-minor: the population engine's layout for a population of circuits.

The engine holds every state variable of a population as one vector over its models.
A circuit's cells would then be separate vectors (``AB/PD.V``, ``LP.V``, ``PY.V``, each of
shape (models,)), and each cell's step a separate stream of small kernels. When the
cells share their structure — the same channels and calcium pool, the same kind of
stimulus, only the parameter values differ, as in every circuit of the Prinz et al.
(2004) database — `CellStack` holds each of their state variables as one array of shape
(cells, models) and steps them as one neuron whose parameters have one row per cell
(shape (cells, 1), or (cells, models) where swept). The cells then cost what a
population of single neurons of cells × models costs. The synapses of a group are one
(synapses, models) array too, and read and feed the rows of the cells through
`jaxneuron.synapses.gather_rows` and `scatter_rows`, which XLA fuses into the cells'
kernel (a gather, a stack or a concatenation would split it).

The arithmetic is `jaxneuron.Network.fixed_step`'s, operation for operation, so a
circuit gives the same numbers stacked or not.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp

from ..analysis import StreamingFeatures
from ..integrate import AbstractObserver
from ..network import Network
from ..neurons import ConductanceNeuron


def _anonymous(neuron):
    return dataclasses.replace(neuron, name="cell")


def stackable(model) -> bool:
    """Whether ``model`` is a `Network` of at least two `ConductanceNeuron` that share their
    structure and have only scalar parameters, which `CellStack` can hold stacked."""
    if not isinstance(model, Network) or len(model.neurons) < 2:
        return False
    if not all(isinstance(n, ConductanceNeuron) for n in model.neurons):
        return False
    cells = [_anonymous(n) for n in model.neurons]
    structure = jax.tree_util.tree_structure(cells[0])
    return all(
        jax.tree_util.tree_structure(c) == structure
        and all(jnp.ndim(leaf) == 0 for leaf in jax.tree_util.tree_leaves(c))
        for c in cells
    )


class CellStack(eqx.Module):
    """A population of circuits (`Network`) with its cells stacked (see the module's
    docstring). ``cells`` is one `ConductanceNeuron` whose leaves have a leading axis of
    cells; ``network`` the population's circuit, its synapse parameters batch-minor
    (one row per synapse, then the models). Its state tuple is one (cells, models) array
    per state variable of a cell, then one (synapses, models) array per synapse group
    with states (`pack`, `unpack`)."""

    cells: ConductanceNeuron
    network: Network

    @property
    def n_cells(self) -> int:
        return len(self.network.neurons)

    @property
    def n_states(self) -> int:
        """State variables per cell."""
        return self.cells.num_states

    def _groups(self) -> list[tuple[int, int]]:
        """(first state index, number of states) of each synapse group with states."""
        out, i = [], self.n_states * self.n_cells
        for group in self.network.synapses:
            out.append((i, group.num_states))
            i += group.num_states
        return out

    def pack(self, y) -> tuple:
        """The circuit's state tuple (names as `Network.state_names`) → the stacked one."""
        k, n = self.n_states, self.n_cells
        cells = tuple(jnp.stack([y[c * k + i] for c in range(n)]) for i in range(k))
        return cells + tuple(jnp.stack(y[i : i + m]) for i, m in self._groups() if m)

    def pack_flags(self, flags) -> tuple[bool, ...]:
        """Per-state flags of the circuit (e.g. `Network.compensated_states`) for the
        stacked state tuple: the first cell's (the cells share their structure), then
        one per synapse group (set if any of its synapses' is)."""
        k = self.n_states
        return tuple(flags[:k]) + tuple(any(flags[i : i + m]) for i, m in self._groups() if m)

    def unpack(self, y) -> tuple:
        """The stacked state tuple → the circuit's (inverse of `pack`)."""
        k, n = self.n_states, self.n_cells
        rows = tuple(y[i][c] for c in range(n) for i in range(k))
        return rows + tuple(x[j] for x in y[k:] for j in range(x.shape[0]))

    def fixed_step(self, t, y, dt, compensation=None):
        """`Network.fixed_step` on the stacked state tuple."""
        k, n = self.n_states, self.n_cells
        cells, synapses = tuple(y[:k]), iter(y[k:])
        c_cells, c_synapses = None, iter(())
        if compensation is not None:
            c_cells, c_synapses = tuple(compensation[:k]), iter(compensation[k:])
        groups = self.network.synapses
        states = [next(synapses) if g.num_states else () for g in groups]
        c_states = [
            next(c_synapses) if g.num_states and compensation is not None else None for g in groups
        ]
        V = tuple(cells[0][c] for c in range(n))
        new, c_new, inputs = self.network.synapse_step(V, states, c_states, dt)
        y_cells, c_cells = self.cells.fixed_step(t, cells, dt, c_cells, inputs=inputs)
        y_next = tuple(y_cells) + tuple(s for s, g in zip(new, groups, strict=True) if g.num_states)
        if compensation is None:
            return y_next, None
        c_syn = tuple(c for c, g in zip(c_new, groups, strict=True) if g.num_states)
        return y_next, tuple(c_cells) + c_syn


def _leaves(tree, axes):
    """``tree``'s leaves and their vmap axes (0 or None), in the same order."""
    return jax.tree_util.tree_leaves(tree), jax.tree_util.tree_structure(tree).flatten_up_to(axes)


def stack_population(model: Network, models: Network, axes, n: int) -> CellStack:
    """The `CellStack` of a population of circuits (``models``, ``axes`` from
    `jaxneuron.parameters.population` for the `stackable` ``model``, ``n`` models)."""
    per_cell = [_leaves(m, a) for m, a in zip(models.neurons, axes.neurons, strict=True)]
    stacked = []
    for j in range(len(per_cell[0][0])):
        values = [leaves[j] for leaves, _ in per_cell]
        if all(cell_axes[j] is None for _, cell_axes in per_cell):
            stacked.append(jnp.stack(values)[:, None])  # (cells, 1): broadcast over models
        else:
            stacked.append(jnp.stack([jnp.broadcast_to(v, (n,)) for v in values]))
    structure = jax.tree_util.tree_structure(_anonymous(model.neurons[0]))
    cells = jax.tree_util.tree_unflatten(structure, stacked)
    leaves, leaf_axes = _leaves(models.synapses, axes.synapses)
    # one row per synapse: (synapses, models) where swept, (synapses, 1) otherwise
    minor = [
        jnp.moveaxis(v, 0, -1) if a is not None else v[..., None] if jnp.ndim(v) else v
        for v, a in zip(leaves, leaf_axes, strict=True)
    ]
    synapses = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(models.synapses), minor)
    swept = [a for a in _leaves(models.geometry, axes.geometry)[1] if a is not None]
    if swept:
        raise ValueError("a population of circuits cannot sweep the geometry")
    return CellStack(cells, eqx.tree_at(lambda m: m.synapses, models, synapses))


class StackedVoltageFeatures(AbstractObserver):
    """The streaming features of the stacked cells' potentials (the first entry of a
    `CellStack` state, one row per cell) in one `FeatureState` of (cells, models) fields,
    updated once per group of steps for all the cells."""

    features: StreamingFeatures = eqx.field(static=True)

    def init(self, t0, carry):
        return self.features.init(t0, carry[0][0])

    def update(self, state, ts, carries, events):
        return self.features.update_many(state, ts, [carry[0][0] for carry in carries])

    def per_voltage(self, state) -> tuple:
        """One `FeatureState` per cell: the rows of the per-trace fields (the time
        fields are shared)."""
        rows = jnp.ndim(state.V_prev)

        def row(i):
            return jax.tree_util.tree_map(lambda x: x[i] if jnp.ndim(x) == rows else x, state)

        return tuple(row(i) for i in range(jnp.shape(state.V_prev)[0]))
