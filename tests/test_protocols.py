"""Protocols: sweeps run as batches equal single simulations; Ramp and OU stimuli; the
protocol loss and its fit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuron as jn
import jaxneuron.fit as jf

SOLVER = jn.ExponentialEuler(dt=0.025)


def test_ramp_is_linear_between_onset_and_offset():
    ramp = jn.Ramp(start=-2.0, end=6.0, onset=10.0, offset=30.0)
    ts = np.array([0.0, 10.0, 15.0, 20.0, 29.999, 30.0, 40.0])
    expected = [0.0, -2.0, 0.0, 2.0, 6.0 - 8.0 * 0.001 / 20.0, 0.0, 0.0]
    np.testing.assert_allclose([float(ramp(t)) for t in ts], expected, atol=1e-12)
    assert [float(x) for x in ramp.discontinuities()] == [10.0, 30.0]
    with pytest.raises(ValueError, match="Ramp.offset"):
        jn.Ramp(0.0, 1.0, onset=5.0, offset=5.0)


def test_ornstein_uhlenbeck_has_its_mean_sd_and_correlation_time():
    stim = jn.ornstein_uhlenbeck(3.0, 2.0, 5.0, t1=200_000.0, dt=0.5, seed=4)
    x = np.asarray(stim.values)
    assert x.mean() == pytest.approx(3.0, abs=0.05)
    assert x.std() == pytest.approx(2.0, rel=0.02)
    lag = 10  # 5 ms = tau: the autocorrelation is 1/e
    c = np.corrcoef(x[:-lag], x[lag:])[0, 1]
    assert c == pytest.approx(np.exp(-1.0), abs=0.02)
    again = jn.ornstein_uhlenbeck(3.0, 2.0, 5.0, t1=200_000.0, dt=0.5, seed=4)
    np.testing.assert_array_equal(np.asarray(again.values), x)
    with pytest.raises(ValueError, match="tau"):
        jn.ornstein_uhlenbeck(0.0, 1.0, 0.0, t1=10.0)


def test_protocol_batches_equal_single_simulations():
    noise = jn.ornstein_uhlenbeck(4.0, 3.0, 2.0, t1=60.0, seed=2)
    protocol = jn.Protocol.steps([-3.0, 2.0, 12.0], onset=10.0, offset=50.0, t1=60.0) + jn.Protocol(
        [noise, jn.Ramp(0.0, 20.0, 5.0, 55.0)], t1=60.0, names=["OU", "ramp"]
    )
    assert len(protocol) == 5 and protocol.names[-2:] == ("OU", "ramp")
    assert sorted(len(i) for i, _ in protocol.batches()) == [1, 1, 3]
    model = jn.build_HH()
    result = protocol.simulate(model, solver=SOLVER)
    assert result.V.shape == (5, 601) and bool(jnp.all(result.success))
    for i, stimulus in enumerate(protocol.stimuli):
        single = jn.simulate(jn.build_HH(stimulus), 60.0, solver=SOLVER)
        np.testing.assert_allclose(result.V[i], single.V, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="cannot join"):
        protocol + jn.Protocol([1.0], t1=10.0)
    with pytest.raises(TypeError, match="single neuron"):
        protocol.simulate(jn.pyloric_circuit(), solver=SOLVER)
    with pytest.raises(ValueError, match="distinct names"):
        jn.Protocol([1.0, 2.0], t1=10.0, names=["a", "a"])


def test_protocol_loss_checks_and_fits():
    protocol = jn.Protocol.steps([-2.0, 4.0, 10.0], onset=5.0, offset=55.0, t1=60.0)
    true = jn.build_HH()
    clean = jf.ProtocolLoss.from_model(true, protocol, dt=0.1)
    assert float(clean(true)) < 1e-20  # rounding only (jit and eager contract FMAs differently)
    r = clean.residuals(jn.set_parameters(true, {"K.g": 30.0}))
    assert r.shape == (3 * 601,)
    with pytest.raises(ValueError, match=r"expected \(3, 601\)"):
        jf.ProtocolLoss(protocol, np.zeros((3, 600)), dt=0.1)
    with pytest.raises(ValueError, match="sweep 'step 4'"):
        bad = np.zeros((3, 601))
        bad[1, 7] = np.nan
        jf.ProtocolLoss(protocol, bad, dt=0.1)
    loss = jf.ProtocolLoss.from_model(true, protocol, dt=0.1, noise_sd=1.0, seed=5)
    start = jn.set_parameters(true, {"Na.g": 100.0, "K.g": 43.0})
    result = jf.fit(start, loss, ["Na.g", "K.g"])
    assert result.converged
    assert max(result.relative_errors({"Na.g": 120.0, "K.g": 36.0}).values()) < 0.01, str(result)
    assert result.loss == pytest.approx(1.0, rel=0.1)  # the noise variance, 1 mV²


def test_protocol_works_in_float32():
    protocol = jn.Protocol.steps([0.0, 10.0], onset=5.0, offset=25.0, t1=30.0)
    model = jn.as_dtype(jn.build_HH(), jnp.float32)
    result = protocol.simulate(model, solver=SOLVER)
    assert result.V.dtype == jnp.float32
    single = jn.simulate(
        jn.as_dtype(jn.build_HH(protocol.stimuli[1]), jnp.float32), 30.0, solver=SOLVER
    )
    np.testing.assert_allclose(np.asarray(result.V[1]), np.asarray(single.V), atol=1e-3)
    assert jax.tree.leaves(protocol.stimuli[1])[0].dtype == jnp.float64  # stimuli untouched
