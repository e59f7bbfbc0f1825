r"""A liquid-junction potential fitted beside the model's parameters.

A whole-cell recording reads V_recorded = V_membrane + V_LJ, with the liquid-junction
potential V_LJ = V_pipette − V_bath (Neher 1992, Methods Enzymol. 207:123), typically
+5 to +15 mV for potassium-gluconate pipettes. When it was not measured, it can be
fitted: `JunctionPotential` wraps a current-clamp `TraceLoss` or `ProtocolLoss` so that
the model is compared with V_recorded − V_LJ, and `fit` adds V_LJ (mV, named
``"junction_potential"``, no constraint) to the free parameters.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..clamp import VoltageClamp
from ._fit import AbstractVariables, FreeParameters
from ._losses import Loss, ProtocolLoss, TraceLoss, _replace
from ._transforms import Identity

NAME = "junction_potential"


class _Observed(eqx.Module):
    """What a `JunctionPotential` loss is evaluated on: the model and V_LJ (mV)."""

    model: object
    junction_potential: Float[Array, ""]


class _JunctionVariables(AbstractVariables):
    """The free parameters followed by V_LJ."""

    free: FreeParameters
    names: tuple[str, ...] = eqx.field(static=True)
    transforms: tuple
    initial: float = eqx.field(static=True)

    @property
    def size(self):
        return self.free.size + 1

    def values(self, u):
        return {**self.free.values(u[..., :-1]), NAME: u[..., -1]}

    def apply(self, model, u):
        return _Observed(self.free.apply(model, u[:-1]), u[-1])

    def fitted(self, model, u):
        return self.free.apply(model, u[:-1])

    def unconstrained(self, values):
        values = jnp.asarray(values)
        return jnp.concatenate(
            [self.free.unconstrained(values[..., :-1]), values[..., -1:]], axis=-1
        )

    def initial_values(self, model):
        return np.append(self.free.initial_values(model), self.initial)


class JunctionPotential(Loss):
    r"""``loss`` (a current-clamp `TraceLoss` or `ProtocolLoss`) against the recorded
    potentials corrected by a fitted liquid-junction potential V_LJ (mV):
    V_membrane = V_recorded − V_LJ. `fit` reports it as ``"junction_potential"``, starting
    from ``initial`` (mV).

    >>> import jaxneuron as jn
    >>> from jaxneuron.fit import JunctionPotential, TraceLoss, fit
    >>> V = jn.simulate(jn.build_HH(10.0), 30.0, solver=jn.ExponentialEuler(dt=0.025)).V
    >>> loss = JunctionPotential(TraceLoss(V + 8.0, dt=0.1))   # recorded with V_LJ = 8 mV
    >>> result = fit(jn.build_HH(10.0), loss, "K.g", steps=40)
    >>> round(result.values["junction_potential"], 3)
    8.0
    """

    loss: TraceLoss | ProtocolLoss
    initial: float = eqx.field(static=True)

    def __init__(self, loss, *, initial: float = 0.0):
        if not isinstance(loss, TraceLoss | ProtocolLoss):
            raise TypeError(
                f"JunctionPotential corrects recorded potentials: it needs a TraceLoss or a "
                f"current-clamp ProtocolLoss, got {type(loss).__name__}"
            )
        if isinstance(loss, ProtocolLoss) and isinstance(loss.protocol, VoltageClamp):
            raise ValueError(
                "JunctionPotential: in voltage clamp the junction potential offsets the "
                "command potentials, not the recorded currents; correct the protocol's levels"
            )
        if not np.isfinite(initial):
            raise ValueError(f"initial junction potential must be finite (mV), got {initial}")
        self.loss = loss
        self.initial = float(initial)

    def check(self, model):
        self.loss.check(model)

    def is_smooth(self):
        return self.loss.is_smooth()

    def default_optimizer(self):
        return self.loss.default_optimizer()

    def with_adjoint(self, adjoint):
        return _replace(self, loss=self.loss.with_adjoint(adjoint))

    def synchronisable(self):
        return self.loss.synchronisable()

    def with_nudging(self, gain):
        """The wrapped loss coupled to the corrected recording (see `anneal`)."""
        return _replace(self, loss=self.loss.with_nudging(gain))

    def continued(self, result):
        """The same loss, its junction potential starting at ``result``'s."""
        return _replace(self, initial=float(result.values[NAME]))

    def noise_floor(self, observed=None):
        """As the wrapped loss's (`TraceLoss.noise_floor`): a constant offset of the
        targets leaves their noise as it is; with a fitted point, its residuals are those
        of the corrected targets."""
        if observed is None:
            return self.loss.noise_floor()
        model, vlj = self._split(observed)
        return self.corrected(vlj).noise_floor(model)

    def variables(self, model, free):
        return _JunctionVariables(
            free=free,
            names=(*free.names, NAME),
            transforms=(*free.transforms, Identity()),
            initial=self.initial,
        )

    def corrected(self, junction_potential) -> TraceLoss | ProtocolLoss:
        """The wrapped loss with its targets corrected by ``junction_potential`` (mV)."""
        if isinstance(self.loss, TraceLoss):
            return _replace(self.loss, target=self.loss.target - junction_potential)
        return _replace(self.loss, targets=self.loss.targets - junction_potential)

    def _split(self, observed):
        if isinstance(observed, _Observed):
            return observed.model, observed.junction_potential
        return observed, self.initial

    def residuals(self, observed):
        model, vlj = self._split(observed)
        return self.corrected(vlj).residuals(model)

    def __call__(self, observed):
        model, vlj = self._split(observed)
        return self.corrected(vlj)(model)
