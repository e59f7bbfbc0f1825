r"""Gradient-based fitting of model parameters with optax.

Choose free parameters by name (`jaxneuron.parameters`), keep them valid with transforms
(`Log`, `Softplus`, `Bounded`), describe the objective as a loss (`TraceLoss` against a
recording, `FeatureLoss` over differentiable features, or any function model → scalar),
and call `fit`:

>>> import optax
>>> from jaxneuron import build_HH
>>> from jaxneuron.fit import Bounded, FeatureLoss, FiringRate, fit
>>> loss = FeatureLoss([FiringRate(60.0)], t1=100.0, stimulus=10.0, save_every=0.05)
>>> result = fit(build_HH(), loss, {"Na.g": Bounded(50.0, 200.0)}, steps=5)
>>> result.steps
5
"""

from ._anneal import DEFAULT_GAINS, AnnealResult, anneal
from ._family import Family, find_family, match_features, walk_family
from ._features import (
    BurstOnsetPhase,
    BurstPeriod,
    BurstPhase,
    DutyCycle,
    Feature,
    FiringRate,
    SlowWave,
    SpikeCount,
    SpikesPerBurst,
    VoltageHistogram,
)
from ._fit import (
    NOISE_FACTOR,
    RECOVERY_GAINS,
    RESTART_FACTOR,
    FitResult,
    FitWarning,
    FreeParameters,
    fit,
    loss_and_gradient,
    select_parameters,
)
from ._gradients import FORWARD_MAX_PARAMETERS
from ._identifiability import Identifiability, sensitivity
from ._junction import JunctionPotential
from ._losses import (
    RESOLVED,
    FeatureLoss,
    FunctionLoss,
    Loss,
    ProtocolLoss,
    SumLoss,
    TraceLoss,
    looks_white,
    noise_variance,
)
from ._nudging import Nudged
from ._optimizers import lbfgs
from ._shooting import MultipleShooting
from ._transforms import Bounded, Identity, Log, Softplus, Transform, default_transform

__all__ = [
    "fit",
    "FitResult",
    "FitWarning",
    "NOISE_FACTOR",
    "RECOVERY_GAINS",
    "RESTART_FACTOR",
    "noise_variance",
    "looks_white",
    "RESOLVED",
    "loss_and_gradient",
    "lbfgs",
    "sensitivity",
    "anneal",
    "find_family",
    "walk_family",
    "match_features",
    "Family",
    "AnnealResult",
    "DEFAULT_GAINS",
    "Nudged",
    "MultipleShooting",
    "JunctionPotential",
    "Identifiability",
    "select_parameters",
    "FreeParameters",
    "Loss",
    "TraceLoss",
    "ProtocolLoss",
    "FeatureLoss",
    "SumLoss",
    "FunctionLoss",
    "Feature",
    "SpikeCount",
    "FiringRate",
    "BurstPeriod",
    "DutyCycle",
    "SpikesPerBurst",
    "VoltageHistogram",
    "BurstPhase",
    "BurstOnsetPhase",
    "SlowWave",
    "Transform",
    "Identity",
    "Log",
    "Softplus",
    "Bounded",
    "default_transform",
    "FORWARD_MAX_PARAMETERS",
]
