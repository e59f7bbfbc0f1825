"""The network's containers: `Population` and `PopulationNetwork`, with the network's
parameters by name.

- A `Population` is ``n`` copies of one `ConductanceNeuron` whose chosen parameters are
  arrays of shape (n,) (heterogeneous) while the rest are shared: its step is one
  vmapped kinetics evaluation, so compile time does not grow with ``n``.
- A `PopulationNetwork` holds populations and the projections between them, names its
  scalar parameters (``"E.Na.g"``, ``"E->I.scale"``) for `jaxneuron.parameters`, sweeps and
  fits, and converts to and from a `jaxneuron.Network` of single neurons.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._protocols import AbstractNamedParts, NamedPart
from .._validation import check_positive
from ..network import Network
from ..neurons import ConductanceNeuron, IntegrateAndFire
from ..parameters import get_parameter, set_parameters
from ..parameters import population as batched_population
from ..receptors import GradedRelease
from ..stimuli import as_stimulus
from ..synapses import GapJunctions, GradedSynapses
from ..units import Geometry
from ._connectivity import Connectivity, from_pairs
from ._projections import AbstractProjection, GapJunctionProjection, GradedProjection, Projection
from ._spikes import AbstractSpikeRule, ResetOnThreshold

#: µm² in one cm²
UM2_PER_CM2 = 1e8


class Population(eqx.Module):
    """``n`` neurons of one structure: ``neuron`` (a `ConductanceNeuron`, or an
    integrate-and-fire `LIF`, `AdEx` or `Izhikevich`) with the parameters named in
    ``values`` (name → array (n,), see `jaxneuron.parameters`) batched and every other
    parameter shared; ``stimulus`` (the neuron's current unit: µA/cm², nA, pA …), if
    given, is one stimulus per neuron (each of its parameters an array (n,), e.g.
    ``Constant(jnp.linspace(0, 2, n))``). ``name`` labels the population in projections
    and results.

    ``axes`` instead of ``values``: ``neuron`` is already a batch (its `jax.vmap`
    ``in_axes``: 0 for the leaves with a leading axis of ``n``, None for shared ones).

    ``rule`` says how the neurons step with their synaptic input and spike
    (`jaxneuron.networks.ThresholdCrossing`, `jaxneuron.networks.ResetOnThreshold`).
    Default: for conductance-based neurons the threshold crossing that
    `simulate_populations` is given; for integrate-and-fire neurons their own threshold
    and reset, with the synaptic current in their unit (``current_per_pA``; the
    dimensionless `Izhikevich` needs ``rule=ResetOnThreshold(current_scale=…)``).

    >>> import jax.numpy as jnp, jaxneuron as jn
    >>> pop = jn.Population(jn.build_HH(), 3, {"Na.g": jnp.asarray([100.0, 110.0, 120.0])})
    >>> pop.neuron.channel("Na").g.shape, pop.neuron.channel("K").g.shape
    ((3,), ())
    >>> lif = jn.Population(jn.build_LIF(), 4, {"V0": jnp.linspace(-65.0, -55.0, 4)}, name="E")
    >>> lif.rule.current_scale   # the LIF takes nA
    0.001
    """

    neuron: ConductanceNeuron | IntegrateAndFire
    axes: eqx.Module = eqx.field(static=True)
    n: int = eqx.field(static=True)
    name: str = eqx.field(static=True)
    rule: AbstractSpikeRule | None

    def __init__(
        self,
        neuron,
        n: int,
        values: Mapping | None = None,
        *,
        stimulus=None,
        name: str = "pop",
        rule: AbstractSpikeRule | None = None,
        axes=None,
    ):
        if not isinstance(neuron, ConductanceNeuron | IntegrateAndFire):
            raise TypeError(
                "a Population holds a ConductanceNeuron or an integrate-and-fire neuron "
                f"(LIF, AdEx, Izhikevich), got {type(neuron).__name__}"
            )
        if rule is not None and not isinstance(rule, AbstractSpikeRule):
            raise TypeError(
                f"{name}: rule must be a spike rule (ThresholdCrossing, ResetOnThreshold), "
                f"got {type(rule).__name__}"
            )
        if rule is None and isinstance(neuron, IntegrateAndFire):
            if neuron.current_per_pA is None:
                raise ValueError(
                    f"{name}: a {type(neuron).__name__} has no current unit; give "
                    "rule=ResetOnThreshold(current_scale=…) (its current unit per pA)"
                )
            rule = ResetOnThreshold(current_scale=neuron.current_per_pA)
        self.rule = rule
        if int(n) < 1:
            raise ValueError(f"{name}: n (population size) must be >= 1, got {n}")
        values = {k: jnp.asarray(v) for k, v in (values or {}).items()}
        for key, value in values.items():
            if value.shape != (int(n),):
                raise ValueError(
                    f"{name}: values[{key!r}] must have shape ({n},), got {value.shape}"
                )
        if axes is not None:  # ``neuron`` is already batched: 0 marks a leaf with axis n
            if values:
                raise ValueError(f"{name}: give values or axes, not both")
        elif values:
            neuron, axes = batched_population(neuron, values)
        else:
            axes = jax.tree_util.tree_map(lambda _: None, neuron)
        if stimulus is not None:  # one stimulus per neuron: its leaves are arrays (n,)
            stimulus = as_stimulus(stimulus)
            for leaf in jax.tree_util.tree_leaves(stimulus):
                if jnp.shape(leaf)[:1] != (int(n),):
                    raise ValueError(
                        f"{name}: every parameter of the stimulus needs a leading axis of "
                        f"{n} (one per neuron), got shape {jnp.shape(leaf)}"
                    )
            neuron = eqx.tree_at(lambda m: m.stimulus, neuron, stimulus)
            stim_axes = jax.tree_util.tree_map(lambda _: 0, stimulus)
            axes = eqx.tree_at(lambda a: a.stimulus, axes, stim_axes)
        self.neuron, self.axes = neuron, axes
        self.n, self.name = int(n), name

    def initial_state(self, V0=None) -> tuple[Array, ...]:
        """The state tuple, each entry of shape (n,): every neuron from ``V0`` (mV; a
        number or an array (n,); default the neuron's), the rest of its state as its
        ``initial_state`` sets it (gates at steady state)."""
        V0 = jnp.broadcast_to(jnp.asarray(self.neuron.V0 if V0 is None else V0), (self.n,))

        def init(m, v):
            m = eqx.tree_at(lambda m: m.V0, m, jnp.asarray(v, jnp.result_type(m.V0)))
            return tuple(m.initial_state())

        return tuple(jax.vmap(init, in_axes=(self.axes, 0))(self.neuron, V0))


class PopulationNetwork(AbstractNamedParts):
    """Populations and the projections between them. ``area`` (µm²) is every neuron's
    membrane area, which converts synaptic conductances (nS) to densities (mS/cm²).
    Its parameters have names (`get_parameter`), so `jaxneuron.parameters`, sweeps and
    `jaxneuron.fit.fit` address them as they do a neuron's."""

    populations: tuple[Population, ...]
    projections: tuple[AbstractProjection, ...]
    area: float = eqx.field(static=True, default=20_000.0)
    name: str = eqx.field(static=True, default="populations")

    def __check_init__(self):
        for k, proj in enumerate(self.projections):
            if not isinstance(proj, AbstractProjection):
                raise TypeError(
                    f"projections[{k}] is a {type(proj).__name__}, not a projection "
                    "(Projection, GradedProjection, GapJunctionProjection)"
                )
        names = [p.name for p in self.populations]
        if len(set(names)) != len(names):
            raise ValueError(f"population names must be distinct, got {names}")
        sizes = dict(zip(names, (p.n for p in self.populations), strict=True))
        for proj in self.projections:
            for end in (proj.pre, proj.post):
                if end not in sizes:
                    raise ValueError(f"projection {proj.pre}->{proj.post}: no population {end!r}")
            conn = proj.connectivity
            if conn.n_pre != sizes[proj.pre] or conn.n_post != sizes[proj.post]:
                raise ValueError(
                    f"projection {proj.pre}->{proj.post}: connectivity is {conn.n_pre}×"
                    f"{conn.n_post}, populations are {sizes[proj.pre]}×{sizes[proj.post]}"
                )
        check_positive("PopulationNetwork.area (membrane area)", self.area, "µm²")

    @classmethod
    def from_network(cls, network: Network) -> PopulationNetwork:
        """The circuit ``network`` (`jaxneuron.build_network`, `jaxneuron.pyloric_circuit`)
        as populations of one: each neuron a `Population` of one with its name, each
        graded synapse a `GradedProjection` and each gap junction a
        `GapJunctionProjection`, over the same membrane area. `simulate_populations`
        then takes the steps of `jaxneuron.Network.fixed_step`, in the same order.

        >>> import jaxneuron as jn
        >>> net = jn.PopulationNetwork.from_network(jn.pyloric_circuit())
        >>> net.names, len(net.projections)
        (('AB/PD', 'LP', 'PY'), 7)
        """
        cells = network.neuron_names
        one = from_pairs([0], [0], 1, 1)
        projections = []
        for group in network.synapses:
            n = len(group.names)
            g = jnp.broadcast_to(group.g, (n,))
            if isinstance(group, GradedSynapses):
                E, V_th, Delta, k_minus = (
                    jnp.broadcast_to(x, (n,))
                    for x in (group.E, group.V_th, group.Delta, group.k_minus)
                )
                projections.extend(
                    GradedProjection(cells[a], cells[b], one, g[i], E[i],
                                     GradedRelease(V_th[i], Delta[i], k_minus[i]),
                                     name=group.names[i])
                    for i, (a, b) in enumerate(zip(group.pre, group.post, strict=True))
                )  # fmt: skip
            elif isinstance(group, GapJunctions):
                projections.extend(
                    GapJunctionProjection(cells[a], cells[b], one, g[i], name=group.names[i])
                    for i, (a, b) in enumerate(zip(group.a, group.b, strict=True))
                )
            else:
                raise TypeError(f"no population projection for {type(group).__name__}")
        populations = tuple(
            Population(neuron, 1, name=name)
            for neuron, name in zip(network.neurons, cells, strict=True)
        )
        area = float(network.geometry.area_cm2) * UM2_PER_CM2
        return cls(populations, tuple(projections), area=area)

    def to_network(self, name: str = "network") -> Network:
        """This network as a `jaxneuron.Network` of single neurons, for `jaxneuron.simulate`
        and its adaptive solvers: neuron i of population ``P`` is named ``"P[i]"`` (``"P"``
        in a population of one), graded projections become `GradedSynapses` and gap
        junctions `GapJunctions` (one per synapse, strength = scale·weight, named
        ``"<label>[i->j]"``, or the label for a single synapse). Spike-driven projections
        have no such form (a `Network` has no events): they raise a TypeError. Meant for
        small networks: the circuit holds every neuron separately.

        >>> import jaxneuron as jn
        >>> net = jn.PopulationNetwork.from_network(jn.pyloric_circuit()).to_network()
        >>> net.neuron_names
        ('AB/PD', 'LP', 'PY')
        """
        cells, offset = [], {}
        for pop in self.populations:
            if isinstance(pop.neuron, IntegrateAndFire):
                raise TypeError(
                    f"population {pop.name}: integrate-and-fire neurons have no form for the "
                    "adaptive solvers of a Network; simulate this network with a fixed step "
                    "(simulate_populations, or simulate with solver=None or ExponentialEuler)"
                )
            offset[pop.name] = len(cells)
            for i in range(pop.n):
                one = jax.tree_util.tree_map(
                    lambda ax, x, i=i: x if ax is None else x[i],
                    pop.axes, pop.neuron, is_leaf=lambda x: x is None,
                )  # fmt: skip
                cells.append((pop.name if pop.n == 1 else f"{pop.name}[{i}]", one))
        graded, junctions = [], []
        for proj in self.projections:
            if isinstance(proj, Projection):
                raise TypeError(
                    f"projection {proj.label}: spike-driven synapses have no form for the "
                    "adaptive solvers; simulate this network with a fixed step "
                    "(simulate_populations, or simulate with solver=None or ExponentialEuler)"
                )
            pre, post = proj.connectivity.pairs()
            weight = np.broadcast_to(np.asarray(proj.weight), proj.connectivity.targets.shape)
            rows = np.nonzero(np.asarray(proj.connectivity.targets) < proj.connectivity.n_post)
            weight = weight[rows] * float(proj.scale)
            for i, j, w in zip(pre, post, weight, strict=True):
                label = proj.label if len(pre) == 1 else f"{proj.label}[{i}->{j}]"
                ends = (offset[proj.pre] + int(i), offset[proj.post] + int(j))
                (graded if isinstance(proj, GradedProjection) else junctions).append(
                    (label, ends, float(w), proj)
                )
        groups = []
        if graded:
            release = [p.release for *_, p in graded]
            groups.append(GradedSynapses(
                g=jnp.asarray([w for _, _, w, _ in graded]),
                E=jnp.asarray([p.E for *_, p in graded]),
                V_th=jnp.asarray([r.V_th for r in release]),
                Delta=jnp.asarray([r.Delta for r in release]),
                k_minus=jnp.asarray([r.k_minus for r in release]),
                pre=tuple(e[0] for _, e, _, _ in graded),
                post=tuple(e[1] for _, e, _, _ in graded),
                names=tuple(label for label, *_ in graded),
            ))  # fmt: skip
        if junctions:
            groups.append(GapJunctions(
                g=jnp.asarray([w for _, _, w, _ in junctions]),
                a=tuple(e[0] for _, e, _, _ in junctions),
                b=tuple(e[1] for _, e, _, _ in junctions),
                names=tuple(label for label, *_ in junctions),
            ))  # fmt: skip
        return Network(
            neurons=tuple(c for _, c in cells),
            synapses=tuple(groups),
            geometry=Geometry(area_cm2=self.area / UM2_PER_CM2),
            neuron_names=tuple(n for n, _ in cells),
            name=name,
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.populations)

    def population(self, name: str) -> Population:
        return self.populations[self.names.index(name)]

    def named_part(self, name: str) -> NamedPart | None:
        """A population's neuron by the population's name, a projection by its label."""
        if name in self.names:
            return NamedPart(("populations", self.names.index(name), "neuron"))
        labels = [p.label for p in self.projections]
        if name in labels:
            if labels.count(name) > 1:
                raise KeyError(f"several projections are labelled {name!r}; name them")
            return NamedPart(("projections", labels.index(name)))
        return None

    def parameters(self) -> dict:
        """Every scalar parameter by name: each population's shared neuron parameters and
        each projection's scalar fields (see `get_parameter`)."""
        out = {}
        for pop in self.populations:
            for key, value in pop.neuron.parameters().items():
                if jnp.ndim(value) == 0:
                    out[f"{pop.name}.{key}"] = value
        for proj in self.projections:
            out.update({f"{proj.label}.{path}": v for path, v in _scalar_fields(proj)})
        return out

    def get_parameter(self, name: str) -> Array:
        """The value of the scalar parameter ``name``: ``"<population>.<neuron
        parameter>"`` (one shared by the population, e.g. ``"E.Na.g"``) or
        ``"<projection label>.<field path>"`` (e.g. ``"E->I.scale"``,
        ``"E->E.receptor.tau"``); `jaxneuron.parameters.get_parameter`."""
        return get_parameter(self, name)

    def set_parameters(self, values: Mapping) -> PopulationNetwork:
        """A copy with the named scalar parameters (see `get_parameter`) replaced, each
        cast to its leaf's dtype; works on traced values (under `jax.vmap`, a batch of
        networks); `jaxneuron.parameters.set_parameters`.

        >>> import jaxneuron as jn
        >>> net, _, _ = jn.cobahh(100, seed=0)
        >>> float(net.set_parameters({"E->I.scale": 2.0}).get_parameter("E->I.scale"))
        2.0
        """
        return set_parameters(self, values)


def _scalar_fields(module, prefix: str = ""):
    """(dotted path, value) of every scalar float leaf of ``module``, through nested
    modules (not the connectivity)."""
    for field in dataclasses.fields(module):
        value = getattr(module, field.name)
        if eqx.is_inexact_array(value) and jnp.ndim(value) == 0:
            yield prefix + field.name, value
        elif isinstance(value, eqx.Module) and not isinstance(value, Connectivity):
            yield from _scalar_fields(value, f"{prefix}{field.name}.")
