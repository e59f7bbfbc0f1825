"""The former home of `jaxneuron.networks` (networks of conductance-based populations),
kept so that ``jaxneuron.populations.<name>`` still works: the same objects, re-exported."""

from .networks import (
    UM2_PER_CM2,
    AbstractProjection,
    Connectivity,
    GapJunctionProjection,
    GradedProjection,
    Population,
    PopulationNetwork,
    PopulationSolution,
    Projection,
    check_y0,
    cobahh,
    fixed_indegree,
    fixed_probability,
    from_pairs,
    simulate_populations,
)

__all__ = [
    "Population",
    "PopulationNetwork",
    "Connectivity",
    "fixed_probability",
    "fixed_indegree",
    "from_pairs",
    "AbstractProjection",
    "Projection",
    "GradedProjection",
    "GapJunctionProjection",
    "PopulationSolution",
    "simulate_populations",
    "check_y0",
    "cobahh",
    "UM2_PER_CM2",
]
