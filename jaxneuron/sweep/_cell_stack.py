r"""Circuits batch-minor: the population engine's layout for a population of circuits.

The engine holds every state variable of a population as one vector over its models.
A circuit's cells would then be separate vectors (``AB/PD.V``, ``LP.V``, ``PY.V``, each of
shape (models,)), and each cell's step a separate stream of small kernels. When the
cells share their structure — the same channels and calcium pool, the same kind of
stimulus, only the parameter values differ, as in every circuit of the Prinz et al.
(2004) database — `CellStack` holds each of their state variables as one array of shape
(cells, models) and steps them as one neuron whose parameters have one row per cell
(shape (cells, 1), or (cells, models) where swept). The cells then cost what a
population of single neurons of cells × models costs. Each cell's models are held in
``split`` consecutive rows (a (cells × split, models / split) array): XLA:CPU divides a
kernel among its threads along the outermost axis, which 3 rows divide unevenly. The
synapses of a group are one (synapses, models) array too, and read and feed the rows of
the cells through `jaxneuron.synapses.gather_rows` and `scatter_rows`, which XLA fuses
into the cells' kernel (a gather, a stack or a concatenation would split it).

Synapses whose states start and evolve equal (`AbstractSynapseGroup.shared_states`:
in the 2004 circuit, the synapses of one presynaptic cell and transmitter) are held and
stepped once: `shared_synapse_states` finds them on the concrete model before the
compiled call, and the stack expands the shared rows to every synapse where they act.

The arithmetic is `jaxneuron.Network.fixed_step`'s, operation for operation, so a
circuit gives the same numbers stacked or not.
"""

from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..analysis import StreamingFeatures
from ..integrate import AbstractObserver
from ..network import Network
from ..neurons import ConductanceNeuron
from ..parameters import swept_axes
from ..synapses import gather_rows


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


def shared_synapse_states(model: Network, names, initial=()) -> tuple[tuple[int, ...], ...]:
    """For each synapse group of ``model``, the state that each of its states can share
    (`AbstractSynapseGroup.shared_states`) in a population sweeping ``names``, where the
    states of ``initial`` (`Engine.initial`: (state name, value) pairs) start at their
    values. A swept parameter that is one value per synapse counts as different for
    every synapse (its values are not known here); where ``model``'s values are traced,
    nothing is shared.

    >>> import jaxneuron as jn
    >>> shared_synapse_states(jn.pyloric_circuit(), ["LP.CaS.g"])
    ((0, 1, 0, 1, 4, 4, 6),)
    >>> shared_synapse_states(jn.pyloric_circuit(), ["AB->LP.k_minus"])
    ((0, 1, 2, 3, 4, 5, 6),)
    """
    given = dict(initial)
    out = []
    for group, axes in zip(model.synapses, swept_axes(model, names).synapses, strict=True):
        leaves, leaf_axes = _leaves(group, axes)
        # a swept vector leaf: a different value for every synapse
        marked = [
            v if a is None or jnp.ndim(v) == 0 else np.arange(jnp.shape(v)[0], dtype=float)
            for v, a in zip(leaves, leaf_axes, strict=True)
        ]
        shared = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(group), marked)
        first: dict = {}
        states = group.state_names()
        out.append(
            tuple(
                first.setdefault((r, given.get(states[k])), k)
                for k, r in enumerate(shared.shared_states())
            )
        )
    return tuple(out)


class CellStack(eqx.Module):
    """A population of circuits (`Network`) with its cells stacked (see the module's
    docstring). ``cells`` is one `ConductanceNeuron` whose leaves have a leading axis of
    cells × ``split`` rows; ``network`` the population's circuit, its synapse parameters
    batch-minor (one row per synapse, then the models); ``releases`` the same circuit
    with each synapse group reduced to the synapses whose states it holds; ``expand`` for
    each group, the held row of each synapse's state. Its state tuple is one (cells ×
    split, models / split) array per state variable of a cell — each cell's models in
    ``split`` consecutive rows — then one (held states, models) array per synapse group
    with states (`pack`, `unpack`).

    ``split`` (static) is there for XLA:CPU, which divides a kernel among its threads
    along the outermost axis: 3 rows (a 3-cell circuit) divide unevenly among 2 threads,
    24 rows nearly evenly. The arithmetic is the same for every ``split``."""

    cells: ConductanceNeuron
    network: Network
    releases: Network
    expand: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    split: int = eqx.field(static=True, default=1)

    @property
    def n_cells(self) -> int:
        return len(self.network.neurons)

    @property
    def n_states(self) -> int:
        """State variables per cell."""
        return self.cells.num_states

    def _groups(self) -> list[tuple[int, int, tuple[int, ...]]]:
        """(first state index, number of states, the states held) of each synapse group."""
        out, i = [], self.n_states * self.n_cells
        for group, expand in zip(self.network.synapses, self.expand, strict=True):
            m = group.num_states
            out.append((i, m, tuple(expand.index(r) for r in range(len(set(expand))))))
            i += m
        return out

    def rows(self, x) -> tuple:
        """A cells' array of the stacked state → one array (models,) per cell."""
        return tuple(jnp.reshape(r, (-1,)) for r in jnp.reshape(x, (self.n_cells, -1)))

    def _stacked(self, rows):
        """One array (models,) per cell → a cells' array of the stacked state."""
        return jnp.reshape(jnp.stack(rows), (self.n_cells * self.split, -1))

    def pack(self, y) -> tuple:
        """The circuit's state tuple (names as `Network.state_names`) → the stacked one."""
        k, n = self.n_states, self.n_cells
        cells = tuple(self._stacked([y[c * k + i] for c in range(n)]) for i in range(k))
        held = (jnp.stack([y[i + r] for r in rows]) for i, m, rows in self._groups() if m)
        return cells + tuple(held)

    def pack_flags(self, flags) -> tuple[bool, ...]:
        """Per-state flags of the circuit (e.g. `Network.compensated_states`) for the
        stacked state tuple: the first cell's (the cells share their structure), then
        one per synapse group (set if any of its synapses' is)."""
        k = self.n_states
        return tuple(flags[:k]) + tuple(any(flags[i : i + m]) for i, m, _ in self._groups() if m)

    def unpack(self, y) -> tuple:
        """The stacked state tuple → the circuit's (inverse of `pack`; a shared state is
        every synapse's that shares it)."""
        k, n = self.n_states, self.n_cells
        per_cell = [self.rows(y[i]) for i in range(k)]
        rows = tuple(per_cell[i][c] for c in range(n) for i in range(k))
        held = [e for g, e in zip(self.network.synapses, self.expand, strict=True) if g.num_states]
        return rows + tuple(x[j] for x, expand in zip(y[k:], held, strict=True) for j in expand)

    def fixed_step(self, t, y, dt, compensation=None):
        """`Network.fixed_step` on the stacked state tuple."""
        k = self.n_states
        cells, synapses = tuple(y[:k]), iter(y[k:])
        c_cells, c_synapses = None, iter(())
        if compensation is not None:
            c_cells, c_synapses = tuple(compensation[:k]), iter(compensation[k:])
        groups = self.network.synapses
        states = [next(synapses) if g.num_states else () for g in groups]
        c_states = [
            next(c_synapses) if g.num_states and compensation is not None else None for g in groups
        ]
        V = self.rows(cells[0])
        new, c_new = self.releases.advance_synapses(V, states, c_states, dt)
        every = [
            s if len(set(e)) == len(e) else gather_rows(s, e)
            for s, e in zip(new, self.expand, strict=True)
        ]
        G, J = self.network.synapse_inputs(V, every)  # (cells, models) each
        inputs = tuple(jnp.reshape(x, jnp.shape(cells[0])) for x in (G, J))
        y_cells, c_cells = self.cells.fixed_step(t, cells, dt, c_cells, inputs=inputs)
        y_next = tuple(y_cells) + tuple(s for s, g in zip(new, groups, strict=True) if g.num_states)
        if compensation is None:
            return y_next, None
        c_syn = tuple(c for c, g in zip(c_new, groups, strict=True) if g.num_states)
        return y_next, tuple(c_cells) + c_syn


def _leaves(tree, axes):
    """``tree``'s leaves and their vmap axes (0 or None), in the same order."""
    return jax.tree_util.tree_leaves(tree), jax.tree_util.tree_structure(tree).flatten_up_to(axes)


def split_for(n: int, sharded: bool) -> int:
    """`CellStack.split` for ``n`` models: 8 rows per cell where ``n`` allows (1 for a
    population sharded along its models, which splits it itself)."""
    return 1 if sharded else math.gcd(n, 8)


def stack_population(
    model: Network, models: Network, axes, n: int, shared=None, split: int = 1
) -> CellStack:
    """The `CellStack` of a population of circuits (``models``, ``axes`` from
    `jaxneuron.parameters.population` for the `stackable` ``model``, ``n`` models), its
    synapses holding one state for each set that ``shared`` (`shared_synapse_states`;
    default: none shared) says start and evolve equal, each cell's models in ``split``
    rows (a divisor of ``n``)."""
    if n % split:
        raise ValueError(f"split ({split} rows per cell) must divide the {n} models")
    per_cell = [_leaves(m, a) for m, a in zip(models.neurons, axes.neurons, strict=True)]
    stacked = []
    for j in range(len(per_cell[0][0])):
        values = [leaves[j] for leaves, _ in per_cell]
        if all(cell_axes[j] is None for _, cell_axes in per_cell):
            # (cells × split, 1): broadcast over models
            stacked.append(jnp.repeat(jnp.stack(values), split)[:, None])
        else:
            rows = jnp.stack([jnp.broadcast_to(v, (n,)) for v in values])
            stacked.append(jnp.reshape(rows, (len(values) * split, n // split)))
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
    network = eqx.tree_at(lambda m: m.synapses, models, synapses)
    if shared is None:
        shared = tuple(tuple(range(g.num_states)) for g in model.synapses)
    expand, held = [], []
    for group, rows in zip(network.synapses, shared, strict=True):
        kept = tuple(dict.fromkeys(rows))  # the held synapses, in order
        expand.append(tuple(kept.index(r) for r in rows))
        held.append(group if len(kept) == len(rows) else group.select(kept))
    releases = eqx.tree_at(lambda m: m.synapses, network, tuple(held))
    return CellStack(cells, network, releases, tuple(expand), split)


class StackedVoltageFeatures(AbstractObserver):
    """The streaming features of the stacked cells' potentials (the first entry of a
    `CellStack` state, ``n_cells`` cells) in one `FeatureState` whose per-trace fields
    have the stack's layout, updated once per group of steps for all the cells."""

    features: StreamingFeatures = eqx.field(static=True)
    n_cells: int = eqx.field(static=True)

    def init(self, t0, carry):
        return self.features.init(t0, carry[0][0])

    def update(self, state, ts, carries, events):
        return self.features.update_many(state, ts, [carry[0][0] for carry in carries])

    def _by_cell(self, state):
        """The state with its per-trace fields as (cells, models) arrays."""
        shape = jnp.shape(state.V_prev)

        def cells(x):
            return jnp.reshape(x, (self.n_cells, -1)) if jnp.shape(x) == shape else x

        return jax.tree_util.tree_map(cells, state)

    def per_voltage(self, state) -> tuple:
        """One `FeatureState` per cell: the rows of the per-trace fields (the time
        fields are shared)."""
        state = self._by_cell(state)

        def row(i):
            return jax.tree_util.tree_map(lambda x: x[i] if jnp.ndim(x) == 2 else x, state)

        return tuple(row(i) for i in range(self.n_cells))

    def select(self, state, positions: tuple[int, ...]):
        """The cells at ``positions`` as one stacked `FeatureState` of (cells, models)
        fields (their rows, in that order; the time fields shared)."""
        state = self._by_cell(state)
        if tuple(positions) == tuple(range(self.n_cells)):
            return state
        index = jnp.asarray(positions, jnp.int32)
        return jax.tree_util.tree_map(lambda x: x[index] if jnp.ndim(x) == 2 else x, state)
