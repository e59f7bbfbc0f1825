"""The Hodgkin–Huxley neuron with MTKNeuralToolkit's configuration names."""

from __future__ import annotations

from .._validation import check_finite, check_nonnegative, check_positive
from ..channels import HHPotassium, HHSodium, Leak, TraubPotassium, TraubSodium
from ..stimuli import as_stimulus
from ._config import config
from ._neuron import ConductanceNeuron


@config
class HHConfig:
    """Parameters of the Hodgkin–Huxley neuron (densities; modern convention).

    ``Na_g``, ``K_g``, ``Leak_g`` in mS/cm²; ``Na_E``, ``K_E``, ``Leak_E``, ``V0`` in mV;
    ``C`` in µF/cm². Gates start at steady state for ``V0``.

    >>> HHConfig(Na_g=120.0, K_g=36.0, Leak_g=0.3).K_E
    -77.0
    """

    Na_g: float = 120.0
    K_g: float = 36.0
    Leak_g: float = 0.3
    Na_E: float = 50.0
    K_E: float = -77.0
    Leak_E: float = -54.4
    C: float = 1.0
    V0: float = -65.0

    def __post_init__(self):
        for field in ("Na_g", "K_g", "Leak_g"):
            check_nonnegative(f"HHConfig.{field}", getattr(self, field), "mS/cm²")
        for field in ("Na_E", "K_E", "Leak_E", "V0"):
            check_finite(f"HHConfig.{field}", getattr(self, field), "mV")
        check_positive("HHConfig.C", self.C, "µF/cm²")


def build_HH(stimulus=None, *, name: str = "neuron", config: HHConfig | None = None):
    """Build a Hodgkin–Huxley neuron.

    **Arguments:**

    - ``stimulus``: injected current in µA/cm² — an `AbstractStimulus`, a number, a
      function of t (ms), or None for no current.
    - ``name``: label used in messages and plots.
    - ``config``: an `HHConfig`; the defaults are the classic 1952 values.

    **Returns:** a `ConductanceNeuron` with channels ``Na``, ``K``, ``Leak``.

    >>> from jaxneuron import HHConfig, build_HH, simulate
    >>> neuron = build_HH(10.0, name="axon", config=HHConfig(Na_g=120.0, K_g=36.0))
    >>> sol = simulate(neuron, 20.0)
    >>> bool(sol.V.max() > 20.0)     # it fires
    True
    """
    cfg = HHConfig() if config is None else config
    if not isinstance(cfg, HHConfig):
        raise TypeError(f"config must be an HHConfig, got {type(cfg).__name__}")
    return ConductanceNeuron(
        channels=(
            HHSodium(g=cfg.Na_g, E=cfg.Na_E),
            HHPotassium(g=cfg.K_g, E=cfg.K_E),
            Leak(g=cfg.Leak_g, E=cfg.Leak_E),
        ),
        channel_names=("Na", "K", "Leak"),
        C=cfg.C,
        V0=cfg.V0,
        stimulus=as_stimulus(stimulus),
        name=name,
        # The fastest HH gate (τm ≈ 0.1 ms) is not far below the spike time scale, so an
        # explicit adaptive solver is the cheapest accurate default.
        stiff=False,
    )


@config
class TraubMilesConfig:
    """Parameters of the Traub–Miles neuron of the COBAHH benchmark (Brette et al. 2007,
    J Comput Neurosci 23:349, benchmark 3): ``Na_g``, ``Kd_g``, ``Leak_g`` in mS/cm²;
    ``Na_E``, ``Kd_E``, ``Leak_E``, ``VT`` (the rates' threshold parameter), ``V0`` in mV;
    ``C`` in µF/cm². Gates start at steady state for ``V0``.

    >>> TraubMilesConfig().Leak_g   # 5e-5 S/cm²
    0.05
    """

    Na_g: float = 100.0
    Kd_g: float = 30.0
    Leak_g: float = 0.05
    Na_E: float = 50.0
    Kd_E: float = -90.0
    Leak_E: float = -60.0
    VT: float = -63.0
    C: float = 1.0
    V0: float = -60.0

    def __post_init__(self):
        for field in ("Na_g", "Kd_g", "Leak_g"):
            check_nonnegative(f"TraubMilesConfig.{field}", getattr(self, field), "mS/cm²")
        for field in ("Na_E", "Kd_E", "Leak_E", "VT", "V0"):
            check_finite(f"TraubMilesConfig.{field}", getattr(self, field), "mV")
        check_positive("TraubMilesConfig.C", self.C, "µF/cm²")


def build_TraubMiles(stimulus=None, *, name: str = "neuron", config=None):
    """Build the Traub–Miles Hodgkin–Huxley-type neuron of the COBAHH benchmark: channels
    ``Na`` (`TraubSodium`), ``Kd`` (`TraubPotassium`) and ``Leak``; ``stimulus`` in µA/cm²
    as for `build_HH`.

    >>> from jaxneuron import build_TraubMiles, simulate
    >>> neuron = build_TraubMiles(1.0)
    >>> neuron.state_names
    ('V', 'Na.m', 'Na.h', 'Kd.n')
    >>> bool(simulate(neuron, 50.0).V.max() > 0.0)   # 1 µA/cm² makes it fire
    True
    """
    cfg = TraubMilesConfig() if config is None else config
    if not isinstance(cfg, TraubMilesConfig):
        raise TypeError(f"config must be a TraubMilesConfig, got {type(cfg).__name__}")
    return ConductanceNeuron(
        channels=(
            TraubSodium(g=cfg.Na_g, E=cfg.Na_E, VT=cfg.VT),
            TraubPotassium(g=cfg.Kd_g, E=cfg.Kd_E, VT=cfg.VT),
            Leak(g=cfg.Leak_g, E=cfg.Leak_E),
        ),
        channel_names=("Na", "Kd", "Leak"),
        C=cfg.C,
        V0=cfg.V0,
        stimulus=as_stimulus(stimulus),
        name=name,
        stiff=False,
    )
