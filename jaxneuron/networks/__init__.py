r"""Networks of populations: many neurons of one structure (conductance-based or
integrate-and-fire), sparse projections of event-driven conductance synapses, graded
synapses and gap junctions, one fixed-step loop.

- `_connectivity.py`: `Connectivity`, a projection's synapses by presynaptic neuron, and
  its builders `fixed_probability`, `fixed_indegree`, `from_pairs` (seeded);
- `_projections.py`: `AbstractProjection` and its kinds, `Projection` (spike-driven
  receptors), `GradedProjection` (graded release) and `GapJunctionProjection`;
- `_populations.py`: `Population` (``n`` neurons, one vmapped step) and
  `PopulationNetwork` (populations, projections, parameters by name, circuits as
  populations of one), `UM2_PER_CM2`;
- `_solution.py`: `PopulationSolution` and the spike statistics gathered in the loop;
- `_spikes.py`: `AbstractSpikeRule`, how a population's neurons step with their synaptic
  input and spike: `ThresholdCrossing` (conductance-based neurons) and
  `ResetOnThreshold` (the integrate-and-fire family);
- `_run.py`: `simulate_populations` (the fixed-step driver) and `check_y0`;
- `_cobahh.py`: `cobahh`, the COBAHH benchmark network.

>>> import jaxneuron as jn
>>> exc = jn.Population(jn.build_TraubMiles(), 100, name="E")
>>> conn = jn.fixed_probability(100, 100, 0.05, seed=0)
>>> net = jn.PopulationNetwork(
...     (exc,), (jn.Projection("E", "E", conn, 6.0, jn.ExponentialReceptor(5.0, 0.0)),))
>>> sol = jn.simulate_populations(net, 50.0, dt=0.1)
>>> sol.counts["E"].shape
(100,)
"""

from ._cobahh import cobahh
from ._connectivity import Connectivity, fixed_indegree, fixed_probability, from_pairs
from ._populations import UM2_PER_CM2, Population, PopulationNetwork
from ._projections import AbstractProjection, GapJunctionProjection, GradedProjection, Projection
from ._run import check_y0, simulate_populations
from ._solution import PopulationSolution
from ._spikes import AbstractSpikeRule, ResetOnThreshold, ThresholdCrossing

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
    "AbstractSpikeRule",
    "ThresholdCrossing",
    "ResetOnThreshold",
    "simulate_populations",
    "check_y0",
    "cobahh",
    "UM2_PER_CM2",
]
