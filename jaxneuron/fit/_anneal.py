"""`anneal`: fit a free-running model by synchronisation, with the coupling annealed to 0."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ._fit import FitResult, synchronised_stages
from ._losses import Loss

#: `anneal`'s default coupling gains (mS/cm²), strongest first. They end at a weak coupling,
#: not at 0: over a long free-running trace the uncoupled MSE's basin around the truth is
#: narrower than what the coupled stages reach, and an uncoupled last stage can leave it
#: (`scripts/fit_burster.py --routes anneal --uncoupled` reports every stage). Append 0.0
#: to finish uncoupled.
DEFAULT_GAINS = (30.0, 10.0, 3.0, 1.0, 0.3)


@dataclasses.dataclass(frozen=True)
class AnnealResult:
    """What `anneal` returns: ``stages`` (one `FitResult` per gain, in order), ``gains``;
    ``result`` is the last stage (the uncoupled fit when the gains end at 0)."""

    stages: tuple[FitResult, ...]
    gains: tuple[float, ...]

    @property
    def result(self) -> FitResult:
        return self.stages[-1]

    def __str__(self):
        lines = [f"annealed fit over gains {self.gains} mS/cm²:"]
        for gain, stage in zip(self.gains, self.stages, strict=True):
            values = ", ".join(f"{n} = {v:.5g}" for n, v in stage.values.items())
            lines.append(
                f"  gain {gain:>6g}: loss {stage.loss:.4g} after {stage.steps} steps "
                f"({stage.wall_time_s:.1f} s): {values}"
            )
        return "\n".join(lines)


def anneal(
    model,
    loss: Loss,
    params,
    *,
    gains: Sequence[float] = DEFAULT_GAINS,
    **fit_kwargs,
) -> AnnealResult:
    r"""Fit ``params`` of ``model`` to a trace or protocol loss by synchronisation: one
    `fit` per coupling gain k in ``gains`` (mS/cm², decreasing; 0 means uncoupled), the
    model coupled to the recording by k·(V − V_data(t)) (`jaxneuron.fit.Nudged`), each
    stage starting where the last ended. A strong coupling slaves the model's spikes to
    the recorded ones and makes the loss smooth in the conductances; lowering it hands
    the trajectory back to the model. ``fit_kwargs`` go to every `fit` (``steps``,
    ``optimizer``, …).

    **Example:**

    >>> import jaxneuron as jn
    >>> from jaxneuron.fit import TraceLoss, anneal
    >>> target = jn.simulate(jn.build_HH(10.0), 20.0, solver="exponential_euler").V
    >>> loss = TraceLoss(target, dt=0.1)
    >>> start = jn.set_parameters(jn.build_HH(10.0), {"K.g": 40.0})
    >>> annealed = anneal(start, loss, "K.g", gains=(3.0, 0.0), steps=5)
    >>> len(annealed.stages)
    2
    """
    if not (isinstance(loss, Loss) and loss.synchronisable()):
        raise TypeError(
            "anneal couples the model to a recording: it needs a TraceLoss of one neuron, "
            "a current-clamp ProtocolLoss or a JunctionPotential of them, got "
            f"{type(loss).__name__}"
        )
    gains = tuple(float(g) for g in gains)
    if not gains or any(not g >= 0 for g in gains):
        raise ValueError(f"gains must be a non-empty sequence of conductances >= 0, got {gains}")
    if any(b > a for a, b in zip(gains, gains[1:], strict=False)):
        raise ValueError(f"gains must decrease (strongest coupling first), got {gains}")
    stages = synchronised_stages(model, loss, params, gains, **fit_kwargs)
    return AnnealResult(stages=tuple(stages), gains=gains)
