"""The COBAHH benchmark network (Brette et al. 2007, benchmark 3) as a preset: `cobahh`
builds the network and draws its initial state as Brian2's example does."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..neurons import as_dtype, build_TraubMiles
from ..receptors import ExponentialReceptor
from ._connectivity import fixed_indegree, fixed_probability
from ._populations import Population, PopulationNetwork
from ._projections import Projection


def cobahh(
    n: int = 4000,
    *,
    p: float | None = 0.02,
    indegree: int | None = None,
    seed: int = 0,
    dtype=jnp.float32,
):
    """The COBAHH benchmark network (Brette et al. 2007, J Comput Neurosci 23:349,
    benchmark 3): ``n`` Traub–Miles neurons (`build_TraubMiles`), 80 % excitatory
    (population ``"E"``) and 20 % inhibitory (``"I"``), every pair connected with
    probability ``p`` (or each neuron receiving ``indegree`` synapses from each
    population's share: 0.8·indegree excitatory and 0.2·indegree inhibitory), exponential
    conductance synapses — excitatory 6 nS, τ 5 ms, E 0 mV; inhibitory 67 nS, τ 10 ms,
    E −80 mV — and a membrane area of 20,000 µm².

    The initial state is drawn as in Brian2's COBAHH example: V = −60 mV + 𝒩(−5, 5²) mV,
    gates at 0, excitatory conductances 𝒩(40, 15²) nS and inhibitory 𝒩(200, 120²) nS.

    Returns ``(net, y0, g0)`` for `simulate_populations`. Brian2's example counts spikes
    with ``threshold="v > -20*mV", refractory=3*ms``: pass ``refractory=3.0`` to
    `simulate_populations` for the same rule.

    >>> net, y0, g0 = cobahh(400, seed=1)
    >>> [pop.n for pop in net.populations], len(net.projections)
    ([320, 80], 4)
    """
    n_exc = int(round(0.8 * n))
    sizes = {"E": n_exc, "I": n - n_exc}
    if (p is None) == (indegree is None):
        raise TypeError("give either p (connection probability) or indegree, not both")
    neuron = as_dtype(build_TraubMiles(name="COBAHH"), dtype)
    pops = tuple(Population(neuron, sizes[k], name=k) for k in ("E", "I"))
    receptors = {
        "E": (ExponentialReceptor(jnp.asarray(5.0, dtype), jnp.asarray(0.0, dtype)), 6.0),
        "I": (ExponentialReceptor(jnp.asarray(10.0, dtype), jnp.asarray(-80.0, dtype)), 67.0),
    }
    projections = []
    for k, (pre, post) in enumerate([("E", "E"), ("E", "I"), ("I", "E"), ("I", "I")]):
        n_pre, n_post = sizes[pre], sizes[post]
        if p is not None:
            conn = fixed_probability(n_pre, n_post, p, seed=seed * 8 + k)
        else:
            share = 0.8 if pre == "E" else 0.2
            conn = fixed_indegree(n_pre, n_post, int(round(share * indegree)), seed=seed * 8 + k)
        receptor, weight = receptors[pre]
        projections.append(Projection(pre, post, conn, jnp.asarray(weight, dtype), receptor))
    net = PopulationNetwork(pops, tuple(projections), area=20_000.0)
    rng = np.random.default_rng(seed)
    y0 = {}
    for pop in pops:
        V = -60.0 + rng.normal(-5.0, 5.0, pop.n)
        zeros = np.zeros(pop.n)
        y0[pop.name] = tuple(jnp.asarray(x, dtype) for x in (V, zeros, zeros, zeros))
    g0 = []
    for proj in projections:
        mean, sd = (40.0, 15.0) if proj.pre == "E" else (200.0, 120.0)
        g0.append(jnp.asarray(rng.normal(mean, sd, sizes[proj.post]), dtype))
    return net, y0, g0
