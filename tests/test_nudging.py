"""Synchronisation (nudging): the coupled model, and annealed fits of free-running spiking
where the plain trace fit stalls."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuron as jn
import jaxneuron.fit as jf
from jaxneuron.protocols import noisy

SOLVER = jn.ExponentialEuler(dt=0.025)


def test_nudged_model_follows_its_data_and_is_the_neuron_without_coupling():
    hh = jn.build_HH(10.0)
    data = jn.Interpolated(times=[0.0, 40.0], values=[-40.0, -40.0])
    free = jn.simulate(hh, 40.0, solver=SOLVER).V
    off = jn.simulate(jf.Nudged(hh, gain=0.0, data=data), 40.0, solver=SOLVER).V
    # equal up to rounding: two XLA programs, which may contract a multiply-add differently
    np.testing.assert_allclose(np.asarray(off), np.asarray(free), rtol=0, atol=1e-12)
    # a strong coupling holds V near the data: C dV/dt = … − k (V − V_data)
    fine = jn.ExponentialEuler(dt=0.0005)  # gain·dt/C = 0.5: the explicit coupling is stable
    held = jn.simulate(jf.Nudged(hh, gain=1000.0, data=data), 40.0, solver=fine, save_every=0.1).V
    assert float(jnp.max(jnp.abs(held[100:] + 40.0))) < 1.0
    # on the recorded trajectory itself the coupling is exactly zero (explicit coupling)
    truth = jn.simulate(hh, 40.0, solver=SOLVER, save_every=0.025)
    on_path = jf.Nudged(hh, gain=30.0, data=jn.Interpolated(times=truth.ts, values=truth.V))
    coupled = jn.simulate(on_path, 40.0, solver=SOLVER, save_every=0.025).V
    np.testing.assert_allclose(np.asarray(coupled), np.asarray(truth.V), rtol=0, atol=1e-10)
    # the fixed step converges (first order) to the tight adaptive solution of the same ODE
    nudged = jf.Nudged(hh, gain=5.0, data=jn.Interpolated(times=[0.0, 40.0], values=[-70.0, 0.0]))
    adaptive = jn.simulate(nudged, 40.0, solver="tsit5", rtol=1e-10, atol=1e-10).V
    errors = [
        float(
            jnp.max(jnp.abs(jn.simulate(nudged, 40.0, solver=jn.ExponentialEuler(dt)).V - adaptive))
        )
        for dt in (0.002, 0.001, 0.0005)
    ]
    assert errors[0] < 0.5 and errors[1] < 0.55 * errors[0] and errors[2] < 0.55 * errors[1]
    with pytest.raises(ValueError, match="gain·dt/C must stay below 1"):
        jf.fit(hh, jf.TraceLoss(free, dt=0.1).with_nudging(50.0), "K.g", steps=1)
    with pytest.raises(ValueError, match="nudging gain"):
        jf.TraceLoss(free, dt=0.1).with_nudging(-1.0)


def test_annealed_fit_recovers_hh_where_the_plain_trace_fit_stalls():
    true = jn.build_HH(10.0)
    target = noisy(jn.simulate(true, 100.0, solver=SOLVER, save_every=0.1).V, 1.0, seed=1)
    loss = jf.TraceLoss(target, dt=0.1, t1=100.0)
    start = jn.set_parameters(true, {"Na.g": 70.0, "K.g": 60.0})
    with pytest.warns(jf.FitWarning, match="NOT converged"):
        plain = jf.fit(start, loss, ["Na.g", "K.g"], recover=False)
    assert plain.loss > 100.0 and not plain.converged  # a local minimum: spikes out of step
    annealed = jf.anneal(start, loss, ["Na.g", "K.g"], gains=(10.0, 3.0, 1.0, 0.0))
    errors = annealed.result.relative_errors({"Na.g": 120.0, "K.g": 36.0})
    assert max(errors.values()) < 0.01, str(annealed)
    assert annealed.result.loss == pytest.approx(1.0, rel=0.1)
    assert "gain" in str(annealed) and len(annealed.stages) == 4
    with pytest.raises(ValueError, match="decrease"):
        jf.anneal(start, loss, "K.g", gains=(1.0, 3.0))
    with pytest.raises(TypeError, match="TraceLoss of one neuron"):
        jf.anneal(start, jf.FeatureLoss([jf.FiringRate(60.0)], t1=50.0), "K.g")


def test_protocol_loss_nudges_each_sweep_to_its_own_target():
    protocol = jn.Protocol.steps([0.0, 10.0], onset=5.0, offset=35.0, t1=40.0)
    # sampled at the integration step, the truth's coupling current is 0 at every step
    loss = jf.ProtocolLoss.from_model(jn.build_HH(), protocol, dt=0.025, solver=SOLVER)
    assert float(loss.with_nudging(50.0)(jn.build_HH())) < 1e-20
    wrong = jn.set_parameters(jn.build_HH(), {"K.g": 30.0})
    # a strong coupling pulls every sweep to its own recording: the mismatch shrinks
    loose, tight = float(loss(wrong)), float(loss.with_nudging(50.0)(wrong))
    assert tight < 0.1 * loose
