r"""The roles a model can play, as abstract equinox modules (abstract/final pattern).

Every integrator asks a model for what its role promises, never whether it happens to
have an attribute:

- `AbstractModel`: named states, an initial state and a vector field — what `simulate`
  integrates with diffrax's solvers.
- `AbstractFixedStepModel`: adds ``fixed_step``, one step of a fixed-step scheme on the
  *state tuple* (one entry per state name), with optional compensated summation — what the
  fixed-step driver (`jaxneuron.integrate.fixed_step_loop`) runs for `simulate`,
  `simulate_spiking`, sweeps and spiking networks.
- `AbstractSplitModel`: a conductance-based model whose state splits into membrane
  variables (V, [Ca]) and gating variables; its fixed step is the split exponential Euler
  (Rush–Larsen) step, and it gives the two parts of its vector field separately (the IMEX
  solvers treat the gates implicitly).
- `AbstractSpikingModel`: an integrate-and-fire model — a threshold on V, a reset map and
  a refractory period.
- `AbstractNamedParts`: a module whose parts have names — a circuit's cells and
  synapses, a network's populations and projections, a neuron's channels: the one
  naming module, `jaxneuron.parameters`, walks a parameter name through them
  (``"LP.CaS.g"``, ``"AB->LP.g_nS"``, ``"E->I.scale"``, ``"regulator.Na.tau"``).
- `AbstractNamedChannels`: a module made of per-channel parts named by channel (a neuron's
  channels, a regulator's per-channel controllers): its named parts are its channels.

**The state tuple.** diffrax integrates a flat vector ``y`` of shape (n_states,). The
fixed-step driver carries the same variables as a tuple ``(V, …)`` instead, so that a
population keeps each variable of all its models in one contiguous array (structure of
arrays) and no step packs or unpacks a matrix. `as_state_tuple` and `as_state_vector`
convert between the two.

**Compensation.** ``fixed_step(t, y, dt, compensation)`` adds every increment through
`jaxneuron._numerics.advance`: with ``compensation`` (a tuple like ``y``) it is Kahan
summation and the new compensation is returned; with None it is plain addition. A model
adds each variable's increment *before* later parts of the step read that variable, so the
stored values are the ones every later computation sees.
"""

import abc
from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

Scalar = Float[Array, ""]
StateVector = Float[Array, " n_states"]
StateTuple = tuple  # one array per state name


def as_state_tuple(y) -> tuple:
    """The state vector ``y`` (..., n_states) as a tuple of its entries (each of shape
    ``y.shape[:-1]``)."""
    return tuple(y[..., i] for i in range(y.shape[-1]))


def as_state_vector(y) -> StateVector:
    """A state tuple as a vector (the inverse of `as_state_tuple`)."""
    return jnp.stack([jnp.asarray(x) for x in y], axis=-1)


class AbstractModel(eqx.Module):
    """A model that `jaxneuron.simulate` can integrate: dy/dt = f(t, y) on a flat state
    vector whose entries are named by ``state_names``.

    Concrete models provide ``name`` and ``stiff`` (a hint for the default solver: True
    when time constants of very different size coexist) and the methods below.
    """

    name: eqx.AbstractVar[str]
    stiff: eqx.AbstractVar[bool]

    @property
    @abc.abstractmethod
    def state_names(self) -> tuple[str, ...]:
        """The name of every entry of the state vector, in order."""

    @abc.abstractmethod
    def initial_state(self) -> StateVector:
        """The state at the start of a simulation."""

    @abc.abstractmethod
    def vector_field(self, t, y: StateVector, args=None) -> StateVector:
        """dy/dt at time ``t`` (ms)."""

    @abc.abstractmethod
    def parameters(self) -> dict[str, Array]:
        """Every numeric parameter by a readable name (for messages and tables; see
        `jaxneuron.parameters`)."""

    @abc.abstractmethod
    def stimuli(self) -> tuple:
        """The model's injected currents (`jaxneuron.stimuli.AbstractStimulus`, one per
        cell): adaptive solvers step onto their discontinuities."""


class AbstractFixedStepModel(AbstractModel):
    """A model with a fixed-step update on the state tuple."""

    @abc.abstractmethod
    def fixed_step(self, t, y: StateTuple, dt, compensation: StateTuple | None = None):
        """One step of ``dt`` ms from time ``t``: returns ``(y_next, compensation_next)``
        (state tuples; the compensation None when none was given, and None in the
        entries of states added without it)."""

    def compensated_states(self, dt: float) -> tuple[bool, ...]:
        """Which states a low-precision fixed-step loop of step ``dt`` (ms) adds with
        Kahan summation (`jaxneuron.integrate.needs_compensation`): every one, unless the
        model knows that a state's increments stay well above its rounding (see
        `ConductanceNeuron.compensated_states`)."""
        return (True,) * len(self.state_names)


class AbstractSplitModel(AbstractFixedStepModel):
    """A conductance-based model: membrane variables and gates, integrated by the split
    exponential-Euler (Rush–Larsen) ``fixed_step``, with the vector field split for IMEX
    solvers into `membrane_field` (explicit) and `gate_field` (implicit)."""

    @abc.abstractmethod
    def membrane_field(self, t, y: StateVector, args=None) -> StateVector:
        """The membrane part of `vector_field` (zero for the gates)."""

    @abc.abstractmethod
    def gate_field(self, t, y: StateVector, args=None) -> StateVector:
        """The gate part of `vector_field` (zero for the membrane variables)."""


class AbstractSpikingModel(AbstractFixedStepModel):
    """An integrate-and-fire model: a spike is the upward crossing of ``threshold`` by the
    first state V (mV), after which `reset` maps the state and V is held for
    ``refractory`` ms (None: no hold).

    `jaxneuron.simulate_spiking` locates crossings exactly (events) or within fixed steps.
    """

    @property
    @abc.abstractmethod
    def threshold(self) -> Scalar:
        """The spike threshold on V, mV."""

    @property
    @abc.abstractmethod
    def refractory(self) -> Scalar | None:
        """Time (ms) V is held after a reset, or None when the model has none."""

    @abc.abstractmethod
    def event_threshold(self, dtype) -> Scalar:
        """The level the event path locates in ``dtype`` (``threshold`` unless it cannot be
        resolved in that precision)."""

    @abc.abstractmethod
    def reset(self, y: StateTuple) -> StateTuple:
        """The state right after a spike, from the state at the crossing."""


class NamedPart(NamedTuple):
    """Where a named part of a module is: ``path``, the fields (str) and indices (int)
    from the module to it; for a part that is one entry of the vector leaves below it
    (a synapse of a vectorised group), ``entry`` and the leaves' length ``size``."""

    path: tuple[str | int, ...]
    entry: int | None = None
    size: int | None = None


class AbstractNamedParts(eqx.Module):
    """A module whose parts have names: `jaxneuron.parameters` resolves
    ``"<part>.<rest>"`` through `named_part`, and ``rest`` in the part."""

    @abc.abstractmethod
    def named_part(self, name: str) -> NamedPart | None:
        """Where the part called ``name`` is; None if no part has that name."""


class AbstractNamedChannels(AbstractNamedParts):
    """A module whose part ``channels[i]`` belongs to the channel ``channel_names[i]``:
    `jaxneuron.parameters` resolves ``"<channel>.<field>"`` through it."""

    channels: eqx.AbstractVar[tuple]
    channel_names: eqx.AbstractVar[tuple[str, ...]]

    def named_part(self, name: str) -> NamedPart | None:
        if name in self.channel_names:
            return NamedPart(("channels", self.channel_names.index(name)))
        return None
