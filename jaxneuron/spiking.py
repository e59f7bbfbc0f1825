r"""Spiking networks of integrate-and-fire neurons with event-driven conductance synapses.

A `SpikingNetwork` is a *population* of integrate-and-fire neurons of one kind (`LIF`,
`AdEx`, `Izhikevich`) whose parameters carry a leading neuron axis — build it with
``eqx.filter_vmap`` over a builder — plus groups of event-driven synapses. A group holds
many synapses of one kind: static index tuples ``pre`` and ``post`` and array leaves for
the parameters (one value per synapse, or a scalar shared by all), so every strength is a
leaf to vmap over or differentiate.

`simulate_network` runs it on the network engine (`SpikingNetwork.to_populations`: one
`Population` of the neurons, each group as `Projection`\ s onto it, through
`simulate_populations`'s fixed-step loop). Each step of Δt:

1. each synapse's conductance g_syn(t_n) (nS) gives the current *into* its postsynaptic
   cell, I = −g_syn·B(V)·(V − E) (nS·mV = pA), summed per cell and converted to the
   neuron's current unit (see `SpikingNetwork`); it is held over the step;
2. every neuron takes its ``fixed_step`` with that extra current (vectorised over the
   population), with the in-step interpolated threshold crossing and reset of the
   fixed-step path of `simulate_spiking` (`jaxneuron.integrate.reset_step`; the
   population's rule `jaxneuron.networks.ResetOnThreshold`);
3. a spike of neuron j at t_s ∈ (t_n, t_{n+1}] arrives on every outgoing synapse at the
   grid time t_{n+1+D}, D = round(delay/Δt): **delays are rounded to whole steps**, so
   the effective delay is D·Δt. The increment added there is the synapse state a spike
   at t_s + D·Δt has reached at that grid point (e.g. e^{−δ/τ} with δ = t_{n+1} − t_s;
   `Projection`'s ``exact_onset``), so the conductance is exact at every grid point for
   the rounded delay; only its rise within the arrival step is missed;
4. the synapse states decay exactly over Δt (they are linear).

The conductance kernels (time s = t − t_s − D·Δt ≥ 0 after an effective arrival) are

    exponential  g_syn(s) = g·e^{−s/τ}
    alpha        g_syn(s) = g·(s/τ)·e^{1 − s/τ}                      (peak g at s = τ)
    NMDA         g_syn(s) = g·N·(e^{−s/τ_decay} − e^{−s/τ_rise})     (peak g), with the
                 Mg²⁺ block B(V) = 1/(1 + [Mg]/3.57 mM · e^{−0.062 V})

(Jahr & Stevens 1990, J Neurosci 10:3178; the kernels as in Dayan & Abbott,
*Theoretical Neuroscience* (2001), §5.8, and Gerstner et al., *Neuronal Dynamics* (2014)).

**Gradients** with respect to strengths, reversal potentials, time constants and neuron
parameters are the exact derivatives of this discrete map. Rounded delays and the spike
decision itself (a comparison) have zero derivative; a subthreshold network is smooth.
"""

from __future__ import annotations

import abc
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._validation import check_finite, check_nonnegative, check_positive, is_concrete
from .integrate import check_save_memory, fixed_step_options, simulate, time_grid
from .networks import Population, PopulationNetwork, PopulationSolution, Projection, from_pairs
from .networks._run import _RunSettings, _simulate
from .networks._spikes import ResetOnThreshold
from .neurons.integrate_and_fire import LIF, AdEx, LIFConfig, build_LIF
from .receptors import (
    AbstractReceptor,
    AlphaReceptor,
    ExponentialReceptor,
    NMDAReceptor,
)

Vector = Float[Array, " n"]


def _index_tuple(values) -> tuple[int, ...]:
    arr = np.atleast_1d(np.asarray(values))
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"synapse indices must be integers, got dtype {arr.dtype}")
    return tuple(int(v) for v in arr)


class _EventSynapses(eqx.Module):
    """Shared machinery of an event-driven synapse group (see the module docstring): the
    indices, the checks, and the kinetics of its `jaxneuron.receptors` receptor, applied
    per synapse and scaled by the peak conductance ``g``."""

    pre: tuple[int, ...] = eqx.field(static=True, converter=_index_tuple)
    post: tuple[int, ...] = eqx.field(static=True, converter=_index_tuple)

    @property
    def n(self) -> int:
        return len(self.pre)

    @abc.abstractmethod
    def _kinetics(self, value) -> AbstractReceptor:
        """The receptor with each kinetic parameter ``value(field name)``."""

    @property
    def receptor(self) -> AbstractReceptor:
        """The kinetics, with one value per synapse."""
        return self._kinetics(lambda name: self._vec(getattr(self, name)))

    def projections(self, population: str, n_neurons: int, label: str) -> list[Projection]:
        """The group as projections within ``population`` (of ``n_neurons``), one per
        distinct delay and per distinct value of any kinetic parameter given per synapse
        (those must then be concrete numbers); strengths ``g`` stay leaves. Spikes kick
        with their exact lag (``exact_onset``), as `simulate_network` promises."""
        pre, post = np.asarray(self.pre, dtype=np.int64), np.asarray(self.post, dtype=np.int64)
        kinetic = [name for name, _ in self._leaf_units() if name != "g"]
        keys = []
        for name in kinetic:
            value = getattr(self, name)
            if jnp.ndim(value) == 0 and name != "delay":
                continue
            if not is_concrete(value):
                raise ValueError(
                    f"{label} ({type(self).__name__}): {name} must be a number (or one "
                    "number per synapse) to simulate, not a traced value"
                    + (" (delays are rounded to whole steps)" if name == "delay" else "")
                )
            keys.append(np.broadcast_to(np.asarray(value, dtype=float), (self.n,)))
        key = np.stack(keys, axis=1) if self.n else np.zeros((0, len(keys)))
        unique, inverse = np.unique(key, axis=0, return_inverse=True)
        out = []
        for j in range(len(unique)):
            sel = np.flatnonzero(inverse.ravel() == j)

            def value(name, i=sel[0]):
                leaf = getattr(self, name)
                return leaf if jnp.ndim(leaf) == 0 else leaf[i]

            conn = from_pairs(pre[sel], post[sel], n_neurons, n_neurons)
            g = self.g
            if jnp.ndim(g) > 0:  # one strength per synapse, laid out as the targets
                order = np.argsort(pre[sel], kind="stable")
                rows = pre[sel][order]
                slots = np.arange(len(sel)) - np.searchsorted(rows, rows)
                g = (
                    jnp.zeros(conn.targets.shape, jnp.result_type(g))
                    .at[rows, slots]
                    .set(g[sel[order]])
                )
            delay = float(np.broadcast_to(np.asarray(self.delay), (self.n,))[sel[0]])
            name = label if len(unique) == 1 else f"{label}[{j}]"
            out.append(Projection(population, population, conn, g, self._kinetics(value),
                                  delay=delay, name=name, exact_onset=True))  # fmt: skip
        return out

    @property
    def n_components(self) -> int:
        return self.receptor.n_components

    def _check_common(self, kind: str):
        if len(self.post) != len(self.pre):
            raise ValueError(
                f"{kind}: pre and post must have the same length, got {len(self.pre)} and "
                f"{len(self.post)}"
            )
        for name, idx in (("pre", self.pre), ("post", self.post)):
            if idx and min(idx) < 0:
                raise ValueError(f"{kind}: {name} (neuron index) must be >= 0, got {min(idx)}")
        for name, unit in self._leaf_units():
            value = getattr(self, name)
            shape = jnp.shape(value)
            if shape not in ((), (self.n,)):
                raise ValueError(
                    f"{kind}: {name} ({unit}) must be a scalar or have one value per synapse "
                    f"({self.n}), got shape {shape}"
                )
        autapses = sum(a == b for a, b in zip(self.pre, self.post, strict=True))
        if autapses:
            warnings.warn(
                f"{kind}: {autapses} synapse(s) from a neuron onto itself (autapses)",
                stacklevel=3,
            )
        check_nonnegative(f"{kind}: g (peak conductance)", self.g, "nS")
        check_finite(f"{kind}: E (reversal potential)", self.E, "mV")
        check_nonnegative(f"{kind}: delay (transmission delay)", self.delay, "ms")

    @abc.abstractmethod
    def _leaf_units(self):
        """(field, unit) of every parameter leaf."""

    def _vec(self, value):
        return jnp.broadcast_to(value, (self.n,))

    def decay(self, state: Float[Array, "n c"], dt) -> Float[Array, "n c"]:
        """The state ``dt`` ms later without spikes (exact: the state is linear)."""
        return self.receptor.decay(state, dt)

    def kick(self, lag: Vector) -> Float[Array, "n c"]:
        """The state a single spike has reached ``lag`` ms after its arrival."""
        return self.receptor.kick(lag)

    def conductance(self, state: Float[Array, "n c"]) -> Vector:
        """g_syn per synapse, nS (without any voltage-dependent block)."""
        return self._vec(self.g) * self.receptor.open(state)

    def block(self, V_post: Vector) -> Vector:
        """The voltage-dependent fraction of open channels (1 except for NMDA)."""
        return self.receptor.block(V_post)

    def current(self, state, V_post: Vector) -> Vector:
        """Outward current per synapse, pA: g_syn(t)·B(V)·(V − E) (nS·mV = pA)."""
        return self.conductance(state) * self.block(V_post) * (V_post - self._vec(self.E))


class ExponentialSynapses(_EventSynapses):
    r"""Event-driven exponential conductance synapses (`ExponentialReceptor` kinetics).

        g_syn(t) = g · e^{−(t − t_s − d)/τ}   for t ≥ t_s + d,
        I_post = −g_syn · (V_post − E)                         (nS · mV = pA)

    **Fields:** ``pre``, ``post`` (static neuron indices), ``g`` (nS), ``E`` (mV), ``tau``
    (ms), ``delay`` (ms, rounded to whole steps by `simulate_network`), each a scalar or
    one value per synapse.

    >>> syn = ExponentialSynapses(pre=[0], post=[1], g=2.0, E=0.0, tau=5.0)
    >>> round(float(syn.conductance(syn.decay(syn.kick(jnp.zeros(1)), 5.0))[0]), 4)  # 2/e
    0.7358
    """

    g: Vector = eqx.field(converter=jnp.asarray, default=1.0)
    E: Vector = eqx.field(converter=jnp.asarray, default=0.0)
    tau: Vector = eqx.field(converter=jnp.asarray, default=5.0)
    delay: Vector = eqx.field(converter=jnp.asarray, default=0.0)

    def __check_init__(self):
        self._check_common("ExponentialSynapses")
        check_positive("ExponentialSynapses: tau (decay time constant)", self.tau, "ms")

    def _leaf_units(self):
        return (("g", "nS"), ("E", "mV"), ("tau", "ms"), ("delay", "ms"))

    def _kinetics(self, value):
        return ExponentialReceptor(value("tau"), value("E"))


class AlphaSynapses(_EventSynapses):
    r"""Event-driven alpha-function conductance synapses (`AlphaReceptor` kinetics: peak
    g at τ after arrival).

        g_syn(t) = g · (s/τ) · e^{1 − s/τ},   s = t − t_s − d ≥ 0

    Fields as for `ExponentialSynapses`.

    >>> syn = AlphaSynapses(pre=[0], post=[1], g=2.0, tau=3.0)
    >>> round(float(syn.conductance(syn.decay(syn.kick(jnp.zeros(1)), 3.0))[0]), 6)  # peak
    2.0
    """

    g: Vector = eqx.field(converter=jnp.asarray, default=1.0)
    E: Vector = eqx.field(converter=jnp.asarray, default=0.0)
    tau: Vector = eqx.field(converter=jnp.asarray, default=5.0)
    delay: Vector = eqx.field(converter=jnp.asarray, default=0.0)

    def __check_init__(self):
        self._check_common("AlphaSynapses")
        check_positive("AlphaSynapses: tau (time to peak)", self.tau, "ms")

    def _leaf_units(self):
        return (("g", "nS"), ("E", "mV"), ("tau", "ms"), ("delay", "ms"))

    def _kinetics(self, value):
        return AlphaReceptor(value("tau"), value("E"))


class NMDASynapses(_EventSynapses):
    r"""Event-driven NMDA synapses (`NMDAReceptor` kinetics): dual-exponential
    conductance with a Mg²⁺ block.

        g_syn(s) = g · N · (e^{−s/τ_decay} − e^{−s/τ_rise}),   s = t − t_s − d ≥ 0
        I_post   = −g_syn · B(V_post) · (V_post − E),  B as in `mg_block`

    N normalises the peak of the kernel to 1, so g (nS) is the peak conductance.
    **Fields:** ``pre``, ``post``, ``g`` (nS), ``E`` (mV, default 0), ``tau_rise`` (ms,
    default 2), ``tau_decay`` (ms, default 100), ``delay`` (ms), ``Mg`` (mM, default 1).
    Jahr & Stevens (1990), J Neurosci 10:3178.

    >>> syn = NMDASynapses(pre=[0], post=[1], g=1.0)
    >>> V = jnp.array([-80.0, -40.0])
    >>> [round(float(x), 4) for x in syn.block(V)]
    [0.0244, 0.2302]
    """

    g: Vector = eqx.field(converter=jnp.asarray, default=1.0)
    E: Vector = eqx.field(converter=jnp.asarray, default=0.0)
    tau_rise: Vector = eqx.field(converter=jnp.asarray, default=2.0)
    tau_decay: Vector = eqx.field(converter=jnp.asarray, default=100.0)
    delay: Vector = eqx.field(converter=jnp.asarray, default=0.0)
    Mg: Vector = eqx.field(converter=jnp.asarray, default=1.0)

    def __check_init__(self):
        self._check_common("NMDASynapses")
        check_positive("NMDASynapses: tau_rise (rise time constant)", self.tau_rise, "ms")
        check_positive("NMDASynapses: tau_decay (decay time constant)", self.tau_decay, "ms")
        check_nonnegative("NMDASynapses: Mg (extracellular magnesium)", self.Mg, "mM")
        if is_concrete(self.tau_rise) and is_concrete(self.tau_decay):
            if np.any(np.asarray(self.tau_rise) >= np.asarray(self.tau_decay)):
                raise ValueError(
                    f"NMDASynapses: tau_rise ({self.tau_rise} ms) must be shorter than "
                    f"tau_decay ({self.tau_decay} ms)"
                )

    def _leaf_units(self):
        return (
            ("g", "nS"),
            ("E", "mV"),
            ("tau_rise", "ms"),
            ("tau_decay", "ms"),
            ("delay", "ms"),
            ("Mg", "mM"),
        )

    def _kinetics(self, value):
        return NMDAReceptor(value("tau_rise"), value("tau_decay"), value("E"), value("Mg"))


# ---- the network ----------------------------------------------------------------------

# Synaptic currents come out in pA (nS · mV); the factor converts them to the current
# unit of each neuron model's stimulus.
_CURRENT_SCALE = {LIF: 1e-3, AdEx: 1.0}  # LIF: nA (R in MΩ, R·I in mV); AdEx: pA


def _neuron_axes(neurons):
    """Leading-axis vmap spec: array leaves with a neuron axis are mapped, scalars shared."""
    return jax.tree_util.tree_map(lambda x: 0 if eqx.is_array(x) and x.ndim > 0 else None, neurons)


class SpikingNetwork(eqx.Module):
    r"""A population of integrate-and-fire neurons and event-driven synapse groups.

    **Fields:**

    - ``neurons``: one `LIF`, `AdEx` or `Izhikevich` whose parameter leaves have a leading
      axis of length N (or are scalars shared by all), e.g.
      ``eqx.filter_vmap(lambda I: build_LIF(I))(currents)``.
    - ``synapses``: a tuple of `ExponentialSynapses`, `AlphaSynapses`, `NMDASynapses`
      whose ``pre``/``post`` index the N neurons.
    - ``current_scale``: the neuron's current unit per pA. Synaptic currents are
      g (nS) · (V − E) (mV) = pA; the `LIF` takes nA (R in MΩ: 1 MΩ·1 nA = 1 mV), so the
      factor is 1e-3; the `AdEx` takes pA (1). It is inferred for those two and must be
      given for a model with another current unit (the dimensionless `Izhikevich`).

    >>> neurons = eqx.filter_vmap(lambda I: build_LIF(I))(jnp.array([2.0, 0.0]))
    >>> syn = ExponentialSynapses(pre=[0], post=[1], g=5.0, E=0.0, tau=5.0, delay=1.0)
    >>> net = SpikingNetwork(neurons, (syn,))
    >>> net.n_neurons, net.scale
    (2, 0.001)
    """

    neurons: eqx.Module
    synapses: tuple[_EventSynapses, ...] = ()
    current_scale: float | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        n = self.n_neurons
        if not isinstance(self.synapses, tuple):
            raise TypeError("synapses must be a tuple of synapse groups")
        for k, group in enumerate(self.synapses):
            if not isinstance(group, _EventSynapses):
                raise TypeError(f"synapses[{k}] is a {type(group).__name__}, not a synapse group")
            for name in ("pre", "post"):
                idx = getattr(group, name)
                if idx and max(idx) >= n:
                    raise ValueError(
                        f"synapses[{k}] ({type(group).__name__}): {name} (neuron index) "
                        f"{max(idx)} is out of range for a population of {n} neurons"
                    )
        if self.current_scale is None and type(self.neurons) not in _CURRENT_SCALE:
            raise ValueError(
                f"current_scale (neuron current unit per pA) must be given for "
                f"{type(self.neurons).__name__}"
            )

    @property
    def n_neurons(self) -> int:
        sizes = [x.shape[0] for x in jax.tree_util.tree_leaves(self.neurons) if x.ndim > 0]
        return max(sizes, default=1)

    @property
    def scale(self) -> float:
        if self.current_scale is not None:
            return float(self.current_scale)
        return _CURRENT_SCALE[type(self.neurons)]

    def initial_state(self) -> Float[Array, "n_neurons n_states"]:
        axes = _neuron_axes(self.neurons)
        y0 = jax.vmap(lambda m: m.initial_state(), in_axes=(axes,), axis_size=self.n_neurons)
        return y0(self.neurons)

    def to_populations(self, name: str = "neurons") -> PopulationNetwork:
        """This network as a `PopulationNetwork`: one `Population` ``name`` of the N
        neurons (their own threshold and reset, the synaptic current in their unit,
        `ResetOnThreshold`), and each synapse group as projections onto it (see
        `ExponentialSynapses.projections`), labelled ``"synapses[k]"``.

        >>> neurons = eqx.filter_vmap(lambda I: build_LIF(I))(jnp.array([2.0, 0.0]))
        >>> syn = ExponentialSynapses(pre=[0], post=[1], g=5.0, tau=5.0, delay=1.0)
        >>> net = SpikingNetwork(neurons, (syn,)).to_populations()
        >>> net.names, [p.label for p in net.projections]
        (('neurons',), ['synapses[0]'])
        """
        n = self.n_neurons
        pop = Population(self.neurons, n, axes=_neuron_axes(self.neurons), name=name,
                         rule=ResetOnThreshold(current_scale=self.scale))  # fmt: skip
        projections = []
        for k, group in enumerate(self.synapses):
            projections.extend(group.projections(name, n, f"synapses[{k}]"))
        return PopulationNetwork((pop,), tuple(projections))


def simulate_network(
    net: SpikingNetwork,
    t1: float,
    *,
    dt: float = 0.1,
    t0: float = 0.0,
    start: float | None = None,
    record=(0,),
    max_delay_steps: int | None = None,
) -> PopulationSolution:
    """Simulate a `SpikingNetwork` from ``t0`` to ``t1`` ms with a fixed step ``dt`` (ms),
    on the population loop (`SpikingNetwork.to_populations`: its neurons are the
    population ``"neurons"``). `jaxneuron.simulate` of a `SpikingNetwork` calls this.

    **Arguments:**

    - ``start``: the spike statistics (`PopulationSolution.rate`, ``counts`` …) count
      from here (ms; default ``t0``).
    - ``record``: indices of the neurons whose V (mV) and synaptic conductances (nS)
      are saved at every step.
    - ``max_delay_steps``: ignored (kept for old calls): delays must be concrete numbers,
      one projection per distinct delay.

    **Returns:** a `PopulationSolution` of the population ``"neurons"``: its statistics,
    ``V["neurons"]`` (n_steps, len(record)) at ``ts`` (the ends of the steps), every step's
    spikes (``states["neurons"]["spike"]``, (n_steps, N); at
    ``states["neurons"]["spike_time"]``, ms, interpolated, ``inf`` where none;
    `PopulationSolution.spike_trains`) and each synapse group's total conductance onto
    the recorded neurons (``states["synapses[k]"]["g"]``, nS, without the NMDA block).

    Delays are rounded to whole steps (module docstring). Works under `jax.vmap` and
    `jax.grad` over the network's leaves but the delays, and the kinetic parameters of a
    group given one per synapse.

    >>> neurons = eqx.filter_vmap(lambda I: build_LIF(I))(jnp.array([2.0, 0.0]))
    >>> syn = ExponentialSynapses(pre=[0], post=[1], g=5.0, E=0.0, tau=5.0, delay=1.0)
    >>> sol = simulate_network(SpikingNetwork(neurons, (syn,)), 50.0, record=(1,))
    >>> sol.counts["neurons"].tolist(), bool(sol.V["neurons"].max() > -65.0)
    ([3, 0], True)
    """
    if not isinstance(net, SpikingNetwork):
        raise TypeError(f"net must be a SpikingNetwork, got {type(net).__name__}")
    grid = time_grid(t0, t1, save_every=None, dt=dt, whole_steps=True)
    t0, dt, n_steps = grid.t0, grid.dt, grid.n_steps
    start = float(t0) if start is None else float(start)
    check_finite("start (analysis start)", start, "ms")
    if not t0 <= start < grid.t1:
        raise ValueError(f"start (analysis start, {start} ms) must lie in [t0, t1) = "
                         f"[{t0}, {grid.t1}) ms")  # fmt: skip
    record = tuple(int(i) for i in np.atleast_1d(record))
    if any(i < 0 or i >= net.n_neurons for i in record):
        raise ValueError(f"record indices must lie in [0, {net.n_neurons}), got {record}")
    del max_delay_steps  # delays are concrete numbers: each one a projection of its own
    populations = net.to_populations()
    itemsize = jnp.dtype(jnp.result_type(*jax.tree_util.tree_leaves(net.neurons))).itemsize
    per_step = net.n_neurons * (1 + itemsize) + len(record) * itemsize * (1 + len(net.synapses))
    check_save_memory(
        n_steps * per_step,
        "simulate a shorter time, a larger dt, or record fewer neurons (the spike raster "
        "is kept for every step)",
    )
    settings = _RunSettings(
        t1=float(t0 + n_steps * dt), dt=float(dt), n_steps=n_steps, threshold=0.0,
        refractory=0.0, start=start, record=(("neurons", record, (0,)),),
        state_names=("V",), stride=1, raster=0, max_spikes=64 + net.n_neurons // 100,
        compensated=None, surrogate=None, t0=float(t0), events=True,
    )  # fmt: skip
    sol = _simulate(populations, None, None, settings)
    # each group's conductance, summed over the projections it became (one per delay …)
    states = {"neurons": sol.states["neurons"]}
    for k in range(len(net.synapses)):
        label = f"synapses[{k}]"
        mine = [p.label for p in populations.projections
                if p.label == label or p.label.startswith(label + "[")]  # fmt: skip
        V = sol.states["neurons"]["V"]
        g = sum(sol.states[x]["g"] for x in mine) if mine else jnp.zeros_like(V)
        states[label] = {"g": g}
    return eqx.tree_at(lambda s: s.states, sol, states)


@simulate.register(SpikingNetwork)
def _simulate_spiking_network(net: SpikingNetwork, t1: float, *, solver=None, **options):
    """`simulate` of a `SpikingNetwork`: `simulate_network` with ``options``, its step
    ``dt`` given directly or by a fixed-step ``solver`` (`ExponentialEuler`)."""
    return simulate_network(net, t1, **fixed_step_options(solver, options, "a SpikingNetwork"))


def ei_network(
    n_exc: int = 80,
    n_inh: int = 20,
    *,
    p: float = 0.1,
    seed: int = 0,
    g_exc: float = 2.0,
    g_inh: float = 8.0,
    E_exc: float = 0.0,
    E_inh: float = -80.0,
    tau_exc: float = 5.0,
    tau_inh: float = 10.0,
    delay: float = 1.5,
    drive: tuple[float, float] = (1.4, 1.9),
    config: LIFConfig | None = None,
) -> SpikingNetwork:
    """A random E/I network of LIF neurons with exponential conductance synapses.

    Every ordered pair (no self-connections) is connected with probability ``p``; neurons
    ``0 … n_exc − 1`` are excitatory (``g_exc`` nS, ``E_exc`` mV, ``tau_exc`` ms) and the
    rest inhibitory (``g_inh``, ``E_inh``, ``tau_inh``); all synapses have ``delay`` ms.
    Each neuron receives a constant drive (nA) drawn uniformly from ``drive`` and starts
    at a uniform random V below threshold, so the network fires asynchronously. The
    connectivity is fixed by ``seed`` (static index arrays); the strengths are leaves:
    ``net.synapses[0].g`` (excitatory), ``net.synapses[1].g`` (inhibitory).

    >>> net = ei_network(40, 10, seed=1)
    >>> net.n_neurons, [type(s).__name__ for s in net.synapses]
    (50, ['ExponentialSynapses', 'ExponentialSynapses'])
    """
    if int(n_exc) < 1 or int(n_inh) < 0:
        raise ValueError(f"n_exc must be >= 1 and n_inh >= 0, got {n_exc} and {n_inh}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p (connection probability) must lie in [0, 1], got {p}")
    cfg = LIFConfig() if config is None else config
    n = int(n_exc) + int(n_inh)
    rng = np.random.default_rng(seed)
    connected = rng.random((n, n)) < p
    np.fill_diagonal(connected, False)
    pre, post = np.nonzero(connected)
    exc = pre < n_exc
    currents = jnp.asarray(rng.uniform(drive[0], drive[1], n))
    V0 = jnp.asarray(rng.uniform(cfg.V_reset, cfg.V_th, n))
    neurons = eqx.filter_vmap(lambda current: build_LIF(current, config=cfg))(currents)
    neurons = eqx.tree_at(lambda m: m.V0, neurons, V0)
    groups = (
        ExponentialSynapses(
            pre=pre[exc], post=post[exc], g=g_exc, E=E_exc, tau=tau_exc, delay=delay
        ),
        ExponentialSynapses(
            pre=pre[~exc], post=post[~exc], g=g_inh, E=E_inh, tau=tau_inh, delay=delay
        ),
    )
    return SpikingNetwork(neurons, groups)
