"""Population sweeps: the fast engine, parameter spaces, resumable datasets.

- `sweep` runs a model over a `Grid`, `Random` samples, a `Table` or the
  `PrinzDatabase`, chunk by chunk (sharded across devices), into a `SweepResult` and,
  with ``path``, a Parquet dataset that an interrupted sweep resumes;
- `sweep_populations` runs one `jaxneuron.PopulationNetwork` per parameter set, vmapped,
  and keeps each population's rate, CV and active fraction;
- `Engine` is the population engine underneath: exponential Euler, batch-minor state,
  streaming features and classes in the loop carry; `run_pallas` runs it as one Pallas
  kernel with the whole time loop on chip (single neurons, for GPUs).
"""

from ._engine import FEATURE_NAMES, Engine
from ._networks import sweep_populations
from ._pallas import run_pallas
from ._space import Grid, ParameterSpace, PrinzDatabase, PyloricDatabase, Random, Table
from ._sweep import SweepResult, sweep

__all__ = [
    "sweep",
    "sweep_populations",
    "SweepResult",
    "Grid",
    "Random",
    "Table",
    "PrinzDatabase",
    "PyloricDatabase",
    "ParameterSpace",
    "Engine",
    "FEATURE_NAMES",
    "run_pallas",
]
