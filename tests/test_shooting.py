"""Multiple shooting: the segments reproduce one trajectory exactly when their initial
states lie on it (also under a time-varying stimulus), and a fit recovers a conductance."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuron as jn
import jaxneuron.fit as jf
from jaxneuron.fit._fit import select_parameters

SOLVER = jn.ExponentialEuler(dt=0.025)


def _trajectory(model, t1):
    return jn.simulate(model, t1, solver=SOLVER, save_every=0.025)


def test_segments_started_on_the_trajectory_reproduce_it():
    # a step at 17 ms: each segment must see the stimulus at its own time
    stimulus = jn.Step(amplitude=10.0, onset=17.0, offset=33.0)
    model = jn.build_HH(stimulus)
    sol = _trajectory(model, 40.0)
    loss = jf.MultipleShooting(jf.TraceLoss(sol.V, dt=0.025, solver=SOLVER), segments=4)
    variables = loss.variables(model, select_parameters(model, "K.g"))
    u = variables.unconstrained(jnp.asarray([36.0]))
    on_trajectory = np.asarray(sol.ys)[::400][:4]  # the states at 0, 10, 20, 30 ms
    segmented = variables.apply(model, u)
    segmented = type(segmented)(segmented.neuron, jnp.asarray(on_trajectory), segmented.spread)
    residuals = np.asarray(loss.residuals(segmented))
    assert np.max(np.abs(residuals)) < 1e-9
    # the synchronised run that gives the initial states lands close to them
    start = np.asarray(variables.apply(model, u).states)
    assert np.max(np.abs(start[:, 0] - on_trajectory[:, 0])) < 0.5  # mV


def test_shooting_fit_recovers_a_conductance():
    target = _trajectory(jn.build_HH(10.0), 40.0).V[::4]
    loss = jf.MultipleShooting(jf.TraceLoss(target, dt=0.1, solver=SOLVER), segments=4)
    start = jn.set_parameters(jn.build_HH(10.0), {"K.g": 40.0})
    result = jf.fit(start, loss, "K.g", steps=200)
    assert result.values["K.g"] == pytest.approx(36.0, rel=2e-3)
    assert isinstance(result.model, type(start)) and result.gradient == "reverse"


def test_bad_segments_and_losses_are_refused():
    trace = jf.TraceLoss(np.full(401, -65.0), dt=0.1, solver=SOLVER)
    with pytest.raises(ValueError, match="whole number"):
        jf.MultipleShooting(trace, segments=3)
    with pytest.raises(ValueError, match="segments must be >= 2"):
        jf.MultipleShooting(trace, segments=1)
    with pytest.raises(ValueError, match="fixed step"):
        jf.MultipleShooting(jf.TraceLoss(np.full(401, -65.0), dt=0.1, solver="tsit5"), segments=4)
    with pytest.raises(TypeError, match="TraceLoss"):
        jf.MultipleShooting(jf.FeatureLoss([jf.FiringRate(10.0)], t1=40.0), segments=4)
