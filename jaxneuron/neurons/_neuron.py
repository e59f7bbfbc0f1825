r"""A single-compartment conductance-based neuron.

    C dV/dt = −Σ_c g_c Π xᵢ^pᵢ (V − E_c) + I_ext(t)            [µA/cm²]
    dxᵢ/dt  = (xᵢ∞(V) − xᵢ) / τᵢ(V)                              [1/ms]

The state is one flat vector ``y = [V, gates of channel 1, gates of channel 2, …]``
(names in `ConductanceNeuron.state_names`), so that implicit solvers see a small dense
Jacobian and a population is a batch of vectors.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._validation import check_finite, check_positive
from ..channels import IonChannel, exprel
from ..stimuli import AbstractStimulus, as_stimulus

Scalar = Float[Array, ""]
State = Float[Array, " n_states"]


class ConductanceNeuron(eqx.Module):
    """A point neuron made of named ion channels, a capacitance and an injected current.

    **Fields:**

    - ``channels``: the ion channels (each an `IonChannel`), in state order.
    - ``channel_names``: their names (static), e.g. ``("Na", "K", "Leak")``.
    - ``C``: specific membrane capacitance, µF/cm².
    - ``V0``: initial membrane potential, mV. Gates start at steady state for ``V0``.
    - ``stimulus``: the injected current, µA/cm² (see `jaxneuron.stimuli`).
    - ``name``: a label used in messages and plots (static).
    - ``stiff``: a hint for `simulate`'s default solver (static).

    **Example:**

    >>> from jaxneuron import build_HH
    >>> neuron = build_HH(10.0)
    >>> neuron.state_names
    ('V', 'Na.m', 'Na.h', 'K.n')
    >>> float(neuron.channel("Na").g)
    120.0
    """

    channels: tuple[IonChannel, ...]
    C: Scalar = eqx.field(converter=jnp.asarray)
    V0: Scalar = eqx.field(converter=jnp.asarray)
    stimulus: AbstractStimulus = eqx.field(converter=as_stimulus)
    channel_names: tuple[str, ...] = eqx.field(static=True, default=())
    name: str = eqx.field(static=True, default="neuron")
    stiff: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        check_positive(f"{self.name}: C (membrane capacitance)", self.C, "µF/cm²")
        check_finite(f"{self.name}: V0 (initial potential)", self.V0, "mV")
        if len(self.channel_names) != len(self.channels):
            raise ValueError(
                f"{self.name}: {len(self.channels)} channels but {len(self.channel_names)} names"
            )
        if len(set(self.channel_names)) != len(self.channel_names):
            raise ValueError(f"{self.name}: channel names must be unique: {self.channel_names}")

    # ---- structure -------------------------------------------------------------------

    def channel(self, name: str) -> IonChannel:
        """The channel called ``name``; usable inside `eqx.tree_at`."""
        try:
            return self.channels[self.channel_names.index(name)]
        except ValueError:
            raise KeyError(
                f"{self.name} has no channel {name!r}; channels: {self.channel_names}"
            ) from None

    @property
    def state_names(self) -> tuple[str, ...]:
        names = ["V"]
        for cname, ch in zip(self.channel_names, self.channels, strict=True):
            names.extend(f"{cname}.{gate}" for gate in ch.gates)
        return tuple(names)

    @property
    def num_states(self) -> int:
        return len(self.state_names)

    def parameters(self) -> dict[str, Array]:
        """Every numeric parameter by a readable name (for messages and tables)."""
        out = {"C": self.C, "V0": self.V0}
        for cname, ch in zip(self.channel_names, self.channels, strict=True):
            out[f"{cname}.g"] = ch.g
            out[f"{cname}.E"] = ch.E
        return out

    def _unpack(self, y: State) -> tuple[Scalar, list[tuple[Scalar, ...]]]:
        V = y[0]
        gates, i = [], 1
        for ch in self.channels:
            n = len(ch.gates)
            gates.append(tuple(y[i + k] for k in range(n)))
            i += n
        return V, gates

    # ---- derived quantities ---------------------------------------------------------

    def initial_state(self, V0=None) -> State:
        """[V0, x∞(V0) for every gate]: the gates at steady state for the holding potential."""
        V = self.V0 if V0 is None else jnp.asarray(V0, dtype=self.V0.dtype)
        parts = [V]
        for ch in self.channels:
            parts.extend(x_inf for x_inf, _ in ch.gate_kinetics(V))
        return jnp.stack([jnp.asarray(p, dtype=V.dtype) for p in parts])

    def ionic_currents(self, y: State) -> dict[str, Scalar]:
        """Each channel's current I_c = g_c Π xᵢ^pᵢ (V − E_c), µA/cm², by channel name."""
        V, gates = self._unpack(y)
        return {
            cname: ch.current(V, x)
            for cname, ch, x in zip(self.channel_names, self.channels, gates, strict=True)
        }

    def _gate_derivatives(self, V, gates):
        derivs = []
        for ch, x in zip(self.channels, gates, strict=True):
            for xi, (x_inf, tau) in zip(x, ch.gate_kinetics(V), strict=True):
                derivs.append((x_inf - xi) / tau)
        return derivs

    def _membrane_derivative(self, t, V, gates):
        current = sum(ch.current(V, x) for ch, x in zip(self.channels, gates, strict=True))
        return (self.stimulus(t) - current) / self.C

    # ---- vector fields --------------------------------------------------------------

    def vector_field(self, t, y: State, args=None) -> State:
        """dy/dt for diffrax: [dV/dt (mV/ms), dx/dt (1/ms) …]."""
        V, gates = self._unpack(y)
        dV = self._membrane_derivative(t, V, gates)
        return jnp.stack([dV, *self._gate_derivatives(V, gates)]).astype(y.dtype)

    def membrane_field(self, t, y: State, args=None) -> State:
        """The V part of `vector_field` (zeros for the gates): KenCarp's explicit term."""
        V, gates = self._unpack(y)
        dV = self._membrane_derivative(t, V, gates)
        return jnp.zeros_like(y).at[0].set(dV)

    def gate_field(self, t, y: State, args=None) -> State:
        """The gate part of `vector_field` (zero for V): KenCarp's implicit term."""
        V, gates = self._unpack(y)
        derivs = self._gate_derivatives(V, gates)
        return jnp.stack([jnp.zeros_like(V), *derivs]).astype(y.dtype)

    def exponential_euler_step(self, t, y: State, dt) -> State:
        r"""One split exponential-Euler (Rush–Larsen) step of length ``dt`` ms.

        1. gates with V(n):  x ← x∞(Vₙ) + (x − x∞(Vₙ)) e^{−Δt/τ(Vₙ)}
        2. V with the new gates, exactly for the linear equation C dV/dt = −G V + J:
           V ← V + Δt · (dV/dt) · exprel(−Δt G / C)

        Both sub-steps are exact for frozen coefficients, so the scheme is unconditionally
        stable for the stiff gates and first-order accurate overall.
        """
        V, gates = self._unpack(y)
        new_gates = []
        for ch, x in zip(self.channels, gates, strict=True):
            updated = []
            for xi, (x_inf, tau) in zip(x, ch.gate_kinetics(V), strict=True):
                updated.append(x_inf + (xi - x_inf) * jnp.exp(-dt / tau))
            new_gates.append(tuple(updated))
        total_g = sum(ch.conductance(x) for ch, x in zip(self.channels, new_gates, strict=True))
        dV = self._membrane_derivative(t, V, new_gates)
        V_new = V + dt * dV * exprel(-dt * total_g / self.C)
        flat = [g for x in new_gates for g in x]
        return jnp.stack([V_new, *flat]).astype(y.dtype)


def as_dtype(model, dtype):
    """A copy of ``model`` (any pytree) whose floating-point array leaves have ``dtype``.

    >>> import jax.numpy as jnp
    >>> from jaxneuron import build_HH
    >>> as_dtype(build_HH(), jnp.float32).C.dtype
    dtype('float32')
    """

    def cast(x):
        if eqx.is_array(x) and jnp.issubdtype(x.dtype, jnp.floating):
            return x.astype(dtype)
        return x

    return jax.tree_util.tree_map(cast, model)
